// This package's nodes and metrics plugin as a Node-RED module built from the TypeScript sources
// (a .js shim per type that requires the .ts file, the editor html and locale files beside it), so a
// headless Node-RED (harness/node-red.ts, with ts-node preloaded) runs the code under test, not dist/.
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../../..');

/** Writes the module into dir/<name> and returns that directory (for settings.nodesDir: dir). */
export function writeSourcePackage(dir: string, nodeTypes: string[], pluginTypes: string[] = [], name = 'hostile-source-package'): string {
  const pkgDir = path.join(dir, name);
  fs.mkdirSync(path.join(pkgDir, 'locales', 'en-US'), { recursive: true });
  const shim = (type: string) => {
    fs.writeFileSync(path.join(pkgDir, `${type}.js`), `module.exports = require(${JSON.stringify(path.join(root, 'nodes', type, `${type}.ts`))});\n`);
    fs.copyFileSync(path.join(root, 'nodes', type, `${type}.html`), path.join(pkgDir, `${type}.html`));
    for (const ext of ['json', 'html']) {
      const file = path.join(root, 'locales', 'en-US', `${type}.${ext}`);
      if (fs.existsSync(file)) fs.copyFileSync(file, path.join(pkgDir, 'locales', 'en-US', `${type}.${ext}`));
    }
  };
  nodeTypes.forEach(shim);
  pluginTypes.forEach(shim);
  fs.writeFileSync(path.join(pkgDir, 'package.json'), JSON.stringify({
    name, version: '0.0.0', private: true,
    'node-red': {
      nodes: Object.fromEntries(nodeTypes.map((t) => [t, `${t}.js`])),
      plugins: Object.fromEntries(pluginTypes.map((t) => [t, `${t}.js`])),
    },
  }, null, 2));
  return pkgDir;
}

/** Environment for a child Node-RED that loads TypeScript sources. */
export function tsNodeEnv(): Record<string, string> {
  return {
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ts-node/register/transpile-only`.trim(),
    TS_NODE_PROJECT: path.join(root, 'tsconfig.json'),
    TS_NODE_TRANSPILE_ONLY: 'true',
  };
}
