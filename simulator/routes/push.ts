// Simulator: push registration and signed delivery, guide 000.
import type { GenesysSimulator } from '../server';

export function registerPushDelivery(_sim: GenesysSimulator): void {
  // filled in by the module's owner
}
