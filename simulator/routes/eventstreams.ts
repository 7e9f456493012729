// Simulator: event stream poll, guide 002.
import type { GenesysSimulator } from '../server';

export function registerEventStreams(_sim: GenesysSimulator): void {
  // filled in by the module's owner
}
