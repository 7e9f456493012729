'use strict';
// Compiles the TypeScript and lays out what Node-RED loads:
//   dist/nodes/<type>/<type>.js + <type>.html + locales/<lang>/<type>.{json,html} + icons/
//   examples/ (from flows/, for Import > Examples)
// Sources stay single: nodes/<type>/<type>.html, locales/<lang>/<type>.*, icons/, flows/.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');

fs.rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit' });

const copy = (from, to) => { fs.mkdirSync(path.dirname(to), { recursive: true }); fs.copyFileSync(from, to); };
const list = (dir) => (fs.existsSync(dir) ? fs.readdirSync(dir) : []);

for (const type of list(path.join(root, 'nodes'))) {
  const src = path.join(root, 'nodes', type);
  if (!fs.statSync(src).isDirectory()) continue;
  const out = path.join(dist, 'nodes', type);
  copy(path.join(src, `${type}.html`), path.join(out, `${type}.html`));
  for (const lang of list(path.join(root, 'locales'))) {
    for (const ext of ['json', 'html']) {
      const file = path.join(root, 'locales', lang, `${type}.${ext}`);
      if (fs.existsSync(file)) copy(file, path.join(out, 'locales', lang, `${type}.${ext}`));
    }
  }
  // Node-RED looks for icons beside each node's .js; the icons are tiny, so each node folder gets them.
  for (const icon of list(path.join(root, 'icons'))) copy(path.join(root, 'icons', icon), path.join(out, 'icons', icon));
}

// Import > Examples reads <package>/examples; it is generated from flows/ and git-ignored.
const examples = path.join(root, 'examples');
fs.rmSync(examples, { recursive: true, force: true });
const copyTree = (from, to) => {
  for (const name of list(from)) {
    const f = path.join(from, name);
    if (fs.statSync(f).isDirectory()) copyTree(f, path.join(to, name));
    else if (name.endsWith('.json')) copy(f, path.join(to, name));
  }
};
copyTree(path.join(root, 'flows'), examples);

