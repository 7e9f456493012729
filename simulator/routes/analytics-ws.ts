// Simulator: realtime analytics WebSocket, guide 004.
import type { GenesysSimulator } from '../server';

export function registerAnalyticsSocket(_sim: GenesysSimulator): void {
  // filled in by the module's owner
}
