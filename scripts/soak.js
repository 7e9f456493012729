'use strict';
// `npm run soak`: the long form of the fault suite (test/faults/faults.test.ts) with the figures:
// 2,000 events/s per source for 60 s per scenario, a 30 s Kafka outage, a 60 s token endpoint failure,
// 30 s Redis outage and network stall, a WebSocket drop every 10 s. Prepares the machine like `npm test`
// (scripts/pretest.js: redis-server, Kafka jars, dist/), then runs the scenarios one after the other
// against a Kafka broker of its own (or KAFKA_BROKERS) and prints each scenario's figures.
//   FAULTS_RATE=1000 FAULTS_SECONDS=30 npm run soak     other figures
//   npm run soak -- --grep Kafka                        one scenario (mocha options pass through)
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const env = { ...process.env, FAULTS_PROFILE: 'soak', MOCHA_SPEC: 'test/faults/faults.test.ts' };

if (!process.env.SOAK_SKIP_PREPARE) {
  const prepared = spawnSync(process.execPath, [path.join(root, 'scripts', 'pretest.js')], { stdio: 'inherit', cwd: root, env });
  if (prepared.status !== 0) process.exit(prepared.status ?? 1);
}
const mocha = spawnSync(process.execPath, [require.resolve('mocha/bin/mocha.js'), ...process.argv.slice(2)], { stdio: 'inherit', cwd: root, env });
process.exit(mocha.status ?? 1);
