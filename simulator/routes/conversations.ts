// Simulator: GET conversation and the conversation details query, real platform.
import type { GenesysSimulator } from '../server';

export function registerConversations(_sim: GenesysSimulator): void {
  // filled in by the module's owner
}
