// Every protocol the simulator speaks, one module each. Each registers its routes on construction.
import type { GenesysSimulator } from '../server';
import { registerOAuth } from './oauth';
import { registerConversations } from './conversations';
import { registerNotificationChannels } from './channels';
import { registerAnalyticsSocket } from './analytics-ws';
import { registerPushDelivery } from './push';
import { registerEventStreams } from './eventstreams';
import { registerIngest } from './ingest';

export function registerRoutes(sim: GenesysSimulator): void {
  registerOAuth(sim);
  registerConversations(sim);
  registerNotificationChannels(sim);
  registerAnalyticsSocket(sim);
  registerPushDelivery(sim);
  registerEventStreams(sim);
  registerIngest(sim);
}
