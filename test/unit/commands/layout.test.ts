// The commands' layout rule: a command module imports shared code (src/commands/shared/, the
// pipeline modules beside the commands) and lower layers, never another command. Otherwise a change
// to one command ripples into others, and loading one command (src/cli/registry.ts) loads several.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandTable } from '../../../src/cli/registry.ts';

const commandsDir = fileURLToPath(new URL('../../../src/commands/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

/** The relative specifiers of a module's imports: static, dynamic and re-exports. */
function specifiersIn(text: string): string[] {
  return [...text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]!);
}

/** A module's relative imports, resolved to absolute paths. */
function importsOf(file: string): string[] {
  return specifiersIn(readFileSync(file, 'utf8')).map((specifier) => resolve(dirname(file), specifier));
}

/**
 * The command modules: what src/cli/registry.ts loads, and the verb files of a command folder
 * (src/commands/app/exec.ts …), which only their folder's index may import.
 */
async function commandModules(): Promise<Set<string>> {
  const entries = commandTable.map((entry) => specifiersIn(entry.load.toString())[0]?.match(/^\.\.\/commands\/(.+)$/)?.[1]);
  assert.ok(entries.every(Boolean), 'every table entry loads a module under src/commands/');
  const modules = new Set(entries.map((entry) => join(commandsDir, entry!)));
  for (const module of [...modules]) {
    if (module.endsWith('/index.ts')) for (const verb of sources(dirname(module))) modules.add(verb);
  }
  return modules;
}

test('the command table names modules that exist (a moved command is moved in the table too)', async () => {
  const all = new Set(sources(commandsDir));
  for (const module of await commandModules()) assert.ok(all.has(module), `${relative(commandsDir, module)} exists`);
});

test('no command module imports another command module (a folder index imports its own verbs only)', async () => {
  const modules = await commandModules();
  const problems: string[] = [];
  for (const file of sources(commandsDir)) {
    const isIndex = file.endsWith('/index.ts') && modules.has(file);
    for (const target of importsOf(file)) {
      if (!modules.has(target) || target === file) continue;
      // the index of a command folder registers the verbs beside it
      if (isIndex && dirname(target) === dirname(file)) continue;
      problems.push(`${relative(commandsDir, file)} imports ${relative(commandsDir, target)}`);
    }
  }
  assert.deepEqual(problems, []);
});

test('the import reader sees every form of relative import the code uses, and no package import', () => {
  const text = [
    "import { x } from './app/index.ts';",
    "import type { Y } from '../cli/program.ts';",
    "export { z } from '../commands/deploy.ts';",
    'const m = await import("./releases.ts");',
    "import { Command } from 'commander';",
    "import { readFile } from 'node:fs/promises';",
  ].join('\n');
  assert.deepEqual(specifiersIn(text), ['./app/index.ts', '../cli/program.ts', '../commands/deploy.ts', './releases.ts']);
});
