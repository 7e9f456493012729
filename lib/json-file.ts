// Small state files that must survive a crash whole: written to a temporary file, then renamed over
// the old one (a crash leaves the old or the new content, never half of either).
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Writes value as JSON to file atomically; false when the directory is not writable (callers degrade). */
export function writeJsonFileSync(file: string, value: unknown): boolean {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(value));
    fs.renameSync(tmp, file);
    return true;
  } catch {
    return false;
  }
}

/** The parsed JSON of file, or undefined when it is missing or not JSON. */
export function readJsonFileSync(file: string): unknown {
  try { return JSON.parse(fs.readFileSync(file, 'utf8')); } catch { return undefined; }
}
