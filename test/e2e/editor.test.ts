// The editor in a real browser (Debian's Chromium through playwright-core, headless, fresh profile) on a
// headless Node-RED that loads the compiled package (dist/, built by pretest), with the Genesys simulator,
// Kafka and Redis behind it: palette, every edit dialog with its help, input validation, Import > Examples
// through the menu, Deploy, and the complete pipeline's status badges turning green while events reach Kafka.
// Screenshots: test-results/screenshots/ (git-ignored).
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Redis from 'ioredis';
import type { Page } from 'playwright-core';
import { NodeRedProcess } from '../../harness/node-red';
import { kafkaBrokers, redisUrl } from '../fixtures/env';
import { openBrowser, screenshotPath, type EditorBrowser } from './support/browser';
import { exampleFiles, pkg, startExampleEnv, type ExampleEnv } from './support/example-env';
import { RecordCollector } from './support/kafka-records';

declare const RED: any;

const TYPES = Object.keys(pkg['node-red'].nodes);
const CATEGORY = 'genesys cloud';
// Telemetry consent and the palette catalogue would open a dialog and reach the internet.
const EDITOR_SETTINGS = { telemetry: { enabled: false }, editorTheme: { tours: false, projects: { enabled: false }, palette: { catalogues: [] } } };
const REDIS_PREFIXES = ['genesys:dedup:active-active:', 'genesys:dedup:pipeline:'];

