// Node status badges for the Kafka nodes (i18n keys; Node-RED translates "ns:key" texts).
import type { ConnectionState, ProducerStatus } from './producer';

export interface NodeStatusBadge { fill: 'red' | 'green' | 'yellow' | 'blue' | 'grey'; shape: 'ring' | 'dot'; text: string }

type Translate = (key: string) => string;
const asIs: Translate = (k) => k;

// "node-red:" keys go to the editor untranslated (it knows them); the package's keys are
// translated in the runtime because a user node's editor namespace does not hold them.

/** The shared status the broker fans out to users that do not draw their own. */
export function brokerStatus(state: ConnectionState, error?: string, translate: Translate = asIs): NodeStatusBadge {
  switch (state) {
    case 'connected': return { fill: 'green', shape: 'dot', text: 'node-red:common.status.connected' };
    case 'connecting': return { fill: 'yellow', shape: 'ring', text: 'node-red:common.status.connecting' };
    case 'disconnected': return { fill: 'red', shape: 'ring', text: translate('kafka-broker.status.unreachable') };
    case 'error': return { fill: 'red', shape: 'dot', text: `${translate('kafka-broker.status.error')}: ${(error ?? '').slice(0, 60)}` };
    default: return { fill: 'grey', shape: 'ring', text: 'node-red:common.status.disconnected' };
  }
}

/**
 * kafka-out's own badge: queue-full backpressure first (the user must see why messages wait),
 * then connection trouble, then the last send error, then the rate.
 */
export function producerStatus(s: ProducerStatus, lastFailure?: string, translate: Translate = asIs): NodeStatusBadge {
  if (s.waiting > 0) return { fill: 'yellow', shape: 'ring', text: `${translate('kafka-out.status.queue-full')} (${s.waiting})` };
  if (s.state === 'disconnected') return { fill: 'red', shape: 'ring', text: translate('kafka-out.status.unreachable') + (s.queued ? ` (${s.queued} ${translate('kafka-out.status.queued')})` : '') };
  if (s.state === 'error') return { fill: 'red', shape: 'dot', text: `${translate('kafka-out.status.error')}: ${(s.error ?? '').slice(0, 60)}` };
  if (s.state === 'connecting' || s.state === 'idle') return { fill: 'yellow', shape: 'ring', text: 'node-red:common.status.connecting' };
  if (lastFailure) return { fill: 'red', shape: 'dot', text: `${translate('kafka-out.status.error')}: ${lastFailure.slice(0, 60)}` };
  const rate = s.rate >= 10 ? Math.round(s.rate) : Math.round(s.rate * 10) / 10;
  return { fill: 'green', shape: 'dot', text: `${rate} ${translate('kafka-out.status.rate')}${s.queued ? ` · ${s.queued} ${translate('kafka-out.status.queued')}` : ''}` };
}
