// The import rules of src/ (../shared/DESIGN.md, "Layout"): dependencies point one way, so the
// pure core can be tested with fixtures and read without the transport, and a change to one
// command does not ripple into others. Every relative import in src/ is read (static, re-export,
// side-effect and dynamic `import('…')`), and each rule names the file and the import it refuses.
//
// The rules:
// 1. Pure modules import no I/O-side module: nothing under ssh/, apply/, cli/, commands/, build/,
//    hooks/. Pure are the folders config, model, desired, plan, shell, text, docker (argv
//    builders), host (host-script builders), and probe/{parse,script,observed,kamal,types}.ts,
//    drift/{detect,types,missed,fix-intent}.ts, errors.ts, secret.ts. probe/probe.ts,
//    drift/ledger.ts and ops/ run commands on hosts and are not pure.
// 2. Views (src/views/) only format: they import nothing from ssh/, commands/, build/, hooks/, and
//    from cli/, apply/ and ops/ only types (`import type`): the Output they write through, the
//    executor events and the per-host outcomes they are handed. Output (cli/output.ts) stays the
//    only writer; it paints with the views' painter (cli → views is the downward direction).
// 3. The executor (apply/) never imports cli/, commands/ or views/: it reports events, a view
//    shows them.
// 4. ssh/ is the transport only: it imports none of config/ (the Config → runner options adapter
//    lives in commands/shared/ssh-options.ts), desired/, plan/, probe/, apply/, drift/, ops/,
//    views/, cli/, commands/.
// 5. A command module never imports another command module. The command modules are the ones
//    src/cli/registry.ts loads, plus the verb files beside a command folder's index.ts (which may
//    import its own verbs). The shared layer is everything else under src/commands/: the folder
//    commands/shared/, and, until they move there, the modules named in SHARED_BESIDE_COMMANDS.
//    Outside commands/, only src/cli/registry.ts loads a command module.
// ALLOWED lists known exceptions, each with its reason; it is empty, and an entry that no longer
// matches an import fails the test, so the list cannot outlive its reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandTable } from '../../src/cli/registry.ts';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

const PURE_FOLDERS = ['config', 'model', 'desired', 'plan', 'shell', 'text', 'runtime', 'host'];
const PURE_FILES = [
  'probe/parse.ts', 'probe/script.ts', 'probe/observed.ts', 'probe/kamal.ts', 'probe/types.ts',
  'drift/detect.ts', 'drift/types.ts', 'drift/missed.ts', 'drift/fix-intent.ts',
  'errors.ts', 'secret.ts',
];
const IO_SIDE = ['ssh', 'apply', 'cli', 'commands', 'build', 'hooks'];

/**
 * Modules directly in src/commands/ that are shared, not commands, and have not moved to
 * commands/shared/ yet. converge.ts: the one pipeline, reworked while this test was written.
 * New helpers go to commands/shared/.
 */
const SHARED_BESIDE_COMMANDS = ['commands/converge.ts'];

/** `file imports target` pairs (paths relative to src/) allowed despite a rule, each with its reason. */
const ALLOWED: readonly { readonly file: string; readonly target: string; readonly reason: string }[] = [];

