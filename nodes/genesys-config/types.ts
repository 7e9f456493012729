// What a genesys-config node offers the nodes that use it (type-only: import with `import type`).
//
//   const cfg = RED.nodes.getNode(config.genesys) as GenesysConfigNode | null;
//   cfg.register(this);                                  // status fan-out; starts the login
//   const res = await cfg.api.request({ method: 'GET', path: `/api/v2/conversations/${id}` });
//   this.on('close', (removed, done) => cfg.deregister(this, done));
import type { Node } from 'node-red';
import type { TokenManager, TokenStatus } from '../../lib/genesys/token-manager';
import type { GenesysApiClient } from '../../lib/genesys/api-client';
import type { GenesysEndpoints } from '../../lib/genesys/regions';

export interface GenesysConfigNode extends Node {
  /** The shared OAuth token manager (a TokenProvider); emits 'state' with TokenStatus. */
  readonly tokenManager: TokenManager;
  /** The shared REST client (a GenesysApi) on the region's API host. */
  readonly api: GenesysApiClient;
  /** Resolved login/API hosts; null when the settings are invalid (then configError says why). */
  readonly endpoints: GenesysEndpoints | null;
  readonly configError: string | null;
  /** The token state users see (never the token). */
  readonly tokenStatus: TokenStatus;
  /** Adds a node to the status fan-out; the first user starts the login. */
  register(user: Node): void;
  /** Removes a node from the fan-out; calls done (for use inside a close handler). */
  deregister(user: Node, done?: () => void): void;
}
