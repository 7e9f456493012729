// kafka-broker config node: the connection settings and ONE shared producer for every
// kafka-out and dlq node that uses it (connected on first use, disconnected after the last
// user's close), fanning the connection status out to its users like core MQTT does.
import type { NodeAPI, Node, NodeDef } from 'node-red';
import type { Request, Response } from 'express';
import {
  settingsFromNode, validateSettings, describeSettings, parseBrokers,
  type BrokerNodeProperties, type BrokerNodeCredentials, type KafkaClientSettings,
} from '../../lib/kafka/config';
import {
  createSharedProducer, type SharedProducer, type KafkaBrokerApi, type BrokerUser,
  type ProducerHandle, type ProducerHandleOptions, type FlushReport, type ConnectionState,
} from '../../lib/kafka/producer';
import { testConnection, ensureTopics, redact } from '../../lib/kafka/admin';
import { TopicCreator } from '../../lib/kafka/topic-creator';
import { brokerStatus } from '../../lib/kafka/status';
import { health, nodeMetrics, releaseNode } from '../../lib/metrics';

interface KafkaBrokerDef extends NodeDef, BrokerNodeProperties {
  autoCreateTopics?: boolean;
  topicPartitions?: string | number;
  topicReplicationFactor?: string | number;
}

type KafkaBrokerNode = Node<BrokerNodeCredentials> & KafkaBrokerApi & {
  users: Record<string, BrokerUser>;
  settings: KafkaClientSettings;
};

const CREDENTIALS = {
  username: { type: 'text' }, password: { type: 'password' },
  ca: { type: 'text' }, cert: { type: 'text' }, key: { type: 'password' }, passphrase: { type: 'password' },
} as const;

export = function (RED: NodeAPI): void {
  function KafkaBrokerNode(this: KafkaBrokerNode, config: KafkaBrokerDef) {
    RED.nodes.createNode(this, config);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- Node-RED's usual node handle for callbacks
    const node = this;
    const t = (key: string): string => RED._(key);
    node.users = {};
    node.settings = settingsFromNode(config, node.credentials || {});
    const problem = validateSettings(node.settings);
    if (problem) node.error(RED._('kafka-broker.errors.config', { error: problem }));
    const ownStatus = new Set<string>();
    const releases = new Set<Promise<FlushReport>>();
    let producer: SharedProducer | null = null;
    const partitions = Math.max(1, Number(config.topicPartitions) || 3);
    const replicationFactor = Math.max(1, Number(config.topicReplicationFactor) || 1);
    const topics = config.autoCreateTopics
      ? new TopicCreator((topic) => ensureTopics(node.settings, [{ topic, partitions, replicationFactor }]))
      : null;

    const metrics = nodeMetrics(node, []);
    let connection: 'never' | 'up' | 'lost' = 'never';
    const fanOut = (state: ConnectionState): void => {
      // A reconnect: connected again after losing an established connection.
      if (state === 'connected' && connection === 'lost') metrics.reconnect('connection-lost');
      if (state === 'connected') connection = 'up';
      else if ((state === 'disconnected' || state === 'error') && connection === 'up') connection = 'lost';
      const s = brokerStatus(state, producer?.lastError, t);
      for (const [id, user] of Object.entries(node.users)) if (!ownStatus.has(id)) user.status(s);
    };

    function shared(): SharedProducer {
      if (!producer) {
        producer = createSharedProducer(node.settings, {
          thread: config.clientThread === 'main' ? 'main' : 'worker',
          log: (level, text) => {
            const safe = redact(text, node.settings);
            if (level === 'warn') node.warn(safe); else if (level === 'info') node.log(safe); else node.debug(safe);
          },
        });
        producer.on('state', fanOut);
      }
      return producer;
    }

    node.acquire = (user: BrokerUser, options: ProducerHandleOptions = {}): ProducerHandle => {
      node.users[user.id] = user;
      if (options.ownStatus) ownStatus.add(user.id); else ownStatus.delete(user.id);
      const p = shared();
      const handle = p.acquire(user.id, options);
      if (!options.ownStatus) user.status(brokerStatus(p.state, p.lastError, t));
      return topics ? topics.wrap(handle) : handle;
    };

    // Ready when the shared producer is connected; a broker nobody uses has nothing to connect.
    const unregisterHealth = health.register(node.id, {
      type: 'kafka-broker', name: config.name || node.settings.brokers.join(','),
      check: () => (!producer || producer.users === 0 ? { ready: true, detail: 'idle (no users)' }
        : { ready: producer.state === 'connected', detail: producer.state + (producer.lastError ? `: ${redact(producer.lastError, node.settings)}` : '') }),
    });

    node.release = (user: BrokerUser, flushTimeoutMs = 10_000): Promise<FlushReport> => {
      delete node.users[user.id];
      ownStatus.delete(user.id);
      const release = producer ? producer.release(user.id, flushTimeoutMs) : Promise.resolve({ sent: 0, failed: 0, pending: 0 });
      releases.add(release);
      return release.finally(() => releases.delete(release));
    };

    node.on('close', (removed: boolean, done: () => void) => {
      unregisterHealth();
      releaseNode(node.id, removed);
      // Users normally release first; whatever is still held gets a short last flush.
      const leftovers = Object.values(node.users).map((u) => node.release(u, 2000));
      Promise.allSettled([...releases, ...leftovers]).then(() => done(), () => done());
    });
  }

  RED.nodes.registerType('kafka-broker', KafkaBrokerNode as any, { credentials: CREDENTIALS as any });

  // Editor "Test connection": settings from the dialog; unchanged secrets come from the stored credentials.
  RED.httpAdmin.post('/kafka-broker/test', RED.auth.needsPermission('kafka-broker.write'), (req: Request, res: Response) => {
    const body = (req.body ?? {}) as BrokerNodeProperties & { id?: string; credentials?: BrokerNodeCredentials };
    if (typeof body !== 'object' || Array.isArray(body)) { res.status(400).json({ ok: false, error: 'bad request' }); return; }
    const stored = (typeof body.id === 'string' && body.id ? RED.nodes.getCredentials(body.id) : null) as BrokerNodeCredentials | null;
    const deployed = typeof body.id === 'string' && body.id ? RED.nodes.getNode(body.id) as unknown as KafkaBrokerNode | null : null;
    // Stored secrets only go to the brokers they were deployed for, never to an address typed into the request.
    const sameBrokers = !!deployed?.settings && parseBrokers(body.brokers).join(',') === deployed.settings.brokers.join(',');
    const given = body.credentials ?? {};
    const creds: BrokerNodeCredentials = {};
    let withheld = false;
    for (const k of Object.keys(CREDENTIALS) as Array<keyof BrokerNodeCredentials>) {
      const v = given[k];
      if (v !== undefined && v !== '__PWRD__') creds[k] = String(v);
      else if (sameBrokers || k === 'username' || k === 'ca' || k === 'cert') creds[k] = stored?.[k];
      else if (stored?.[k]) withheld = true;
    }
    if (withheld) { res.json({ ok: false, error: RED._('kafka-broker.errors.retype-secrets') }); return; }
    const settings = settingsFromNode(body, creds);
    testConnection(settings, Math.min(15_000, settings.connectionTimeoutMs + 5000)).then((result) => {
      if (!result.ok) RED.log.info(`kafka-broker test connection failed: ${result.error} (${JSON.stringify(describeSettings(settings))})`);
      res.json(result);
    }, (err: Error) => res.json({ ok: false, error: redact(err.message, settings) }));
  });
};