describe('the editor in Chromium', function () {
  this.timeout(150_000);
  let ex: ExampleEnv;
  let red: NodeRedProcess;
  let kafka: RecordCollector;
  let browser: EditorBrowser;
  let page: Page;
  const configTypes: string[] = [];

  before(async () => {
    fs.rmSync(path.dirname(screenshotPath('x')), { recursive: true, force: true });
    ex = await startExampleEnv();
    kafka = new RecordCollector(kafkaBrokers());
    await kafka.start();
    red = await new NodeRedProcess({ port: ex.port, env: ex.env, flows: [], settings: EDITOR_SETTINGS }).start();
    ex.traffic.start();
    browser = await openBrowser();
    page = browser.page;
    await page.goto(red.url);
    await page.waitForFunction(() => typeof RED !== 'undefined' && RED.nodes?.getType?.('genesys-config') && document.querySelector('.red-ui-palette-node'), null, { timeout: 30_000 });
    await page.locator('#red-ui-loading-progress').waitFor({ state: 'hidden' });
    configTypes.push(...await page.evaluate((types) => types.filter((t) => RED.nodes.getType(t)?.category === 'config'), TYPES));
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && page) {
      await page.screenshot({ path: screenshotPath(`failed-${this.currentTest.title.replace(/\W+/g, '-').slice(0, 60)}`) }).catch(() => undefined);
      console.log(`browser errors:\n${browser.errors.join('\n')}\nNode-RED log:\n${red.logLines.slice(-30).join('\n')}`);
    }
  });

  after(async () => {
    await browser?.close();
    await red?.destroy();
    await kafka?.stop();
    await ex?.stop();
    const redis = new Redis(redisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      for (const prefix of REDIS_PREFIXES) {
        const keys = await redis.keys(`${prefix}*`);
        if (keys.length) await redis.del(...keys);
      }
    } finally {
      redis.disconnect();
    }
  });

  it(`shows every node in the "${CATEGORY}" palette category and registers the config nodes`, async () => {
    const defs = await page.evaluate((types) => types.map((t) => {
      const d = RED.nodes.getType(t);
      return d && { type: t, category: d.category, color: d.color, icon: typeof d.icon === 'string' ? d.icon : '' };
    }), TYPES);
    for (const [i, type] of TYPES.entries()) {
      const d = defs[i];
      assert.ok(d, `${type} is not registered in the editor`);
      assert.equal(d.icon, `${type}.svg`, `${type}: its own icon`);
      if (d.category === 'config') continue;
      assert.equal(d.category, CATEGORY, `${type}: palette category`);
      const inPalette = page.locator(`.red-ui-palette-node[data-palette-type="${type}"]`);
      assert.equal(await inPalette.count(), 1, `${type} is not in the palette`);
      const header = await inPalette.evaluate((el) => el.closest('.red-ui-palette-category')?.querySelector('.red-ui-palette-header')?.textContent?.trim());
      assert.equal(header, CATEGORY, `${type} sits in palette category ${header}`);
      // The icon file is served (a missing SVG shows Node-RED's default icon instead).
      const icon = await page.evaluate(async (t) => (await fetch(`icons/node-red-contrib-genesys-cloud-kafka/${t}.svg`)).status, type);
      assert.equal(icon, 200, `${type}.svg not served`);
    }
    assert.deepEqual([...configTypes].sort(), ['genesys-config', 'kafka-broker']);
    const category = page.locator('#red-ui-palette-container-genesys_cloud');
    await category.scrollIntoViewIfNeeded();
    await category.screenshot({ path: screenshotPath('palette') });
  });

  it('opens every edit dialog (config nodes from their users) with help in the sidebar and no console error', async () => {
    const before = browser.errors.length;
    for (const [i, type] of TYPES.filter((t) => !configTypes.includes(t)).entries()) {
      const id = await dropFromPalette(page, type, 150 + (i % 3) * 280, 100 + Math.floor(i / 3) * 80);
      await openEditor(page, id);
      await assertHelp(page, type);
      await page.locator('.red-ui-tray').last().screenshot({ path: screenshotPath(`dialog-${type}`) });
      const lookup = type === 'kafka-out' ? 'broker' : type === 'genesys-eventstream-poll' ? 'genesys' : '';
      if (lookup) {
        // The + next to the config select opens a new config node's dialog on top.
        await page.click(`#node-input-btn-${lookup}-add`);
        const configType = lookup === 'broker' ? 'kafka-broker' : 'genesys-config';
        await page.locator(`.red-ui-tray #node-config-input-name`).waitFor({ state: 'visible' });
        await page.waitForTimeout(300);
        await assertHelp(page, configType);
        await page.locator('.red-ui-tray').last().screenshot({ path: screenshotPath(`dialog-${configType}`) });
        await page.click('#node-config-dialog-cancel');
        await page.waitForTimeout(300);
      }
      await page.click('#node-dialog-cancel');
      await page.locator('.red-ui-tray').first().waitFor({ state: 'detached' });
    }
    assert.deepEqual(browser.errors.slice(before), [], 'console errors while editing');
  });

  it('validates input in the dialogs (numbers, broker list, push filter)', async () => {
    const id = (await page.evaluate(() => { let found = ''; RED.nodes.eachNode((n: any) => { if (n.type === 'dedup') found = n.id; }); return found; }));
    await openEditor(page, id);
    await page.fill('#node-input-window', '0');
    await page.locator('#node-input-window').press('Tab');
    await page.locator('#node-input-window.input-error').waitFor();
    await page.fill('#node-input-window', '300');
    await page.locator('#node-input-window').press('Tab');
    await page.locator('#node-input-window:not(.input-error)').waitFor();
    await page.click('#node-dialog-cancel');
    await page.locator('.red-ui-tray').first().waitFor({ state: 'detached' });

    const kafkaOut = await page.evaluate(() => { let found = ''; RED.nodes.eachNode((n: any) => { if (n.type === 'kafka-out') found = n.id; }); return found; });
    await openEditor(page, kafkaOut);
    await page.click('#node-input-btn-broker-add');
    await page.locator('#node-config-input-brokers').waitFor({ state: 'visible' });
    await page.fill('#node-config-input-brokers', 'not a broker list');
    await page.locator('#node-config-input-brokers').press('Tab');
    await page.locator('#node-config-input-brokers.input-error').waitFor();
    await page.fill('#node-config-input-brokers', '${KAFKA_BROKERS}');
    await page.locator('#node-config-input-brokers').press('Tab');
    await page.locator('#node-config-input-brokers:not(.input-error)').waitFor();
    await page.click('#node-config-dialog-cancel');
    await page.waitForTimeout(300);
    await page.click('#node-dialog-cancel');
    await page.locator('.red-ui-tray').first().waitFor({ state: 'detached' });

    // Guide 000's trap: a filter on a field the realtime schema lacks silently matches nothing.
    const webhook = await page.evaluate(() => { let found = ''; RED.nodes.eachNode((n: any) => { if (n.type === 'genesys-webhook-in') found = n.id; }); return found; });
    await openEditor(page, webhook);
    await page.click('#red-ui-tab-genesys-webhook-in-tab-registration a');
    await page.check('#node-input-register');
    const filter = page.locator('#node-input-filter');
    await filter.fill('');
    await filter.pressSequentially('customer.phoneNumber != null');
    await page.locator('#node-input-filter.input-error').waitFor();
    const reason = await page.locator('#genesys-webhook-in-filter-result').textContent();
    assert.match(reason ?? '', /customer\.phoneNumber/);
    await page.locator('.red-ui-tray').last().screenshot({ path: screenshotPath('dialog-genesys-webhook-in-bad-filter') });
    await filter.fill('');
    await filter.pressSequentially("type == 'voice' && queue.id != null");
    await page.locator('#node-input-filter:not(.input-error)').waitFor();
    await page.click('#node-dialog-cancel');
    await page.locator('.red-ui-tray').first().waitFor({ state: 'detached' });
    assert.deepEqual(browser.errors, [], 'console errors');
  });

  it('imports every example through the menu: Import > Examples > this package', async () => {
    // The dialog tests' nodes go again (selected, Delete key): only the examples are deployed.
    await page.evaluate(() => {
      RED.workspaces.show(RED.nodes.getWorkspaceOrder()[0]);
      const nodes: any[] = [];
      RED.nodes.eachNode((n: any) => { if (n.z === RED.workspaces.active()) nodes.push(n); });
      RED.view.select({ nodes });
    });
    await page.locator('#red-ui-workspace-chart').press('Delete');
    assert.equal(await page.evaluate(() => { let n = 0; RED.nodes.eachNode((x: any) => { if (x.z === RED.workspaces.active()) n++; }); return n; }), 0);
    const files = exampleFiles();
    for (const file of files) {
      const label = file.replace(/\.json$/, '').split('/');
      const tabsBefore = await page.evaluate(() => { const t: string[] = []; RED.nodes.eachWorkspace((w: any) => t.push(w.id)); return t; });
      await page.click('#red-ui-header-button-sidemenu');
      await page.click('#menu-item-import');
      await page.click('#red-ui-tab-red-ui-clipboard-dialog-import-tab-examples a');
      const tree = page.locator('#red-ui-clipboard-dialog-import-tab-examples');
      // The tree keeps its state between imports: expand only what is collapsed.
      const item = (text: string) => tree.locator('.red-ui-treeList-label-text', { hasText: new RegExp(`^${text.replace(/[-.]/g, '\\$&')}$`) });
      for (const step of [pkg.name, ...label.slice(0, -1)]) if (!await item(label[label.length - 1]).isVisible()) await item(step).click();
      await item(label[label.length - 1]).click();
      if (file === 'complete-pipeline.json') await page.locator('#red-ui-clipboard-dialog').screenshot({ path: screenshotPath('import-examples') });
      await page.click('#red-ui-clipboard-dialog-ok');
      await page.locator('#red-ui-clipboard-dialog').waitFor({ state: 'hidden' });
      await page.waitForFunction((n) => { let c = 0; RED.nodes.eachWorkspace(() => { c++; }); return c > n; }, tabsBefore.length, { timeout: 10_000 });
      const added = await page.evaluate((old) => {
        const tabs: { id: string; label: string; nodes: number; invalid: string[] }[] = [];
        RED.nodes.eachWorkspace((w: any) => {
          if (old.includes(w.id)) return;
          const invalid: string[] = [];
          let nodes = 0;
          RED.nodes.eachNode((n: any) => {
            if (n.z !== w.id) return;
            nodes++;
            if (n.valid === false) invalid.push(`${n.type} ${n.id}: ${JSON.stringify(n.validationErrors)}`);
          });
          tabs.push({ id: w.id, label: w.label, nodes, invalid });
        });
        return tabs;
      }, tabsBefore);
      assert.equal(added.length, 1, `${file}: one new flow tab`);
      assert.ok(added[0].nodes >= 4, `${file}: ${added[0].nodes} nodes imported`);
      assert.deepEqual(added[0].invalid, [], `${file}: nodes the editor marks invalid`);
    }
    const invalidConfigs = await page.evaluate(() => { const out: string[] = []; RED.nodes.eachConfig((n: any) => { if (n.valid === false) out.push(`${n.type} ${n.id}: ${JSON.stringify(n.validationErrors)}`); }); return out; });
    assert.deepEqual(invalidConfigs, [], 'config nodes the editor marks invalid');
    assert.deepEqual(browser.errors, [], 'console errors');
  });

  it('deploys them; the complete pipeline\'s status badges turn green and events flow into Kafka', async () => {
    const mark = kafka.records.length;
    await page.click('#red-ui-header-button-deploy');
    // Confirmations (e.g. unused config nodes, invalid nodes) are answered "deploy anyway" and listed.
    const confirmations: string[] = [];
    const deadline = Date.now() + 15_000;
    for (;;) {
      const confirm = page.locator('#red-ui-deploy-dialog-confirm-deploy-deploy');
      if (await confirm.isVisible().catch(() => false)) {
        confirmations.push((await page.locator('.red-ui-notification').last().textContent() ?? '').trim());
        await confirm.click({ timeout: 5000 });
      }
      if (await page.evaluate(() => !RED.nodes.dirty())) break;
      if (Date.now() > deadline) throw new Error('deploy did not finish');
      await page.waitForTimeout(200);
    }
    assert.deepEqual(confirmations, [], 'deploy asked for confirmation');
    await page.evaluate(() => {
      let id = '';
      RED.nodes.eachWorkspace((w: any) => { if (/complete pipeline/.test(w.label)) id = w.id; });
      RED.workspaces.show(id);
    });
    const pipeline = await page.evaluate(() => {
      let tab = '';
      RED.nodes.eachWorkspace((w: any) => { if (/complete pipeline/.test(w.label)) tab = w.id; });
      const ids: { id: string; type: string }[] = [];
      RED.nodes.eachNode((n: any) => { if (n.z === tab && !['comment', 'catch', 'debug'].includes(n.type)) ids.push({ id: n.id, type: n.type }); });
      return ids;
    });
    const mustBeGreen = pipeline.filter((n) => ['genesys-webhook-in', 'genesys-ws-in', 'genesys-eventstream-poll', 'dedup', 'normalize', 'kafka-out'].includes(n.type));
    assert.ok(mustBeGreen.length >= 9, `pipeline nodes: ${mustBeGreen.length}`);
    const statuses = async () => page.evaluate((ids) => ids.map(({ id, type }) => {
      const s = RED.nodes.node(id)?.status ?? {};
      return { id, type, fill: s.fill as string | undefined, text: (s.text ?? '') as string };
    }), pipeline);
    const greenBy = Date.now() + 30_000;
    let last = await statuses();
    while (Date.now() < greenBy) {
      last = await statuses();
      const notGreen = last.filter((s) => mustBeGreen.some((m) => m.id === s.id) && s.fill !== 'green');
      const kafkaRates = last.filter((s) => s.type === 'kafka-out' && Number(/([\d.]+)\s*msg\/s/.exec(s.text)?.[1]) > 0);
      if (notGreen.length === 0 && kafkaRates.length >= 2) break;
      await page.waitForTimeout(500);
    }
    await page.screenshot({ path: screenshotPath('complete-pipeline-deployed') });
    const notGreen = last.filter((s) => mustBeGreen.some((m) => m.id === s.id) && s.fill !== 'green');
    assert.deepEqual(notGreen, [], 'status badges not green');
    assert.ok(last.every((s) => s.fill !== 'red'), `red badges: ${JSON.stringify(last.filter((s) => s.fill === 'red'))}`);
    // Events flowing: normalized records of this run's conversations from several sources.
    await kafka.waitFor('genesys.interactions', (r) => ex.ours(r.key) && ['webhook', 'notification'].includes(r.json?.source), 20, mark, 20_000, 'pipeline into Kafka');
    await kafka.waitFor('genesys.analytics', (r) => ex.ours(r.key), 5, mark, 20_000, 'analytics into Kafka');
    // Every example tab, deployed, for the record.
    const tabs = await page.evaluate(() => { const t: { id: string; label: string }[] = []; RED.nodes.eachWorkspace((w: any) => t.push({ id: w.id, label: w.label })); return t; });
    for (const tab of tabs.slice(1)) {
      await page.evaluate((id) => RED.workspaces.show(id), tab.id);
      await page.waitForTimeout(300);
      await page.locator('#red-ui-workspace').screenshot({ path: screenshotPath(`example-${tab.label.replace(/\W+/g, '-').toLowerCase()}`) });
    }
    assert.deepEqual(browser.errors, [], 'console errors');
  });
});

