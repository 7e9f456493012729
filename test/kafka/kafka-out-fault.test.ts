// Tests with a Kafka broker of their own (SASL/PLAIN over TLS with client certificates): wrong
// password, missing CA, secrets in logs, and a broker stopped mid-stream and relaunched.
// The shared broker is never touched.
import { strict as assert } from 'node:assert';
import helper from 'node-red-node-test-helper';
import { KafkaServer } from '../../harness/kafka';
import { uniqueName } from '../fixtures/env';
import { readBack, valuesByKey } from './kafka-util';
import { makeTlsFixture, type TlsFixture } from './tls-fixture';
import { brokerNode, kafkaOutNode, outFlow, collect, waitFor, statuses, allLogText } from './node-support';

helper.init(require.resolve('node-red'));

const USER = 'alice';
const PASSWORD = 'alice-Pw-7d1f';
const WRONG = 'wrong-S3CRET-9b2e';

/**
 * A single-node broker whose client listener needs TLS with a client certificate and SASL/PLAIN
 * (the harness names the listener PLAINTEXT; the protocol map makes it SASL_SSL).
 */
function secureBroker(tls: TlsFixture): KafkaServer {
  const jaas = `org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-pw" user_admin="admin-pw" user_${USER}="${PASSWORD}";`;
  return new KafkaServer({
    heap: '384m',
    properties: {
      'listener.security.protocol.map': 'PLAINTEXT:SASL_SSL,CONTROLLER:PLAINTEXT',
      'sasl.enabled.mechanisms': 'PLAIN',
      'sasl.mechanism.inter.broker.protocol': 'PLAIN',
      'listener.name.plaintext.plain.sasl.jaas.config': jaas,
      'ssl.keystore.type': 'PEM',
      'ssl.keystore.location': tls.brokerKeystore,
      'ssl.truststore.type': 'PEM',
      'ssl.truststore.location': tls.brokerTruststore,
      'ssl.client.auth': 'required',
      'ssl.endpoint.identification.algorithm': '',
    },
  });
}

