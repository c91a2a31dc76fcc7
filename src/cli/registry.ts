// Every command module, in the order `mrsk --help` lists them, with the top-level command names
// each registers. Add one line per module. A module is imported only when its command runs (or
// when every command is needed: `mrsk --help`, an unknown word, an alias), so start-up stays
// small: `mrsk config` never loads ssh2, listr2 or the planner.
import type { RegisterCommand } from './program.ts';
import { addExamples } from './help.ts';
import { addHabitPointers } from './habits.ts';

type CommandModule = { readonly register: RegisterCommand };

/** One command module: the names it registers on the root, and how to load it. */
export interface CommandEntry {
  readonly names: readonly string[];
  readonly load: () => Promise<CommandModule>;
}

export const commandTable: readonly CommandEntry[] = [
  { names: ['init'], load: () => import('../commands/init.ts') },
  { names: ['config'], load: () => import('../commands/config.ts') },
  { names: ['plan'], load: () => import('../commands/plan.ts') },
  { names: ['apply'], load: () => import('../commands/apply.ts') },
  { names: ['deploy', 'redeploy'], load: () => import('../commands/deploy.ts') },
  { names: ['setup'], load: () => import('../commands/setup.ts') },
  { names: ['rollback'], load: () => import('../commands/rollback.ts') },
  { names: ['prune'], load: () => import('../commands/prune.ts') },
  { names: ['remove'], load: () => import('../commands/remove.ts') },
  { names: ['drift'], load: () => import('../commands/drift.ts') },
  { names: ['releases'], load: () => import('../commands/releases.ts') },
  { names: ['app'], load: () => import('../commands/app/index.ts') },
  { names: ['traefik'], load: () => import('../commands/traefik.ts') },
  { names: ['accessory'], load: () => import('../commands/accessory/index.ts') },
  { names: ['registry'], load: () => import('../commands/registry.ts') },
  { names: ['lock'], load: () => import('../commands/lock.ts') },
  { names: ['audit'], load: () => import('../commands/audit.ts') },
  { names: ['details'], load: () => import('../commands/details.ts') },
  // console also registers `alias` and the hidden catch-all `*` (unknown words, aliases)
  { names: ['console', 'alias'], load: () => import('../commands/console.ts') },
];

/** Last: every command registered above gets its help examples and the Kamal-habit pointers. */
const registerHelpAndHabits: RegisterCommand = (program) => {
  addExamples(program);
  addHabitPointers(program);
};

/** Root options that take a value: the word after them is not the command's name. */
const VALUE_OPTIONS = new Set(['-c', '--config', '-d', '--destination', '-h', '--hosts', '-r', '--roles']);

/** The command word of a command line (`mrsk -d staging deploy …` → deploy), if any. */
export function commandWord(argv: readonly string[]): string | undefined {
  for (let index = 0; index < argv.length; index++) {
    const word = argv[index]!;
    if (word === '--') return argv[index + 1];
    if (!word.startsWith('-') || word === '-') return word;
    if (VALUE_OPTIONS.has(word)) index++;
  }
  return undefined;
}

/**
 * The register functions for a command line: only the named command's module when the line
 * names a known command, else every module (help, unknown words and aliases need them all).
 */
export async function loadCommands(argv?: readonly string[]): Promise<RegisterCommand[]> {
  const word = argv && commandWord(argv);
  const only = word === undefined ? undefined : commandTable.find((entry) => entry.names.includes(word));
  const entries = only ? [only] : commandTable;
  const modules = await Promise.all(entries.map((entry) => entry.load()));
  return [...modules.map((module) => module.register), registerHelpAndHabits];
}