/** Drags a palette node onto the workspace like a user; returns the new node's id. */
async function dropFromPalette(page: Page, type: string, x: number, y: number): Promise<string> {
  const item = page.locator(`.red-ui-palette-node[data-palette-type="${type}"]`);
  await item.scrollIntoViewIfNeeded();
  const from = (await item.boundingBox())!;
  const chart = (await page.locator('#red-ui-workspace-chart').boundingBox())!;
  const before = await page.evaluate(() => { const ids: string[] = []; RED.nodes.eachNode((n: any) => ids.push(n.id)); return ids; });
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
  await page.mouse.down();
  await page.mouse.move(chart.x + x, chart.y + y, { steps: 12 });
  await page.mouse.up();
  const id = await page.waitForFunction((old) => {
    let found = '';
    RED.nodes.eachNode((n: any) => { if (!old.includes(n.id)) found = n.id; });
    return found;
  }, before, { timeout: 5000 });
  return (await id.jsonValue()) as string;
}

/** Double-clicks the node on the canvas and waits for its edit tray. */
async function openEditor(page: Page, id: string): Promise<void> {
  await page.evaluate((i) => RED.view.reveal(i), id);
  await page.locator(`#red-ui-workspace-chart g[id="${id}"] rect.red-ui-flow-node`).dblclick();
  await page.locator('.red-ui-tray #node-input-name').waitFor({ state: 'visible' });
  await page.waitForTimeout(300);
}

/** The sidebar's help tab shows the type's help: title, and more than a line of text with its sections. */
async function assertHelp(page: Page, type: string): Promise<void> {
  await page.evaluate((t) => RED.sidebar.help.show(t), type);
  const help = await page.locator('.red-ui-sidebar-help-stack .red-ui-help').first().innerText();
  assert.ok(help.length > 200, `${type}: help has ${help.length} characters`);
  assert.doesNotMatch(help, /^\s*(None|sidebar\.info\.none)\s*$/, `${type}: no help`);
  assert.match(help, /Outputs|Inputs|Details|Properties/i, `${type}: help without sections`);
}
