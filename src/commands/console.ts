// mrsk console: runs the `console` alias from the config (default: a Rails console in a new
// container of the deployed version, `app exec --interactive 'bin/rails console'`), and
// mrsk alias NAME runs any other alias. Aliases are mrsk command lines, as in Kamal.
import { Command } from 'commander';
import type { Bind, CommandAction, RegisterCommand } from '../cli/program.ts';
import { addGlobalOptions } from '../cli/program.ts';
import type { CommandContext, GlobalOptions } from '../cli/context.ts';
import { commands } from '../cli/registry.ts';
import { DEFAULT_CONSOLE_ALIAS, expandAlias } from '../ops/aliases.ts';
import { loadSessionConfig } from './common.ts';

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
};
