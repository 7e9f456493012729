// Compression codecs for kafkajs. gzip is built into kafkajs; lz4 is registered from the
// pure-JS `lz4js` package (block compressor only; we write the frame Kafka accepts) when it
// is installed. zstd has no maintained pure-JS compressor for Node 20 (node:zlib has zstd
// from Node 22.15/23.8), so it is not offered yet.
import { CompressionTypes, CompressionCodecs } from 'kafkajs';

export type CompressionName = 'none' | 'gzip' | 'lz4';
export const COMPRESSIONS: readonly CompressionName[] = ['none', 'gzip', 'lz4'];

let lz4Registered: boolean | null = null;

interface Lz4js {
  compressBound(n: number): number;
  compressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, hashTable: Uint32Array): number;
  decompress(src: Uint8Array): Uint8Array;
}

const LZ4_BLOCK = 4 << 20; // 4 MB blocks (BD 0x70); a Kafka batch is far smaller

/**
 * An LZ4 frame with independent blocks. lz4js' own frame writer leaves the block-independence
 * flag unset, which Kafka's broker refuses ("Dependent block stream is unsupported").
 */
export function lz4Frame(lz4: Lz4js, xxh32: (seed: number, b: Uint8Array, i: number, n: number) => number, src: Buffer): Buffer {
  const header = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x70, 0]); // magic, FLG(v1|indep), BD
  header[6] = (xxh32(0, header, 4, 2) >>> 8) & 0xff;
  const parts: Buffer[] = [header];
  for (let off = 0; off < src.length; off += LZ4_BLOCK) {
    const chunk = src.subarray(off, Math.min(src.length, off + LZ4_BLOCK));
    const out = new Uint8Array(lz4.compressBound(chunk.length));
    const n = lz4.compressBlock(chunk, out, 0, chunk.length, new Uint32Array(1 << 16));
    const size = Buffer.alloc(4);
    if (n === 0 || n >= chunk.length) {
      size.writeUInt32LE((0x80000000 | chunk.length) >>> 0); // stored uncompressed
      parts.push(size, chunk);
    } else {
      size.writeUInt32LE(n);
      parts.push(size, Buffer.from(out.buffer, out.byteOffset, n));
    }
  }
  parts.push(Buffer.alloc(4)); // end mark
  return Buffer.concat(parts);
}

/** Registers the lz4 codec once; false when `lz4js` is not installed. */
export function lz4Available(): boolean {
  if (lz4Registered !== null) return lz4Registered;
  try {
    const lz4 = require('lz4js') as Lz4js;
    const xxh = require('lz4js/xxh32') as { hash: (seed: number, b: Uint8Array, i: number, n: number) => number };
    (CompressionCodecs as Record<number, unknown>)[CompressionTypes.LZ4] = () => ({
      // kafkajs hands an Encoder whose .buffer is the uncompressed record batch body.
      async compress(encoder: { buffer: Buffer }): Promise<Buffer> { return lz4Frame(lz4, xxh.hash, encoder.buffer); },
      async decompress(buffer: Buffer): Promise<Buffer> { return Buffer.from(lz4.decompress(buffer)); },
    });
    lz4Registered = true;
  } catch {
    lz4Registered = false;
  }
  return lz4Registered;
}

/** The kafkajs compression type for a name; throws for a codec that is not available. */
export function compressionType(name: CompressionName | string): number {
  switch (name) {
    case 'none': case '': return CompressionTypes.None;
    case 'gzip': return CompressionTypes.GZIP;
    case 'lz4':
      if (!lz4Available()) throw new Error('lz4 compression needs the optional package lz4js (npm install lz4js)');
      return CompressionTypes.LZ4;
    default: throw new Error(`unknown compression "${name}"`);
  }
}
