import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CombinedSecrets, FileSecrets, StaticSecrets, decodeSecret, secretsFromEnv } from '../../lib/ingest/secrets';

const until = async (cond: () => boolean, ms = 3000) => {
  const t = Date.now();
  while (!cond()) {
    if (Date.now() - t > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('webhook signing secret sources', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'h5-secrets-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('decodes text and base64 secrets and refuses bad ones', () => {
    assert.equal(decodeSecret(' abc ', 'text').toString(), 'abc');
    assert.deepEqual(decodeSecret(Buffer.from([1, 2, 255]).toString('base64'), 'base64'), Buffer.from([1, 2, 255]));
    assert.deepEqual(decodeSecret('AQL_', 'base64'), Buffer.from([1, 2, 255]), 'base64url too');
    assert.throws(() => decodeSecret('not base64!', 'base64'), /not valid base64/);
    assert.throws(() => decodeSecret('  ', 'text'), /empty/);
    assert.equal(new StaticSecrets(['a', undefined, '', 'b']).secrets().length, 2);
    assert.equal(secretsFromEnv(['H5_A', 'H5_B'], 'text', { H5_A: 'x' }).secrets().length, 1);
  });

  it('re-reads a rotated file (watch or stat poll) and keeps the last good secrets on a bad write', async () => {
    const file = path.join(dir, 'secrets');
    fs.writeFileSync(file, '# current\nnew-secret\n');
    const fsec = new FileSecrets(file, { pollMs: 30 }).start();
    const errors: string[] = [];
    fsec.on('error', (e: Error) => errors.push(e.message));
    try {
      assert.deepEqual(fsec.secrets().map(String), ['new-secret']);
      const v1 = fsec.version;
      fs.writeFileSync(file, 'newer-secret\nnew-secret\n');
      await until(() => fsec.version > v1);
      assert.deepEqual(fsec.secrets().map(String), ['newer-secret', 'new-secret']);
      // Atomic replacement (rename over), as secret mounts do.
      const tmp = path.join(dir, 'secrets.tmp');
      fs.writeFileSync(tmp, 'newer-secret\n');
      fs.renameSync(tmp, file);
      await until(() => fsec.secrets().length === 1);
      const v2 = fsec.version;
      fs.writeFileSync(file, '\n# nothing\n');
      await until(() => errors.length > 0);
      assert.match(errors[0], /holds no secret/);
      assert.deepEqual(fsec.secrets().map(String), ['newer-secret'], 'last good secrets stay');
      assert.equal(fsec.version, v2);
      fs.unlinkSync(file);
      await until(() => errors.length > 1);
      assert.match(errors[1], /ENOENT/);
    } finally {
      fsec.close();
    }
  });

  it('refuses to start on a missing file, and combines sources', () => {
    assert.throws(() => new FileSecrets(path.join(dir, 'nope')).start(), /ENOENT/);
    const file = path.join(dir, 's');
    fs.writeFileSync(file, 'f1\n');
    const fsec = new FileSecrets(file).start();
    try {
      const all = new CombinedSecrets([new StaticSecrets(['s1']), fsec]);
      assert.deepEqual(all.secrets().map(String), ['s1', 'f1']);
      const v = all.version;
      assert.equal(all.version, v, 'stable while nothing changes');
    } finally {
      fsec.close();
    }
  });
});
