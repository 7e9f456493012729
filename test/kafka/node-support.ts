// Flows and collectors for the kafka-broker / kafka-out node tests.
import helper from 'node-red-node-test-helper';

export const brokerNode = require('../../nodes/kafka-broker/kafka-broker');
export const kafkaOutNode = require('../../nodes/kafka-out/kafka-out');

export interface OutFlowOptions {
  brokers: string;
  topic?: string;
  broker?: Record<string, unknown>;
  out?: Record<string, unknown>;
}

/**
 * tab + kafka-broker + kafka-out → 'acked' helper, Catch(kafka-out) → 'caught' helper.
 * Flow nodes get x/y (without them Node-RED parses a node as a config node) and ids that
 * differ from type names (a config-parsed node whose id equals its type looks self-referencing).
 */
export function outFlow(o: OutFlowOptions): any[] {
  return placed([
    { id: 'tab', type: 'tab', label: 'kafka' },
    { id: 'broker', type: 'kafka-broker', name: 'k', brokers: o.brokers, clientId: 'kafka-out-test', connectionTimeout: 1000, requestTimeout: 5000, ...o.broker },
    { id: 'out', type: 'kafka-out', z: 'tab', broker: 'broker', topic: o.topic ?? '', keyProperty: 'key', headersFromMsg: true, lingerMs: 5,
      maxBatchRecords: 500, maxQueued: 10000, retries: 3, deliveryTimeout: 30, flushTimeout: 10, wires: [['acked']], ...o.out },
    { id: 'acked', type: 'helper', z: 'tab' },
    { id: 'catcher', type: 'catch', z: 'tab', scope: ['out'], uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'tab' },
  ]);
}

function placed(flow: any[]): any[] {
  return flow.map((n, i) => (n.z ? { x: 100 + 10 * i, y: 100, ...n } : n));
}

export function collect(id: string): any[] {
  const got: any[] = [];
  helper.getNode(id).on('input', (m: any) => got.push(m));
  return got;
}

export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Every status a node showed (the helper's status is a spy). */
export function statuses(id: string): Array<{ fill?: string; shape?: string; text?: string }> {
  return (helper.getNode(id) as any).status.args.map((a: any[]) => a[0]);
}

/** Everything the runtime logged during the test, as one string (for secret checks). */
export function allLogText(): string {
  const spy = helper.log() as any;
  return JSON.stringify(spy.args, (_k, v) => (v instanceof Error ? `${v.name}: ${v.message}` : v));
}
