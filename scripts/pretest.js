'use strict';
// Runs before `npm test`: makes a fresh machine ready (redis-server and Chromium from Debian's packages
// when missing and we are root; the Kafka broker jars from Maven Central), then builds dist/ (the
// end-to-end tests load the compiled package into a real Node-RED).
const { execFileSync, spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const has = (cmd, args = ['--version']) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;

const missing = [];
if (!process.env.REDIS_URL && !has('redis-server')) missing.push('redis-server');
if (!has(process.env.CHROMIUM_PATH || '/usr/bin/chromium')) missing.push('chromium');
if (!has('java', ['-version'])) missing.push('openjdk-17-jre-headless');
if (!has('mvn', ['-v'])) missing.push('maven');
if (missing.length) {
  if (process.getuid && process.getuid() === 0 && has('apt-get', ['--version'])) {
    console.log(`pretest: installing ${missing.join(' ')} with apt-get`);
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } else {
    console.error(`pretest: missing ${missing.join(', ')}; install them (Debian: apt-get install ${missing.join(' ')})`);
    process.exit(1);
  }
}
if (!process.env.KAFKA_BROKERS) {
  require('ts-node/register/transpile-only');
  require(path.join(root, 'harness', 'kafka.ts')).ensureKafkaJars(process.env.KAFKA_VERSION, (l) => console.log(`pretest: ${l}`));
}
execFileSync(process.execPath, [path.join(root, 'scripts', 'build.js')], { stdio: 'inherit' });
