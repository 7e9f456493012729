// `genesys-cloud-kafka simulator`: starts the Genesys Cloud simulator for the demo and prints the
// base URL, the OAuth client and the environment lines a genesys-config can use (${VAR} credentials).
// Traffic comes from simulator/traffic.ts (startTraffic) when that module is present.
import { GenesysSimulator, DEFAULT_CLIENT, type SimulatorMode } from './server';

export interface SimulatorCliOptions {
  port: number;
  host: string;
  mode: SimulatorMode;
  /** Conversations started per second by the traffic generator; 0 = API only. */
  rate: number;
  tokenLifetimeSeconds?: number;
  /** API requests per token per minute (the platform: 300); 0 = off. */
  apiRateLimit?: number;
  clientId: string;
  clientSecret: string;
}

export const SIMULATOR_USAGE = `Usage: genesys-cloud-kafka simulator [options]
  --port N              listen port (default 8990; 0 = any free port)
  --host H              listen address (default 127.0.0.1)
  --mode platform|guide behave like real Genesys Cloud (default) or as the guides describe
  --rate N              conversations per second from the traffic generator (default 5; 0 = none)
  --token-lifetime S    access token lifetime in seconds (default 86399)
  --api-rate-limit N    API requests per token per minute (default 300; 0 = off)
  --client-id ID        OAuth client id (default ${DEFAULT_CLIENT.id})
  --client-secret S     OAuth client secret (default ${DEFAULT_CLIENT.secret})`;

/** Parses the simulator's arguments; throws an Error with a one-line reason on bad input. */
export function parseSimulatorArgs(argv: string[]): SimulatorCliOptions {
  const o: SimulatorCliOptions = { port: 8990, host: '127.0.0.1', mode: 'platform', rate: 5, clientId: DEFAULT_CLIENT.id, clientSecret: DEFAULT_CLIENT.secret };
  const num = (flag: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < min) throw new Error(`${flag} needs a number >= ${min}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => (inline !== undefined ? inline : argv[++i]);
    switch (flag) {
      case '--port': o.port = num(flag, value(), 0); if (!Number.isInteger(o.port) || o.port > 65535) throw new Error('--port needs 0..65535'); break;
      case '--host': o.host = value() ?? ''; if (!o.host) throw new Error('--host needs an address'); break;
      case '--mode': {
        const m = value();
        if (m !== 'platform' && m !== 'guide') throw new Error('--mode needs platform or guide');
        o.mode = m;
        break;
      }
      case '--rate': o.rate = num(flag, value(), 0); break;
      case '--token-lifetime': o.tokenLifetimeSeconds = num(flag, value(), 1); break;
      case '--api-rate-limit': o.apiRateLimit = num(flag, value(), 0); break;
      case '--client-id': o.clientId = value() ?? ''; if (!o.clientId) throw new Error('--client-id needs a value'); break;
      case '--client-secret': o.clientSecret = value() ?? ''; if (!o.clientSecret) throw new Error('--client-secret needs a value'); break;
      default: throw new Error(`unknown option ${flag}`);
    }
  }
  return o;
}

export interface RunningSimulator {
  sim: GenesysSimulator;
  /** Stops traffic and the server. */
  stop(): Promise<void>;
}

/** Starts the simulator (and traffic when available) and writes the connection details to out. */
export async function startSimulatorCli(o: SimulatorCliOptions, out: (line: string) => void = (l) => process.stdout.write(l + '\n')): Promise<RunningSimulator> {
  const sim = new GenesysSimulator({
    port: o.port, host: o.host, mode: o.mode,
    clients: [{ id: o.clientId, secret: o.clientSecret }],
    tokenLifetimeSeconds: o.tokenLifetimeSeconds,
    rateLimitPerMinute: o.apiRateLimit,
  });
  const base = await sim.start();
  out(`Genesys Cloud simulator (${o.mode} mode) listening on ${base}`);
  out(`  token endpoint  ${base}/oauth/token`);
  out(`  API base        ${base}/api/v2/...`);
  out(`  client id       ${o.clientId}`);
  out(`  client secret   ${o.clientSecret}   (a simulator credential, not a real one)`);
  out('In genesys-config choose region "Custom base URL", or use ${VAR} credentials with:');
  out(`  export GENESYS_BASE_URL=${base}`);
  out(`  export GENESYS_CLIENT_ID=${o.clientId}`);
  out(`  export GENESYS_CLIENT_SECRET=${o.clientSecret}`);
  const traffic = o.rate > 0 ? await startTraffic(sim, o.rate, out) : null;
  return {
    sim,
    async stop() {
      try { await traffic?.stop(); } finally { await sim.stop(); }
    },
  };
}

/** The traffic generator is optional: an API-only simulator still serves the demo's REST paths. */
async function startTraffic(sim: GenesysSimulator, rate: number, out: (line: string) => void): Promise<{ stop(): unknown } | null> {
  let mod: any;
  try {
    mod = require('./traffic');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && /['"]\.\/traffic['"]/.test((err as Error).message)) {
      out('Traffic: generator not available (simulator/traffic is missing); serving the API only.');
      return null;
    }
    throw err;
  }
  if (typeof mod.startTraffic !== 'function') {
    out('Traffic: simulator/traffic does not export startTraffic(); serving the API only.');
    return null;
  }
  const handle = await mod.startTraffic(sim, { rate });
  out(`Traffic: ${rate} conversation(s) per second`);
  return { stop: () => (typeof handle?.stop === 'function' ? handle.stop() : undefined) };
}
