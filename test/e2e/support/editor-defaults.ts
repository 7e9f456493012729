// The `defaults` and `credentials` each node declares in its editor file (nodes/<type>/<type>.html),
// read by running the registration script in a sandbox with a stub RED and jQuery.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { root } from './example-env';

export interface EditorDefinition { category: string; defaults: Record<string, unknown>; credentials: string[] }

export function editorDefinitions(types: string[]): Record<string, EditorDefinition> {
  const defs: Record<string, any> = {};
  const validator = (): (() => boolean) => () => true;
  // Any jQuery call chain is a no-op: registration only stores functions that run later in the editor.
  const $: any = new Proxy(function () { /* stub */ }, { get: () => $, apply: () => $ });
  for (const type of types) {
    const html = fs.readFileSync(path.join(root, 'nodes', type, `${type}.html`), 'utf8');
    const RED = { nodes: { registerType: (t: string, d: unknown) => { defs[t] = d; } }, validators: { number: validator, regex: validator, typedInput: validator }, _: (k: string) => k };
    for (const m of html.matchAll(/<script type="text\/javascript">([\s\S]*?)<\/script>/g)) vm.runInNewContext(m[1], { RED, $, jQuery: $, window: {}, document: {} });
  }
  const out: Record<string, EditorDefinition> = {};
  for (const [t, d] of Object.entries(defs)) {
    out[t] = {
      category: d.category,
      defaults: Object.fromEntries(Object.entries<any>(d.defaults ?? {}).map(([k, v]) => [k, v.value])),
      credentials: Object.keys(d.credentials ?? {}),
    };
  }
  return out;
}
