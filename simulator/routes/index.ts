// Every protocol the simulator speaks, one module each. Each registers its routes on start.
import type { GenesysSimulator } from '../server';
import { registerOAuth } from './oauth';

export function registerRoutes(sim: GenesysSimulator): void {
  registerOAuth(sim);
}
