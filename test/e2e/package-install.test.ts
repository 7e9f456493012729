// The path a container build takes, without Docker: `npm pack`, install the tarball into a fresh
// Node-RED userDir, start Node-RED headless, and check that every node type registers cleanly.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NodeRedProcess } from '../../harness/node-red';

const root = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

describe('packed package in a fresh Node-RED userDir', function () {
  this.timeout(240_000);
  let work = '';
  let red: NodeRedProcess | null = null;

  before(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'nr-pack-'));
    // --ignore-scripts: dist/ is already built by pretest; prepack would rebuild it.
    const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8' });
    const tarball = path.join(work, JSON.parse(out)[0].filename);
    const userDir = path.join(work, 'userdir');
    fs.mkdirSync(userDir);
    fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-project', private: true }));
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--omit=dev', '--prefer-offline', tarball], { cwd: userDir, stdio: 'ignore' });
  });

  after(async () => {
    await red?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('ships the compiled nodes, editor files, locales, icons, examples and the schema', () => {
    const installed = path.join(work, 'userdir', 'node_modules', pkg.name);
    for (const [type, file] of Object.entries<string>(pkg['node-red'].nodes)) {
      const dir = path.dirname(path.join(installed, file));
      for (const f of [`${type}.js`, `${type}.html`, `locales/en-US/${type}.json`, `locales/en-US/${type}.html`]) {
        assert.ok(fs.existsSync(path.join(dir, f)), `${type}: ${f} missing from the tarball`);
      }
    }
    assert.ok(fs.readdirSync(path.join(installed, 'examples')).length > 0, 'examples/ missing');
    assert.ok(fs.existsSync(path.join(installed, 'schemas', 'interaction.schema.json')), 'schema missing');
    assert.ok(!fs.existsSync(path.join(installed, 'test')), 'tests must not ship');
  });

  it('registers every node type with no error in the log', async () => {
    red = await new NodeRedProcess({ userDir: path.join(work, 'userdir'), flows: [] }).start();
    const res = await fetch(`${red.url}/nodes`, { headers: { accept: 'application/json' } });
    const sets = await res.json() as { module: string; types: string[]; enabled: boolean; err?: string }[];
    const ours = sets.filter((s) => s.module === pkg.name);
    const types = ours.flatMap((s) => s.types);
    for (const type of Object.keys(pkg['node-red'].nodes)) assert.ok(types.includes(type), `${type} not registered`);
    for (const s of ours) assert.equal(s.err, undefined, `${s.types.join(',')}: ${s.err}`);
    assert.doesNotMatch(red.log, /\[error\]|Error: Cannot find module/);
  });
});
