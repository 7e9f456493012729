// kafkajs checksums every record batch with CRC32C in JavaScript, byte by byte: ~3 ns a byte, a
// tenth of its CPU for 1 KB events. @node-rs/crc32 (an optional dependency, SIMD/SSE4.2) does it
// in ~0.25 ns. kafkajs has no option for it, so before kafkajs is first loaded its CRC module is
// put in Node's module cache with the native function, after checking both agree on test data.
// Without the package (or if kafkajs moved the file) kafkajs keeps its own; the bytes on the
// wire are identical either way. Importing this module installs it; kafkajs-sink.ts imports it
// before kafkajs, which in the Kafka client thread is always the first load of kafkajs.
import Module from 'node:module';

export type Crc32cImplementation = 'native' | 'kafkajs';

/** Runs once, when this module loads (Node's module cache makes it once per thread). */
function installFastCrc32c(): Crc32cImplementation {
  let native: (b: Buffer) => number;
  let file: string;
  try {
    native = (require('@node-rs/crc32') as { crc32c: (b: Buffer) => number }).crc32c;
    file = require.resolve('kafkajs/src/protocol/recordBatch/crc32C/index.js');
  } catch {
    return 'kafkajs';
  }
  if (require.cache[file]) return 'kafkajs'; // kafkajs already holds its own: too late to swap
  const ours = (b: Buffer): number => native(b) >>> 0;
  const theirs = require('kafkajs/src/protocol/recordBatch/crc32C/crc32C.js') as (b: Buffer) => number;
  const samples = [Buffer.alloc(0), Buffer.from('123456789'), Buffer.from(Array.from({ length: 4099 }, (_, i) => (i * 131) & 0xff))];
  if (!samples.every((b) => ours(b) === theirs(b) >>> 0)) return 'kafkajs';
  const m = new Module(file, module);
  m.filename = file;
  m.loaded = true;
  m.exports = ours;
  require.cache[file] = m;
  return 'native';
}

/** Which CRC32C kafkajs uses in this thread (describe() reports it). */
export const crc32cImplementation: Crc32cImplementation = installFastCrc32c();
