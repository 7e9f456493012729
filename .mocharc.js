'use strict';
// Tests run from the TypeScript sources (transpile-only for speed; `npm run typecheck` checks types).
// The global fixture starts a real Kafka broker (unless KAFKA_BROKERS is set) and a Redis (unless REDIS_URL is set).
module.exports = {
  require: ['ts-node/register/transpile-only', 'test/fixtures/global.ts'],
  extension: ['ts'],
  spec: process.env.MOCHA_SPEC ? process.env.MOCHA_SPEC.split(',') : ['test/**/*.test.ts'],
  timeout: 30000,
  // A leaked handle must not hang CI; the handle-leak checks run in child processes of their own.
  exit: true,
  reporter: 'spec',
};
