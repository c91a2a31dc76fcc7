// mrsk console: runs the `console` alias from the config (default: a Rails console in a new
// container of the deployed version, `app exec --interactive 'bin/rails console'`); any other
// alias runs as `mrsk NAME` (as in Kamal) or `mrsk alias NAME`. Aliases are mrsk command lines.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import type { Bind, CommandAction, RegisterCommand } from '../cli/program.ts';
import { addGlobalOptions } from '../cli/program.ts';
import type { CommandContext, GlobalOptions } from '../cli/context.ts';
import { closest } from '../config/suggest.ts';
import type { Config } from '../config/types.ts';
import { UsageError } from '../errors.ts';
import { DEFAULT_CONSOLE_ALIAS, expandAlias } from '../ops/aliases.ts';
import { commandPointer, traefikCommandsOf } from '../cli/habits.ts';
import { loadSessionConfig } from './shared/common.ts';

/** The global options of this run as flags, so the alias's command sees the same config, destination and hosts. */
export function globalFlags(global: GlobalOptions): string[] {
  return [
    '--config', global.config,
    ...(global.destination ? ['--destination', global.destination] : []),
    ...(global.hosts ? ['--hosts', global.hosts] : []),
    ...(global.roles ? ['--roles', global.roles] : []),
    ...(global.primary ? ['--primary'] : []),
    ...(global.verbose ? ['--verbose'] : []),
    ...(global.quiet ? ['--quiet'] : []),
  ];
}

/**
 * Runs an mrsk command line in this process through a fresh program with every command
 * registered, and returns its exit code (errors propagate to the one catch in main).
 */
async function dispatch(words: readonly string[], global: GlobalOptions, bind: Bind): Promise<number> {
  let code = 0;
  const capturing: Bind = <O>(action: CommandAction<O>) =>
    bind<O>(async (ctx, options, args) => {
      const result = await action(ctx, options, args);
      code = typeof result === 'number' ? result : 0;
      return result;
    });
  const program = new Command('mrsk').enablePositionalOptions().exitOverride().configureOutput({ writeErr: (s) => process.stderr.write(s) });
  addGlobalOptions(program);
  // Loaded here, not at the top: the registry imports this module, and a static cycle would
  // leave one of the two uninitialised when this module is the first one loaded.
  const commands = await (await import('../cli/registry.ts')).loadCommands();
  for (const register of commands) register(program, capturing);
  const prepare = (command: Command) => {
    for (const sub of command.commands) {
      addGlobalOptions(sub);
      sub.exitOverride();
      prepare(sub);
    }
  };
  prepare(program);
  // Global flags go before the command: the root's values win over the subcommand defaults.
  await program.parseAsync([...globalFlags(global), ...words], { from: 'user' });
  return code;
}

async function runAlias(ctx: CommandContext, bind: Bind, name: string, extra: readonly string[], fallback?: string): Promise<number> {
  const config = await loadSessionConfig(ctx);
  const words = expandAlias(config.aliases, name, fallback);
  ctx.out.debug(`alias ${name}: mrsk ${words.join(' ')}`);
  return dispatch([...words, ...extra], ctx.global, bind);
}

/**
 * `mrsk NAME …` for a name that is no command: the alias NAME when the config has one, else the
 * usage error commander would give, with a "did you mean" over commands and aliases.
 */
async function unknownCommandOrAlias(ctx: CommandContext, bind: Bind, program: Command, args: readonly string[]): Promise<number> {
  const [name, ...rest] = args as [string, ...string[]];
  const commandNames = program.commands.map((c) => c.name()).filter((n) => n !== '*');
  let config: Config | undefined;
  try {
    if (existsSync(resolve(ctx.cwd, ctx.global.config))) config = await loadSessionConfig(ctx);
  } catch (error) {
    // A typo of a command must not turn into the config's problems; a real alias needs the config.
    if (closest(name, commandNames) || commandPointer(args)) config = undefined;
    else throw error;
  }
  if (config && Object.hasOwn(config.aliases, name)) return runAlias(ctx, bind, name, rest);
  // A Kamal habit (`mrsk version`, `mrsk build push`, `mrsk proxy reboot`) gets the mrsk way.
  const pointer = commandPointer(args, traefikCommandsOf(program));
  if (pointer) throw new UsageError(pointer);
  const guess = closest(name, [...commandNames, ...Object.keys(config?.aliases ?? {})]);
  throw new UsageError(`unknown command '${name}'${guess ? `. Did you mean ${guess}?` : ''} (see mrsk --help)`);
}

export const register: RegisterCommand = (program, bind) => {
  program
    .command('console')
    .description(`run the console alias (default: ${DEFAULT_CONSOLE_ALIAS})`)
    .action(bind((ctx) => runAlias(ctx, bind, 'console', [], DEFAULT_CONSOLE_ALIAS)));
  program
    .command('alias')
    .description('run an alias from the config (aliases: name: mrsk command line)')
    .argument('<name>', 'the alias')
    .argument('[args...]', 'appended to the alias’s command line')
    .action(bind((ctx, _options, args) => runAlias(ctx, bind, args[0]!, args.slice(1))));
  // commander's catch-all: the root dispatches a name that is no command to `*`
  program
    .command('*', { hidden: true })
    .argument('<name>')
    .argument('[args...]')
    .allowUnknownOption()
    .action(bind((ctx, _options, args) => unknownCommandOrAlias(ctx, bind, program, args)));
};
