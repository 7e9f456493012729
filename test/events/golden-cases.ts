// Golden fixtures (test/events/golden/*.json), written by hand from lib/genesys/shapes.ts:
// {description, genesys, input, expected} or {..., error: {code, path, sourcePath?}}.
// expected omits raw_payload (it must be the input object itself). Derived event ids were computed
// with the documented formula in `derive` (sha1 of "<conversation id>|<JSON of the body>").
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { GenesysMeta } from '../../lib/events/message';

export interface GoldenCase {
  name: string;
  description: string;
  genesys: GenesysMeta;
  input: any;
  derive?: string;
  expected?: Record<string, unknown>;
  error?: { code: string; path: string; sourcePath?: string };
}

export const GOLDEN_DIR = path.join(__dirname, 'golden');

export function goldenCases(): GoldenCase[] {
  return fs.readdirSync(GOLDEN_DIR).filter((f) => f.endsWith('.json')).sort().map((f) => ({
    name: f.replace(/\.json$/, ''),
    ...JSON.parse(fs.readFileSync(path.join(GOLDEN_DIR, f), 'utf8')),
  }));
}
