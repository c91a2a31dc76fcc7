// Builds the commander program. Global options are added to every (sub)command so they may be
// given anywhere after the command name (`mrsk deploy -d staging`), as users expect.
import { Command, CommanderError, Option } from 'commander';
import type { CommandContext, GlobalOptions } from './context.ts';
import { Output } from './output.ts';

/** A command's body: returns the exit code (default 0). Throw MrskError for failures. */
export type CommandAction<O = Record<string, unknown>> = (ctx: CommandContext, options: O, args: string[]) => Promise<number | void>;

/** Each command module exports one of these and is listed in src/cli/registry.ts. */
export type RegisterCommand = (program: Command, bind: Bind) => void;

/** Wraps a CommandAction into a commander action that builds the context and records the exit code. */
export type Bind = <O>(action: CommandAction<O>) => (...commanderArgs: unknown[]) => Promise<void>;

export function addGlobalOptions(command: Command): Command {
  return command
    .addOption(new Option('-c, --config <file>', 'config file').default('config/deploy.yml'))
    .addOption(new Option('-d, --destination <name>', 'destination: merges config/deploy.<name>.yml over the config'))
    .addOption(new Option('-h, --hosts <list>', 'only these hosts (comma list, * wildcards)'))
    .addOption(new Option('-r, --roles <list>', 'only these roles (comma list, * wildcards)'))
    .addOption(new Option('-p, --primary', 'only the primary host'))
    .addOption(new Option('-v, --verbose', 'detailed output, stack traces on errors'))
    .addOption(new Option('-q, --quiet', 'only the final line (and tables asked for) and errors'));
}

export interface ProgramState {
  exitCode: number;
  abort: AbortController;
}

/** `testing`: the stand-ins the fast command tests give every command (CommandContext.testing); never set by the CLI. */
export function makeBind(state: ProgramState, makeOutput: (g: GlobalOptions, json: boolean) => Output, testing?: CommandContext['testing']): Bind {
  return <O>(action: CommandAction<O>) =>
    async (...commanderArgs: unknown[]) => {
      const command = commanderArgs[commanderArgs.length - 1] as Command;
      const options = mergedOptions(command) as O & GlobalOptions & { json?: boolean };
      const args = commanderArgs.slice(0, -2).flatMap((a) => (Array.isArray(a) ? a.map(String) : a === undefined ? [] : [String(a)]));
      const global: GlobalOptions = {
        config: options.config ?? 'config/deploy.yml',
        destination: options.destination,
        hosts: options.hosts,
        roles: options.roles,
        primary: options.primary,
        verbose: options.verbose,
        quiet: options.quiet,
      };
      const ctx: CommandContext = {
        global,
        out: makeOutput(global, Boolean(options.json)),
        cwd: process.cwd(),
        signal: state.abort.signal,
        ...(testing ? { testing } : {}),
      };
      const code = await action(ctx, options, args);
      ctx.out.finish();
      state.exitCode = typeof code === 'number' ? code : 0;
    };
}

/**
 * The options of a command and its ancestors. Unlike commander's optsWithGlobals(), a value given
 * on the command line wins over an ancestor's default, so `mrsk config -c other.yml` works like
 * `mrsk -c other.yml config`.
 */
export function mergedOptions(command: Command): Record<string, unknown> {
  const chain: Command[] = [];
  for (let current: Command | null = command; current; current = current.parent) chain.unshift(current);
  const merged: Record<string, unknown> = {};
  for (const current of chain) {
    for (const [key, value] of Object.entries(current.opts())) {
      if (value === undefined) continue;
      if (key in merged && current.getOptionValueSource(key) === 'default') continue;
      merged[key] = value;
    }
  }
  return merged;
}

export { Command, CommanderError };
