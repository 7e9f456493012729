// Cross-check with the simulator: every rendering it publishes for a conversation state maps to the
// same normalized state, media, queue and agent (the simulator's renderers are the shapes' contract).
import * as assert from 'node:assert/strict';
import { normalizeEvent } from '../../lib/events/normalize';
import type { MediaType } from '../../lib/genesys/shapes';
import type { SimConversation, SimState } from '../../simulator/world';
import { renderQueueConversationEvent } from '../../simulator/routes/channels';
import { renderAnalyticsConversation, renderConversation } from '../../simulator/routes/conversation-render';
import { renderInteraction } from '../../simulator/routes/push';
import { renderEvent } from '../../simulator/routes/analytics-ws';

const EXPECTED_STATE: Record<SimState, string> = {
  queued: 'queued', alerting: 'alerting', connected: 'connected', held: 'held', wrapup: 'wrapup', ended: 'disconnected',
};

function conversation(state: SimState, mediaType: MediaType): SimConversation {
  const c: SimConversation = {
    id: `conv-sim-${state}-${mediaType}`, mediaType, direction: 'inbound', queueId: 'q-sim', queueName: 'Sim Queue',
    customerAddress: 'tel:+15550000001', state, startTime: '2024-06-01T09:00:00.000Z', seq: 3, transfers: 0,
  };
  if (state !== 'queued') Object.assign(c, { agentId: 'u-sim', agentName: 'Sim Agent' });
  if (['connected', 'held', 'wrapup', 'ended'].includes(state)) c.connectedTime = '2024-06-01T09:00:30.000Z';
  if (state === 'wrapup' || state === 'ended') c.wrapupStartTime = '2024-06-01T09:05:00.000Z';
  if (state === 'ended') c.endTime = '2024-06-01T09:05:40.000Z';
  return c;
}

const RENDERINGS: { name: string; source: string; render: (c: SimConversation) => unknown }[] = [
  { name: 'notification (platform)', source: 'notification', render: (c) => ({ topicName: `v2.routing.queues.${c.queueId}.conversations`, version: '2', eventBody: renderQueueConversationEvent(c, false) }) },
  { name: 'notification (guide)', source: 'notification', render: (c) => ({ topicName: `v2.routing.queues.${c.queueId}.conversations`, version: '2', eventBody: renderQueueConversationEvent(c, true) }) },
  { name: 'GET conversation (backfill)', source: 'backfill', render: (c) => renderConversation(c) },
  { name: 'details query', source: 'details-query', render: (c) => renderAnalyticsConversation(c) },
  { name: 'push', source: 'webhook', render: (c) => ({ data: renderInteraction(c, '2024-06-01T09:06:00.000Z'), metadata: { eventId: `e-${c.id}`, sequence: c.seq } }) },
  { name: 'analytics socket', source: 'analytics-ws', render: (c) => renderEvent({ kind: c.state === 'ended' ? 'end' : 'update', conversation: c, at: '2024-06-01T09:06:00.000Z' }) },
];

describe('normalize: simulator renderings', () => {
  for (const r of RENDERINGS) {
    it(`${r.name}: every conversation state and media type maps to the same normalized state`, () => {
      for (const state of Object.keys(EXPECTED_STATE) as SimState[]) {
        for (const media of ['voice', 'chat', 'email', 'sms'] as MediaType[]) {
          const c = conversation(state, media);
          const out = normalizeEvent(r.render(c), { source: r.source as any, receivedAt: '2024-06-01T09:06:01.000Z' });
          assert.ok(out.ok, `${state}/${media}: ${out.ok ? '' : out.error.message}`);
          const e = out.event;
          assert.equal(e.state, EXPECTED_STATE[state], `${r.name} ${state}/${media} state`);
          assert.equal(e.interaction_type, media, `${r.name} ${state}/${media} type`);
          assert.equal(e.conversation_id, c.id);
          assert.equal(e.queue_id, 'q-sim');
          assert.equal(e.agent_id, state === 'queued' ? null : 'u-sim', `${r.name} ${state}/${media} agent`);
          assert.match(e.partition_path, new RegExp(`^2024/06/01/${media}$`));
        }
      }
    });
  }
});
