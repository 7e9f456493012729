// Simulator: notification channels (HTTP + WebSocket), guide 001 / platform.
import type { GenesysSimulator } from '../server';

export function registerNotificationChannels(_sim: GenesysSimulator): void {
  // filled in by the module's owner
}
