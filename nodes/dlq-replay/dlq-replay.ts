// dlq-replay: reads the DLQ topic back after a fix and re-injects the original events (same
// payload type, key, original topic, headers and msg.genesys) so that they flow again, usually
// into kafka-out. Offsets are committed once the replayed events are settled (stored or
// dead-lettered again), so an interrupted replay resumes where it stopped.
import type { NodeAPI, Node, NodeDef, NodeMessageInFlow } from 'node-red';
import { DlqReplayer, type ReplayStart, type ReplaySummary } from '../../lib/kafka/dlq-replay';
import { DEFAULT_DLQ_TOPIC, type ParsedDeadLetter } from '../../lib/kafka/dlq-record';
import { toKafkaJsConfig, type KafkaClientSettings } from '../../lib/kafka/config';
import { deliveryTracker } from '../../lib/ingest/delivery-tracker';
import { nodeMetrics, releaseNode } from '../../lib/metrics';

interface DlqReplayDef extends NodeDef {
  broker: string;
  topic?: string;
  groupId?: string;
  from?: ReplayStart;
  fromTime?: string;
  reasons?: string;
  commitAfter?: 'settled' | 'sent';
  settleTimeoutMs?: string | number;
  autoStart?: boolean;
}

interface ReplayOverrides { from?: ReplayStart; fromTime?: string | number; reasons?: string | string[]; groupId?: string }

const STARTS: ReplayStart[] = ['committed', 'earliest', 'timestamp'];

function parseTime(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v !== 'string' || v.trim() === '') return undefined;
  const n = /^\d+$/.test(v.trim()) ? Number(v) : Date.parse(v);
  return Number.isFinite(n) ? n : undefined;
}

const reasonSet = (v: unknown): Set<string> =>
  new Set((Array.isArray(v) ? v : String(v ?? '').split(/[\s,]+/)).map((r) => String(r).trim()).filter(Boolean));

export = function (RED: NodeAPI): void {
  function DlqReplayNode(this: Node, config: DlqReplayDef) {
    RED.nodes.createNode(this, config);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- Node-RED's usual node handle for callbacks
    const node = this;
    const t = (key: string, vars?: Record<string, string | number>): string => RED._(key, vars as any);
    const broker = RED.nodes.getNode(config.broker) as unknown as { settings?: KafkaClientSettings } | null;
    const settleTimeoutMs = Math.max(1000, Number(config.settleTimeoutMs) || 30_000);
    const metrics = nodeMetrics(node, ['sent']);
    let running: { replayer: DlqReplayer; done: Promise<void> } | null = null;
    let closing = false;

    node.status({ fill: 'grey', shape: 'ring', text: t('dlq-replay.status.idle') });

    function toMsg(d: ParsedDeadLetter, deliveryId?: string): any {
      const msg: any = { _msgid: RED.util.generateId(), payload: d.payload, key: d.key ?? undefined };
      if (d.context.originalTopic) msg.topic = d.context.originalTopic;
      if (Object.keys(d.headers).length > 0) msg.headers = d.headers;
      if (d.genesys || deliveryId) msg.genesys = { ...(d.genesys ?? {}), ...(deliveryId ? { deliveryId } : {}) };
      msg.replay = { ...d.context, dlq: d.position };
      return msg;
    }

    async function deliver(batch: ParsedDeadLetter[]): Promise<void> {
      metrics.sent += batch.length;
      if (config.commitAfter === 'sent') {
        for (const d of batch) node.send([toMsg(d), null]);
        return;
      }
      const { ids, result } = deliveryTracker.open(batch.length, settleTimeoutMs);
      batch.forEach((d, i) => node.send([toMsg(d, ids[i]), null]));
      const r = await result;
      if (!r.ok) throw new Error(t('dlq-replay.errors.unsettled', { missing: r.expected - r.settled, total: r.expected, seconds: Math.round(settleTimeoutMs / 1000) }));
    }

    function start(over: ReplayOverrides, msg?: NodeMessageInFlow): void {
      if (running) { node.warn(t('dlq-replay.errors.running')); return; }
      if (!broker?.settings) { node.error(t('dlq-replay.errors.no-broker'), msg); node.status({ fill: 'red', shape: 'dot', text: t('dlq-replay.errors.no-broker') }); return; }
      const from = STARTS.includes(over.from as ReplayStart) ? over.from as ReplayStart : config.from ?? 'committed';
      const fromTime = parseTime(over.fromTime ?? config.fromTime);
      if (from === 'timestamp' && fromTime === undefined) { node.error(t('dlq-replay.errors.bad-time'), msg); return; }
      const replayer = new DlqReplayer(toKafkaJsConfig(broker.settings), {
        topic: (config.topic || '').trim() || DEFAULT_DLQ_TOPIC,
        groupId: over.groupId || (config.groupId || '').trim() || 'genesys-dlq-replay',
        from,
        fromTime,
        reasons: reasonSet(over.reasons ?? config.reasons),
        deliver,
      });
      let lastStatus = 0;
      replayer.on('progress', (n: number, total: number) => {
        if (Date.now() - lastStatus < 250) return;
        lastStatus = Date.now();
        node.status({ fill: 'blue', shape: 'dot', text: t('dlq-replay.status.replaying', { n, total }) });
      });
      node.status({ fill: 'blue', shape: 'ring', text: t('dlq-replay.status.starting') });
      const done = replayer.run().then((summary: ReplaySummary) => {
        node.status({ fill: 'green', shape: 'dot', text: t(summary.stopped ? 'dlq-replay.status.stopped' : 'dlq-replay.status.done', { replayed: summary.replayed, skipped: summary.skipped }) });
        if (!closing) node.send([null, { _msgid: RED.util.generateId(), topic: 'dlq-replay', payload: summary }]);
      }, (err: Error) => {
        node.status({ fill: 'red', shape: 'dot', text: String(err.message).slice(0, 80) });
        node.error(t('dlq-replay.errors.failed', { error: err.message }), msg ?? {});
      }).finally(() => { running = null; });
      running = { replayer, done };
    }

    node.on('input', (msg: NodeMessageInFlow, _send, done) => {
      const m = msg as any;
      if (m.payload === 'stop') {
        running?.replayer.stop();
        done();
        return;
      }
      const over = (m.replay && typeof m.replay === 'object' ? m.replay : {}) as ReplayOverrides;
      start(over, msg);
      done();
    });

    if (config.autoStart) {
      // After the flows started, so that the replay output's targets are ready.
      const timer = setTimeout(() => start({}), 500);
      node.on('close', () => clearTimeout(timer));
    }

    node.on('close', (removed: boolean, done: () => void) => {
      closing = true;
      releaseNode(node.id, removed);
      const r = running;
      if (!r) { done(); return; }
      r.replayer.stop();
      let timer: NodeJS.Timeout | undefined;
      Promise.race([r.done, new Promise((res) => { timer = setTimeout(res, 10_000); })]).finally(() => { clearTimeout(timer); done(); });
    });
  }

  RED.nodes.registerType('dlq-replay', DlqReplayNode);

  // The editor's button: starts a deployed replay node like an input of "start".
  RED.httpAdmin.post('/dlq-replay/:id/start', RED.auth.needsPermission('dlq-replay.write'), (req, res) => {
    const target = RED.nodes.getNode(String(req.params.id)) as Node | null;
    if (!target || (target as any).type !== 'dlq-replay') { res.sendStatus(404); return; }
    target.receive({ payload: 'start' } as any);
    res.sendStatus(200);
  });
};
