// What the example flows need around a headless Node-RED: the Genesys simulator with live traffic
// and the environment variables the examples read (whole-value ${VAR} settings), plus the flows.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort } from '../../../harness/kafka';
import { DEFAULT_CLIENT, GenesysSimulator } from '../../../simulator/server';
import { TrafficGenerator, type TrafficOptions } from '../../../simulator/traffic';
import { kafkaBrokers, redisUrl } from '../../fixtures/env';

export const root = path.resolve(__dirname, '..', '..', '..');
export const flowsDir = path.join(root, 'flows');
export const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { name: string; 'node-red': { nodes: Record<string, string> } };

export type FlowNode = Record<string, any> & { id: string; type: string };

/** Every example file under flows/ (relative paths, subfolders included). */
export function exampleFiles(dir = flowsDir, prefix = ''): string[] {
  const out: string[] = [];
  for (const name of fs.readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    if (fs.statSync(full).isDirectory()) out.push(...exampleFiles(full, `${prefix}${name}/`));
    else if (name.endsWith('.json')) out.push(`${prefix}${name}`);
  }
  return out;
}

export function loadExample(file: string): FlowNode[] {
  return JSON.parse(fs.readFileSync(path.join(flowsDir, file), 'utf8')) as FlowNode[];
}

export interface ExampleEnv {
  sim: GenesysSimulator;
  traffic: TrafficGenerator;
  /** Node-RED's port, chosen up front because WEBHOOK_PUBLIC_URL must name it. */
  port: number;
  env: Record<string, string>;
  /** True when the id is a conversation of this run's simulator (the Kafka topics are shared). */
  ours(conversationId: string | null | undefined): boolean;
  stop(): Promise<void>;
}

export async function startExampleEnv(traffic: TrafficOptions = {}): Promise<ExampleEnv> {
  const sim = new GenesysSimulator();
  await sim.start();
  // A random seed: conversation ids must not repeat across runs (shared topics, shared Redis).
  const gen = new TrafficGenerator(sim.world, {
    seed: randomBytes(4).readUInt32LE(0), ratePerSecond: 60, timeFactor: 0.01, queues: 3, agents: 6, maxConcurrent: 30, ...traffic,
  });
  const port = await freePort();
  const env: Record<string, string> = {
    GENESYS_REGION: 'custom',
    GENESYS_BASE_URL: sim.baseUrl,
    GENESYS_CLIENT_ID: DEFAULT_CLIENT.id,
    GENESYS_CLIENT_SECRET: DEFAULT_CLIENT.secret,
    GENESYS_QUEUE_IDS: gen.queues.map((q) => q.id).join(','),
    GENESYS_USER_IDS: gen.agents.map((a) => a.id).join(','),
    KAFKA_BROKERS: kafkaBrokers().join(','),
    REDIS_URL: redisUrl(),
    WEBHOOK_SECRET: randomBytes(24).toString('base64'),
    WEBHOOK_PUBLIC_URL: `http://127.0.0.1:${port}`,
  };
  return {
    sim, traffic: gen, port, env,
    ours: (id) => !!id && sim.world.get(id) !== undefined,
    async stop() {
      await gen.stop();
      await sim.stop();
    },
  };
}
