// The entry point: parse argv, run one command, map any error to an exit code in one place.
import { readFileSync, writeSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { MrskError, ConfigError, describeError } from '../errors.ts';
import { setLockWarningHandler } from '../apply/lock.ts';
import { Output } from './output.ts';
import { EVENT_COMMANDS, beginRun, commandOf, endRun } from './pipeline.ts';
import { addGlobalOptions, makeBind, type ProgramState } from './program.ts';
import { loadCommands } from './registry.ts';

const EXIT_USAGE = 64;

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

// A reader that goes away (`mrsk details | head`) is not an error: stop writing quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

/** Exit codes of a run ended by a signal: 128 + its number, as shells report it. */
const SIGNAL_EXIT: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143 };

/** The error the command ended with, for the end-of-run summaries. */
let runError: unknown;

export async function main(argv: readonly string[]): Promise<number> {
  const state: ProgramState = { exitCode: 0, abort: new AbortController() };
  const verbose = argv.includes('-v') || argv.includes('--verbose');
  const errorOutput = new Output({ verbose });
  setLockWarningHandler((message) => errorOutput.warn(message));
  // Ctrl-C (SIGINT) and SIGTERM, on a terminal or not, take one path: the run's signal aborts,
  // running steps stop, and the clean-up (lock release, audit line) still happens. A second
  // signal quits at once, without clean-up.
  let received: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (received) {
      // Straight to the file descriptor: a progress display may be holding back stream output.
      writeSync(
        2,
        `${process.stderr.isTTY ? '\u001b[?25h' : ''}\n${errorOutput.paint('red', 'error:')} ${signal} again: quitting at once, without clean-up. ` +
          'A deploy lock left behind is taken over by the next run from this machine (elsewhere: `mrsk lock release --force`); ' +
          '`mrsk plan` shows where the hosts stand.\n',
      );
      process.exit(SIGNAL_EXIT[signal] ?? 130);
    }
    received = signal;
    errorOutput.warn(`interrupted (${signal}): stopping the running steps and cleaning up (deploy lock, audit log)… press Ctrl-C again to quit at once`);
    state.abort.abort(new Error(`interrupted (${signal})`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const program = new Command('mrsk')
    .description('Zero-downtime container deploys over SSH, behind Traefik: plan, then apply.')
    .version(packageVersion(), '--version', 'print the mrsk version')
    .helpOption('--help', 'show help')
    .enablePositionalOptions()
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  addGlobalOptions(program);

  const bind = makeBind(state, (global, json) => new Output({ quiet: global.quiet, verbose: global.verbose, json }));
  // only the named command's module is loaded (all of them for help, unknown words, aliases)
  for (const register of await loadCommands(argv)) register(program, bind);
  // Every subcommand (and nested one) takes the global options and the same help/exit behaviour.
  const prepare = (command: Command) => {
    for (const sub of command.commands) {
      addGlobalOptions(sub);
      sub.helpOption('--help', 'show help').exitOverride().showSuggestionAfterError(true);
      // --json on the commands that change hosts: NDJSON events (src/cli/pipeline.ts)
      const path = command === program ? sub.name() : `${command.name()} ${sub.name()}`;
      if (EVENT_COMMANDS.has(path) && !sub.options.some((o) => o.long === '--json')) {
        sub.option('--json', 'stream NDJSON events on stdout (plan, steps, a summary last; format_version 1); human lines go to stderr');
      }
      prepare(sub);
    }
  };
  prepare(program);
  // CI and machines: the NDJSON event stream (--json), GitHub/GitLab summaries and annotations
  beginRun(commandOf(argv), argv);

  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return state.exitCode;
  } catch (error) {
    runError = error;
    // Ctrl-C at the confirmation prompt reaches readline (the terminal is in raw mode there), not
    // the signal handler; the only prompt comes before any change.
    if (isPromptCtrlC(error) && !received) {
      process.stderr.write('\n');
      errorOutput.error('cancelled (Ctrl-C at the prompt): nothing was changed');
      return SIGNAL_EXIT.SIGINT!;
    }
    const code = report(error, errorOutput);
    if (!received || code === 0) return code;
    errorOutput.error(
      `Interrupted (${received}). \`mrsk plan\` shows where the hosts stand; running the same command again converges from there.`,
    );
    return SIGNAL_EXIT[received] ?? 130;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** The rejection of a readline question answered with Ctrl-C (node: AbortError "Aborted with Ctrl+C"). */
function isPromptCtrlC(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError' && /Ctrl\+C/.test(error.message);
}

function report(error: unknown, out: Output): number {
  if (error instanceof CommanderError) {
    // help and --version exit through here with code 0
    if (error.exitCode === 0) return 0;
    process.stderr.write("Run 'mrsk --help' for usage.\n");
    return EXIT_USAGE;
  }
  if (error instanceof ConfigError) {
    for (const line of error.message.split('\n')) out.error(line);
    return error.exitCode;
  }
  if (error instanceof MrskError) {
    // an error about one host names it here: its message leaves the host out
    out.error(describeError(error));
    if (out.verbose && error.stack) process.stderr.write(`${error.stack}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  out.error(`${message}${out.verbose ? '' : ' (run with --verbose for details)'}`);
  if (out.verbose && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  return 70;
}

// Run when executed as the bin (bin/mrsk.js imports this module).
process.exitCode = await main(process.argv.slice(2));
// the summary event (--json), the CI step summary and annotations: once the exit code is known
endRun(process.exitCode, process.exitCode === 0 ? undefined : runError);
