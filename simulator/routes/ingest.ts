// Simulator: events ingest, guide 003.
import type { GenesysSimulator } from '../server';

export function registerIngest(_sim: GenesysSimulator): void {
  // filled in by the module's owner
}
