#!/usr/bin/env node
// Command-line entry of the package (`npx genesys-cloud-kafka <command>`).
import { parseSimulatorArgs, startSimulatorCli, SIMULATOR_USAGE } from '../simulator/cli';

const USAGE = `Usage: genesys-cloud-kafka <command>
Commands:
  simulator   start the Genesys Cloud simulator (see: genesys-cloud-kafka simulator --help)`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE + '\n');
    return command ? 0 : 2;
  }
  if (command !== 'simulator') {
    process.stderr.write(`unknown command "${command}"\n${USAGE}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(SIMULATOR_USAGE + '\n');
    return 0;
  }
  let opts;
  try {
    opts = parseSimulatorArgs(rest);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${SIMULATOR_USAGE}\n`);
    return 2;
  }
  const running = await startSimulatorCli(opts);
  process.stdout.write('Press Ctrl+C to stop.\n');
  await new Promise<void>((resolve) => {
    const stop = () => { running.stop().then(resolve, resolve); };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`${(err as Error).message}\n`); process.exitCode = 1; },
);
