// Shared setup for the poll tests: a simulator, the package's token manager and API client
// pointed at it, an event stream, and a recorder of what a poller handed off.
import { GenesysApiClient } from '../../lib/genesys/api-client';
import { TokenManager } from '../../lib/genesys/token-manager';
import type { PolledEvent, PollSource } from '../../lib/genesys/eventstream/poll-loop';
import { DEFAULT_CLIENT, GenesysSimulator, type SimulatorOptions } from '../../simulator/server';
import type { EventStreamsState, SimEventStream } from '../../simulator/routes/eventstreams';
import type { SimConversation } from '../../simulator/world';

export interface PollRig {
  sim: GenesysSimulator;
  streams: EventStreamsState;
  tokens: TokenManager;
  api: GenesysApiClient;
  close(): Promise<void>;
}

export async function startRig(opts: SimulatorOptions = {}): Promise<PollRig> {
  const sim = new GenesysSimulator(opts);
  await sim.start();
  const tokens = new TokenManager({ tokenUrl: `${sim.baseUrl}/oauth/token`, clientId: DEFAULT_CLIENT.id, clientSecret: DEFAULT_CLIENT.secret });
  const api = new GenesysApiClient({ apiBase: sim.baseUrl, tokens, retry: { initialMs: 20, maxMs: 100, minMs: 10 } });
  return {
    sim, tokens, api, streams: sim.state.eventstreams as EventStreamsState,
    async close() { api.close(); tokens.close(); await sim.stop(); },
  };
}

/** A stream that takes every interaction event. */
export function interactionStream(rig: PollRig, name = 'test-stream'): SimEventStream {
  return rig.streams.createStream(name, [
    { entityType: 'interaction', eventType: 'created' },
    { entityType: 'interaction', eventType: 'updated' },
  ]);
}

let convSeq = 0;
/** Starts `n` conversations in the simulator's world (one interaction 'created' event each). */
export function startConversations(sim: GenesysSimulator, n: number, patch: Partial<SimConversation> = {}): string[] {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = `conv-${process.pid}-${++convSeq}`;
    sim.world.start({
      id, mediaType: 'voice', direction: 'inbound', queueId: 'q1', queueName: 'Sales', customerAddress: '+15550100',
      startTime: new Date().toISOString(), ...patch,
    });
    ids.push(id);
  }
  return ids;
}

/** Records what a poller handed off; `hold` makes onPage wait (downstream not yet accepted). */
export class PageRecorder {
  readonly events: PolledEvent[] = [];
  readonly pages: { source: PollSource; count: number; at: number }[] = [];
  fail: Error | null = null;

  readonly onPage = async (events: PolledEvent[], source: PollSource): Promise<void> => {
    if (this.fail) throw this.fail;
    this.events.push(...events);
    this.pages.push({ source, count: events.length, at: Date.now() });
  };

  ids(): string[] {
    return this.events.map((e) => String((e.payload as { id?: unknown })?.id));
  }
}

/** Resolves when cond() holds; rejects after timeoutMs with the message. */
export async function waitFor(cond: () => boolean, timeoutMs = 5000, message = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