interface Import {
  /** Importing module, relative to src/ with `/`. */
  readonly file: string;
  /** Imported module, relative to src/ with `/` (outside src/ it starts with `../`). */
  readonly target: string;
  readonly specifier: string;
  readonly line: number;
  /** Erased at run time: `import type`, `export type`, or every named import marked `type`. */
  readonly typeOnly: boolean;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

const toSrc = (path: string): string => relative(SRC, path).split(sep).join(posix.sep);

// `import x from`, `import { a, type B } from`, `import * as x from`, `import x, { y } from`,
// `export { a } from`, `export * from`, `export type { T } from`; a side-effect `import '…'`;
// a dynamic `import('…')`. Clauses may span lines.
const STATIC =
  /(?<=^|[;\s])(import|export)\s+(type\s+)?((?:[\w$]+\s*,\s*)?(?:\{[^}]*\}|\*(?:\s+as\s+[\w$]+)?)|[\w$]+)\s+from\s+(['"])([^'"]+)\4/g;
const SIDE_EFFECT = /(?<=^|[;\s])import\s+(['"])([^'"]+)\1/g;
const DYNAMIC = /\bimport\s*\(\s*(['"])([^'"]+)\1\s*\)/g;

/** Every relative import of a module's source text (package imports are not layering). */
export function parseImports(file: string, text: string): Import[] {
  const found: Import[] = [];
  const lineAt = (index: number) => text.slice(0, index).split('\n').length;
  const add = (specifier: string, index: number, typeOnly: boolean) => {
    if (!specifier.startsWith('.')) return;
    const target = toSrc(resolve(dirname(join(SRC, file)), specifier));
    found.push({ file, target, specifier, line: lineAt(index), typeOnly });
  };
  for (const m of text.matchAll(STATIC)) {
    const clause = m[3]!;
    const names = clause.startsWith('{') ? clause.slice(1, -1).split(',').map((n) => n.trim()).filter(Boolean) : [];
    const allTyped = names.length > 0 && names.every((name) => name.startsWith('type '));
    add(m[5]!, m.index!, Boolean(m[2]) || allTyped);
  }
  for (const m of text.matchAll(SIDE_EFFECT)) add(m[2]!, m.index!, false);
  for (const m of text.matchAll(DYNAMIC)) add(m[2]!, m.index!, false);
  return found;
}

function allImports(): Import[] {
  return sources(SRC).flatMap((path) => parseImports(toSrc(path), readFileSync(path, 'utf8')));
}

const inFolder = (path: string, folders: readonly string[]) => folders.some((folder) => path === folder || path.startsWith(`${folder}/`));
const folderOf = (path: string) => (path.includes('/') ? path.slice(0, path.indexOf('/')) : path);
const isPure = (path: string) => inFolder(path, PURE_FOLDERS) || PURE_FILES.includes(path);
const show = (i: Import) => `src/${i.file}:${i.line} imports '${i.specifier}' (${i.target}${i.typeOnly ? ', type only' : ''})`;

/** The command modules, relative to src/ (rule 5). */
function commandModules(): Set<string> {
  const loaded = commandTable.map((entry) => /import\(\s*['"]\.\.\/(commands\/[^'"]+)['"]\s*\)/.exec(entry.load.toString())?.[1]);
  assert.ok(loaded.length > 0 && loaded.every(Boolean), 'every entry of the command table loads a module under src/commands/');
  const modules = new Set(loaded as string[]);
  for (const module of [...modules]) {
    if (!module.endsWith('/index.ts')) continue;
    for (const verb of sources(join(SRC, dirname(module)))) modules.add(toSrc(verb));
  }
  return modules;
}

/** What each rule refuses in a list of imports, as lines naming file and import. */
export function violations(imports: readonly Import[], commands: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  for (const i of imports) {
    const to = folderOf(i.target);
    if (isPure(i.file) && inFolder(i.target, IO_SIDE)) problems.push(`pure module: ${show(i)}`);
    if (i.file.startsWith('views/')) {
      if (inFolder(i.target, ['ssh', 'commands', 'build', 'hooks'])) problems.push(`view: ${show(i)}`);
      if (inFolder(i.target, ['cli', 'apply', 'ops']) && !i.typeOnly) problems.push(`view (types only from ${to}/): ${show(i)}`);
    }
    if (i.file.startsWith('apply/') && inFolder(i.target, ['cli', 'commands', 'views'])) problems.push(`executor: ${show(i)}`);
    if (i.file.startsWith('ssh/') && inFolder(i.target, ['config', 'desired', 'plan', 'probe', 'apply', 'drift', 'ops', 'views', 'cli', 'commands'])) {
      problems.push(`transport: ${show(i)}`);
    }
    if (commands.has(i.target) && i.target !== i.file) {
      const ownVerb = i.file.endsWith('/index.ts') && commands.has(i.file) && dirname(i.target) === dirname(i.file);
      if (i.file.startsWith('commands/') && !ownVerb) problems.push(`command imports a command: ${show(i)}`);
      if (!i.file.startsWith('commands/') && i.file !== 'cli/registry.ts') problems.push(`only cli/registry.ts loads commands: ${show(i)}`);
    }
  }
  return problems;
}

test('the import scanner sees every form the code uses, with its line and whether it is type only', () => {
  const text = [
    "import { a, b } from './x.ts';",
    "import type { T } from '../apply/executor.ts';",
    "import { type U, type V } from '../cli/output.ts';",
    "import { type W, w } from '../cli/context.ts';",
    "import * as docker from '../runtime/index.ts';",
    "import def, { named } from './def.ts';",
    "import {",
    '  multi,',
    '  line,',
    "} from '../ssh/types.ts';",
    "export { re } from './re.ts';",
    "export * from './star.ts';",
    "export type { Re } from './types.ts';",
    "import './side-effect.ts';",
    "const lazy = await import('../commands/deploy.ts');",
    "import { Listr } from 'listr2';",
    "const text = 'not an import from here';",
  ].join('\n');
  const found = parseImports('views/sample.ts', text).map((i) => [i.target, i.line, i.typeOnly]);
  assert.deepEqual(found, [
    ['views/x.ts', 1, false],
    ['apply/executor.ts', 2, true],
    ['cli/output.ts', 3, true],
    ['cli/context.ts', 4, false],
    ['runtime/index.ts', 5, false],
    ['views/def.ts', 6, false],
    ['ssh/types.ts', 7, false],
    ['views/re.ts', 11, false],
    ['views/star.ts', 12, false],
    ['views/types.ts', 13, true],
    ['views/side-effect.ts', 14, false],
    ['commands/deploy.ts', 15, false],
  ]);
});

test('the scanner misses no import in src/ (each `from` clause, side-effect and dynamic import is counted)', () => {
  const missed: string[] = [];
  for (const path of sources(SRC)) {
    const text = readFileSync(path, 'utf8');
    // a coarser count: any quoted relative specifier after `from`, `import` or `import(`
    const coarse = [...text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)].length;
    const parsed = parseImports(toSrc(path), text).length;
    if (coarse !== parsed) missed.push(`src/${toSrc(path)}: ${coarse} relative imports, ${parsed} parsed`);
  }
  assert.deepEqual(missed, []);
});

test('each rule finds what it is meant to refuse (hand-made imports)', () => {
  const imports = [
    "plan/diff.ts|../ssh/types.ts|type",
    "probe/parse.ts|../apply/remote.ts|",
    "desired/desired.ts|../cli/output.ts|",
    "views/plan.ts|../apply/executor.ts|",
    "views/plan.ts|../apply/executor.ts|type",
    "views/plan.ts|../ssh/types.ts|type",
    "apply/executor.ts|../cli/output.ts|type",
    "apply/steps.ts|../views/steps.ts|",
    "ssh/pool.ts|../config/types.ts|type",
    "commands/deploy.ts|./rollback.ts|",
    "commands/shared/deploy.ts|../setup.ts|",
    "commands/app/index.ts|./exec.ts|",
    "commands/app/exec.ts|./logs.ts|",
    "commands/deploy.ts|./shared/session.ts|",
    "ops/hosts.ts|../commands/deploy.ts|",
    "cli/registry.ts|../commands/deploy.ts|",
  ].map((row) => {
    const [file, specifier, type] = row.split('|') as [string, string, string];
    return { file, specifier, line: 1, typeOnly: type === 'type', target: toSrc(resolve(dirname(join(SRC, file)), specifier)) };
  });
  const commands = new Set(['commands/deploy.ts', 'commands/rollback.ts', 'commands/setup.ts', 'commands/app/index.ts', 'commands/app/exec.ts', 'commands/app/logs.ts']);
  assert.deepEqual(violations(imports, commands), [
    "pure module: src/plan/diff.ts:1 imports '../ssh/types.ts' (ssh/types.ts, type only)",
    "pure module: src/probe/parse.ts:1 imports '../apply/remote.ts' (apply/remote.ts)",
    "pure module: src/desired/desired.ts:1 imports '../cli/output.ts' (cli/output.ts)",
    "view (types only from apply/): src/views/plan.ts:1 imports '../apply/executor.ts' (apply/executor.ts)",
    "view: src/views/plan.ts:1 imports '../ssh/types.ts' (ssh/types.ts, type only)",
    "executor: src/apply/executor.ts:1 imports '../cli/output.ts' (cli/output.ts, type only)",
    "executor: src/apply/steps.ts:1 imports '../views/steps.ts' (views/steps.ts)",
    "transport: src/ssh/pool.ts:1 imports '../config/types.ts' (config/types.ts, type only)",
    "command imports a command: src/commands/deploy.ts:1 imports './rollback.ts' (commands/rollback.ts)",
    "command imports a command: src/commands/shared/deploy.ts:1 imports '../setup.ts' (commands/setup.ts)",
    "command imports a command: src/commands/app/exec.ts:1 imports './logs.ts' (commands/logs.ts)".replace('commands/logs.ts', 'commands/app/logs.ts'),
    "only cli/registry.ts loads commands: src/ops/hosts.ts:1 imports '../commands/deploy.ts' (commands/deploy.ts)",
  ]);
});

test('the pure list names modules that exist (a moved module is moved here too)', () => {
  const all = new Set(sources(SRC).map(toSrc));
  for (const file of [...PURE_FILES, ...SHARED_BESIDE_COMMANDS]) assert.ok(all.has(file), `src/${file} exists`);
  for (const folder of PURE_FOLDERS) assert.ok([...all].some((path) => path.startsWith(`${folder}/`)), `src/${folder}/ exists`);
});

test('src/ keeps the import rules (DESIGN.md): pure core, views that only format, executor below cli, ssh the transport only, commands independent', () => {
  const imports = allImports();
  assert.ok(imports.length > 300, `the scan found ${imports.length} imports: fewer than expected, is the pattern broken?`);
  const allowed = (line: string) => ALLOWED.some((a) => line.includes(`src/${a.file}:`) && line.includes(`(${a.target}`));
  const problems = violations(imports, commandModules());
  assert.deepEqual(problems.filter((line) => !allowed(line)), []);
  const stale = ALLOWED.filter((a) => !problems.some((line) => line.includes(`src/${a.file}:`) && line.includes(`(${a.target}`)));
  assert.deepEqual(stale, [], 'allowed exceptions that no longer occur: remove them');
});

test('helpers beside the commands are named (new shared code goes to commands/shared/)', () => {
  const commands = commandModules();
  const beside = sources(join(SRC, 'commands'))
    .map(toSrc)
    .filter((path) => path.split('/').length === 2 && !commands.has(path));
  assert.deepEqual(beside.sort(), [...SHARED_BESIDE_COMMANDS].sort());
});
