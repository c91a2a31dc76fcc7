// npm run build: the package's dist/, bundled with esbuild from src/ (types are checked by
// `npm run typecheck`, not here). Why a bundle: start-up. Node's ESM loader costs ~1 ms per module
// resolved, read and compiled, and mrsk plus yaml, commander and diff are ~150 files; a bundle
// split per command loads a handful (`mrsk config` never loads ssh2, listr2 or the planner).
//   dist/cli/main.js               the entry (bin/mrsk.js imports it when src/ is absent)
//   dist/cli/chunk-*.js            code split at each command's dynamic import and shared code
//   dist/cli/deploy-validator.js   the config schema's validator, generated (Ajv standalone code)
// Every output sits two levels below the package root, as the sources do, so their
// new URL('../../package.json', import.meta.url) style paths hold in the bundle too.
// ssh2 stays a dependency loaded from node_modules (native add-ons); ajv too, for the runtime
// compile fallback and the generated validator's helpers.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { validatorSource } from './build-validator.mjs';

const root = new URL('../', import.meta.url);
const path = (relative) => fileURLToPath(new URL(relative, root));
const dist = path('dist');
const work = path('node_modules/.mrsk-build/'); // two levels below the root, like src/<dir>/
const common = { bundle: true, platform: 'node', target: 'node20', format: 'esm', logLevel: 'warning', external: ['ssh2', 'cpu-features', 'ajv', 'ajv/*'] };

rmSync(dist, { recursive: true, force: true });
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

// 1. the schema module, compiled on its own, to generate the validator from it
await build({ ...common, entryPoints: [path('src/config/schema.ts')], outfile: `${work}schema.mjs` });
const schema = await import(new URL('schema.mjs', `file://${work}`).href);
const generated = `${work}deploy-validator.js`;
writeFileSync(generated, validatorSource(schema, path('src/config/host-name.ts')));

// 2. the CLI and the validator, split into chunks
await build({
  ...common,
  entryPoints: { 'cli/main': path('src/cli/main.ts'), 'cli/deploy-validator': generated },
  outdir: dist,
  splitting: true,
  chunkNames: 'cli/chunk-[hash]',
  sourcemap: 'linked',
  // smaller files parse faster; identifiers stay, so stack traces (--verbose) keep their names
  minifyWhitespace: true,
  minifySyntax: true,
  // bundled CommonJS packages (yaml, commander) call require() for node built-ins
  banner: { js: "import { createRequire as __mrskCreateRequire } from 'node:module'; const require = __mrskCreateRequire(import.meta.url);" },
});
rmSync(work, { recursive: true, force: true });
console.log('built dist/ (esbuild)');