describe('kafka-out node with its own SASL_SSL broker (wrong password, missing CA, stop and relaunch)', function () {
  this.timeout(120_000);
  let kafka: KafkaServer;
  let tls: TlsFixture;
  before(async () => {
    tls = makeTlsFixture();
    kafka = secureBroker(tls);
    await kafka.start();
    await new Promise<void>((resolve) => helper.startServer(() => resolve()));
  });
  after(async () => {
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    await kafka?.destroy();
    tls?.remove();
  });
  afterEach(async () => { await helper.unload(); });

  const creds = (password: string, ca = tls.caPem) => ({ broker: { username: USER, password, ca, cert: tls.clientCertPem, key: tls.clientKeyPem } });
  const sasl = { saslMechanism: 'plain', usetls: true, rejectUnauthorized: true };
  const saslRead = () => ({ mechanism: 'plain' as const, username: USER, password: PASSWORD });

  it('a wrong SASL password gives a red error status and done(err), and the password appears nowhere', async () => {
    await helper.load([brokerNode, kafkaOutNode], outFlow({ brokers: kafka.brokers, topic: 'x', broker: sasl }), creds(WRONG));
    const caught = collect('caught');
    helper.getNode('out').receive({ payload: 'v', key: 'k' } as any);
    await waitFor(() => caught.length === 1, 20_000, 'caught');
    assert.match(caught[0].error.message, /topic "x", key "k": .*SASL PLAIN authentication failed/);
    assert.equal(caught[0].kafka.error.retriable, false, 'no retry of a wrong password');
    await waitFor(() => statuses('out').some((s) => s.fill === 'red' && /SASL/.test(s.text ?? '')), 5000, 'red SASL status');
    // The editor's test button with the stored (wrong) credentials: a clear answer, no secret.
    const res = await helper.request().post('/kafka-broker/test')
      .send({ id: 'broker', brokers: kafka.brokers, ...sasl, credentials: { username: USER, password: '__PWRD__' } }).expect(200);
    assert.equal(res.body.ok, false);
    assert.match(res.body.error, /SASL|authentication/i);
    const everything = [allLogText(), JSON.stringify(statuses('out')), JSON.stringify(caught.map((c) => c.error)), JSON.stringify(res.body)].join('\n');
    assert.ok(!everything.includes(WRONG), 'the wrong password leaked');
    assert.ok(!everything.includes(PASSWORD), 'the real password leaked');
    assert.ok(!everything.includes(tls.clientKeyPem.split('\n')[2]), 'the client key leaked');
  });

  it('the right password works (and the test endpoint says so)', async () => {
    const topic = uniqueName('sasl-ok');
    await helper.load([brokerNode, kafkaOutNode], outFlow({ brokers: kafka.brokers, topic, broker: sasl }), creds(PASSWORD));
    const acked = collect('acked');
    helper.getNode('out').receive({ payload: { a: 1 }, key: 'k' } as any);
    await waitFor(() => acked.length === 1, 20_000, 'ack');
    const res = await helper.request().post('/kafka-broker/test')
      .send({ id: 'broker', brokers: kafka.brokers, ...sasl, credentials: { username: USER, password: '__PWRD__' } }).expect(200);
    assert.equal(res.body.ok, true, JSON.stringify(res.body));
    // Stored secrets are never sent to brokers other than the deployed ones.
    const elsewhere = await helper.request().post('/kafka-broker/test')
      .send({ id: 'broker', brokers: '127.0.0.1:1', ...sasl, credentials: { username: USER, password: '__PWRD__' } }).expect(200);
    assert.deepEqual(elsewhere.body, { ok: false, error: 'kafka-broker.errors.retype-secrets' });
  });

  it('TLS without the CA that signed the broker certificate: a clear certificate error, no retry storm, no crash', async () => {
    await helper.load([brokerNode, kafkaOutNode], outFlow({ brokers: kafka.brokers, topic: 'x', broker: sasl }), creds(PASSWORD, ''));
    const caught = collect('caught');
    helper.getNode('out').receive({ payload: 'v', key: 'k' } as any);
    await waitFor(() => caught.length === 1, 20_000, 'caught');
    assert.match(caught[0].error.message, /certificate/);
    assert.equal(caught[0].kafka.error.retriable, false);
    await waitFor(() => statuses('out').some((s) => s.fill === 'red' && /certificate/.test(s.text ?? '')), 5000, 'red certificate status');
  });

  it('broker stopped mid-stream and relaunched: every message is delivered or reported through done(err), nothing else', async () => {
    const topic = uniqueName('restart');
    await helper.load([brokerNode, kafkaOutNode], outFlow({
      brokers: kafka.brokers, topic, broker: sasl, out: { retries: 20, deliveryTimeout: 40, lingerMs: 5, maxBatchRecords: 200 },
    }), creds(PASSWORD));
    const acked = collect('acked');
    const caught = collect('caught');
    const out = helper.getNode('out');
    let sent = 0;
    const sendPaced = async (count: number): Promise<void> => {
      for (let j = 0; j < count; j++) {
        out.receive({ payload: { i: sent }, key: `conv-${sent % 13}` } as any);
        sent++;
        if (sent % 25 === 0) await new Promise((r) => setTimeout(r, 10));
      }
    };
    await sendPaced(400);
    const stopping = kafka.stop();
    await sendPaced(300); // while the broker shuts down
    await stopping;
    await sendPaced(200); // while it is down
    await waitFor(() => statuses('out').some((s) => s.fill === 'red' && /unreachable/.test(s.text ?? '')), 20_000, 'unreachable status');
    const ackedBeforeRelaunch = acked.length;
    await kafka.launch();
    await sendPaced(400);
    const total = sent;
    await waitFor(() => acked.length + caught.length === total, 90_000, `all ${total} settled (acked ${acked.length}, caught ${caught.length})`);
    assert.ok(acked.length > ackedBeforeRelaunch, 'the producer reconnected after the relaunch');

    const delivered = await readBack([kafka.brokers], [topic], null, 30_000, 3000, saslRead(),
      { ca: [tls.caPem], cert: tls.clientCertPem, key: tls.clientKeyPem });
    const deliveredIds = new Set(delivered.map((r) => JSON.parse(r.value!).i as number));
    const reportedIds = new Set(caught.map((m) => m.payload.i as number));
    const ackedIds = acked.map((m) => m.payload.i as number);
    for (const i of ackedIds) assert.ok(deliveredIds.has(i), `acked message ${i} is in the topic`);
    const neither = Array.from({ length: total }, (_, i) => i).filter((i) => !deliveredIds.has(i) && !reportedIds.has(i));
    assert.deepEqual(neither, [], 'a message neither delivered nor reported');
    // Per-key order survives the restart (one batch in flight per node, retried as a whole).
    for (const [key, values] of valuesByKey(delivered)) {
      const seq = values.map((v) => JSON.parse(v).i as number);
      assert.deepEqual(seq, [...seq].sort((a, b) => a - b), `order of ${key}`);
    }
    console.log(`      [figure] restart: ${total} sent, ${deliveredIds.size} delivered (${delivered.length - deliveredIds.size} duplicates), ${reportedIds.size} reported via done(err), ${neither.length} lost`);
  });
});
