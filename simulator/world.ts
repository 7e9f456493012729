// The simulator's model of a contact center: conversations that change state over time.
// Every delivery path (notification channels, push, analytics socket, event stream, details
// query, GET conversation) renders the same changes in its own shape, so a test can compare
// what reached Kafka with what the simulator published (see ledger.ts).
import { EventEmitter } from 'node:events';
import type { MediaType } from '../lib/genesys/shapes';

export type SimState = 'queued' | 'alerting' | 'connected' | 'held' | 'wrapup' | 'ended';

export interface SimConversation {
  id: string;
  mediaType: MediaType;
  direction: 'inbound' | 'outbound';
  queueId: string;
  queueName: string;
  agentId?: string;
  agentName?: string;
  customerAddress: string;
  state: SimState;
  startTime: string;
  connectedTime?: string;
  wrapupStartTime?: string;
  endTime?: string;
  /** Increases by one on every change of this conversation. */
  seq: number;
  transfers: number;
  /** Unknown extra fields the platform may add (schema drift), carried into every shape. */
  drift?: Record<string, unknown>;
}

/** How a delivery path should mistreat this change (set by the traffic generator; each route honours it). */
export interface DeliveryFlags {
  /** Deliver this event twice (same event id). */
  duplicate?: boolean;
  /** Hold this event back by ms so a later change of the same conversation overtakes it (out of order). */
  delayMs?: number;
  /** Deliver a broken rendering of this event (invalid JSON or a body missing required fields). */
  malformed?: boolean;
}

export interface ConversationChange {
  kind: 'start' | 'update' | 'end';
  /** A frozen copy of the conversation after the change. */
  conversation: Readonly<SimConversation>;
  at: string;
  /** Optional delivery faults for this change; absent means deliver once, in order, well formed. */
  delivery?: DeliveryFlags;
}

export class ConversationWorld extends EventEmitter {
  readonly conversations = new Map<string, SimConversation>();

  /** Adds a conversation and publishes its start. */
  start(conv: Omit<SimConversation, 'seq' | 'transfers' | 'state'> & { state?: SimState }, delivery?: DeliveryFlags): SimConversation {
    const c: SimConversation = { state: 'queued', ...conv, seq: 1, transfers: 0 };
    this.conversations.set(c.id, c);
    this.publish('start', c, delivery);
    return c;
  }

  /** Applies a change and publishes it; state 'ended' publishes an end. */
  update(id: string, patch: Partial<Omit<SimConversation, 'id' | 'seq'>>, delivery?: DeliveryFlags): SimConversation {
    const c = this.conversations.get(id);
    if (!c) throw new Error(`no conversation ${id}`);
    Object.assign(c, patch);
    c.seq++;
    this.publish(c.state === 'ended' ? 'end' : 'update', c, delivery);
    return c;
  }

  /** Changes a conversation without publishing (the platform missed telling anyone: zombies). */
  silentUpdate(id: string, patch: Partial<SimConversation>): void {
    const c = this.conversations.get(id);
    if (c) Object.assign(c, patch);
  }

  get(id: string): SimConversation | undefined {
    return this.conversations.get(id);
  }

  private publish(kind: ConversationChange['kind'], c: SimConversation, delivery?: DeliveryFlags): void {
    const change: ConversationChange = { kind, conversation: Object.freeze({ ...c, drift: c.drift ? { ...c.drift } : undefined }), at: new Date().toISOString() };
    if (delivery) change.delivery = delivery;
    this.emit('change', change);
  }
}
