'use strict';
// Benchmark-only Node-RED nodes (loaded through settings.nodesDir, never part of the package). Plain
// nodes instead of function nodes, so that what is measured is the flow under test and not the
// function node's per-message vm call.
//   bench-feed:  control message (from http in) {n, window, template, keys}: builds n messages from
//                the template (a payload object), then sends them to output 1, keeping at most `window`
//                unacknowledged; every other message arriving (kafka-out's output after the ack, or
//                a catch node's error) counts as settled; when all n settled, the control message goes
//                to output 2 (http response) with {ms, n, failed}.
//   bench-echo:  passes each message on at once (the Node-RED routing cost alone, in place of kafka-out).
//   bench-probe: counts the messages it receives; a control message {waitFor, timeoutMs} is answered
//                on output 1 once the count reaches waitFor: {count, firstAt, lastAt}; {reset: true}
//                clears the count.
module.exports = function (RED) {
  function BenchFeed(config) {
    RED.nodes.createNode(this, config);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- Node-RED's usual node handle for callbacks
    const node = this;
    let run = null;

    const finish = () => {
      const r = run;
      run = null;
      r.reply.payload = { ms: Date.now() - r.t0, n: r.n, failed: r.failed };
      node.send([null, r.reply]);
    };
    const pump = () => {
      const r = run;
      while (r.sent < r.n && r.sent - r.settled < r.window) node.send([r.messages[r.sent++], null]);
    };

    node.on('input', (msg, _send, done) => {
      if (msg.req && msg.res) {
        if (run) { done(new Error('a run is under way')); return; }
        const p = msg.payload || {};
        const n = Number(p.n);
        const keys = p.keys || ['k'];
        // Built before the clock starts: the measurement is the flow, not the message factory.
        const messages = new Array(n);
        for (let i = 0; i < n; i++) {
          const conversationId = keys[i % keys.length];
          messages[i] = { payload: Object.assign({}, p.template, { event_id: `${conversationId}:${i}`, sequence: i, conversation_id: conversationId }), key: conversationId };
        }
        run = { n, window: Number(p.window) || 10000, messages, sent: 0, settled: 0, failed: 0, reply: msg, t0: Date.now() };
        pump();
        done();
        return;
      }
      if (run) {
        run.settled++;
        if (msg.error) run.failed++;
        if (run.settled === run.n) finish();
        else if (run.sent < run.n && run.sent - run.settled <= run.window / 2) pump();
      }
      done();
    });
  }
  RED.nodes.registerType('bench-feed', BenchFeed);

  function BenchEcho(config) {
    RED.nodes.createNode(this, config);
    this.on('input', (msg, send, done) => { send(msg); done(); });
  }
  RED.nodes.registerType('bench-echo', BenchEcho);

  function BenchProbe(config) {
    RED.nodes.createNode(this, config);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- Node-RED's usual node handle for callbacks
    const node = this;
    let count = 0;
    let firstAt = 0;
    let lastAt = 0;
    let waiter = null;

    const answer = () => {
      const w = waiter;
      waiter = null;
      clearTimeout(w.timer);
      w.msg.payload = { count, firstAt, lastAt, timedOut: count < w.target };
      node.send(w.msg);
    };

    node.on('input', (msg, _send, done) => {
      if (msg.req && msg.res) {
        const p = msg.payload || {};
        if (p.reset) { count = 0; firstAt = 0; lastAt = 0; }
        if (waiter) answer();
        waiter = { msg, target: Number(p.waitFor) || 0, timer: setTimeout(() => { if (waiter) answer(); }, Number(p.timeoutMs) || 60000) };
        if (count >= waiter.target) answer();
        done();
        return;
      }
      count++;
      lastAt = Date.now();
      if (count === 1) firstAt = lastAt;
      if (waiter && count >= waiter.target) answer();
      done();
    });
    node.on('close', (_removed, done) => {
      if (waiter) clearTimeout(waiter.timer);
      waiter = null;
      done();
    });
  }
  RED.nodes.registerType('bench-probe', BenchProbe);
};
