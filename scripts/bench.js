'use strict';
// `npm run bench`: runs bench/run.ts (TypeScript, through ts-node) in a child process and passes its
// exit code on. The bench builds its own snapshot of the package, so dist/ is left as it is.
// Options are environment variables, see bench/run.ts (BENCH_QUICK=1, BENCH_RUNS, BENCH_ONLY,
// BENCH_PROFILE=1, KAFKA_BROKERS, REDIS_URL).
const { spawn } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(root, 'bench', 'run.ts'), ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, TS_NODE_PROJECT: path.join(root, 'test', 'tsconfig.json') },
});
// Ctrl-C reaches the child through the terminal's process group; the child stops what it started.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
