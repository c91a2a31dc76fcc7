// Kamal habits (MRSK was Kamal's first name): commands and options a Kamal user types by reflex
// get a pointer to the mrsk way instead of a bare "unknown" — still a usage error (exit 64).
import type { Command } from 'commander';
import { UsageError } from '../errors.ts';
import { commandPath } from './help.ts';

const DEPLOY_INSTEAD_OF_BUILD =
  'mrsk has no build command: `mrsk deploy` builds, pushes and rolls out (`--skip-push` deploys an image already in the registry; `mrsk plan --next` previews it)';

/** Kamal's `kamal-proxy` commands whose Traefik counterpart has another name (the rest keep theirs). */
const PROXY_TO_TRAEFIK: Readonly<Record<string, string>> = { boot_config: '', upgrade: 'reboot' };

/**
 * The pointer for a command line mrsk does not know (words after `mrsk`), or undefined.
 * traefikCommands are the subcommands `mrsk traefik` has.
 */
export function commandPointer(words: readonly string[], traefikCommands: readonly string[] = []): string | undefined {
  const [first, second] = words;
  switch (first) {
    case 'version':
      return "unknown command 'version' (Kamal's): `mrsk --version` prints mrsk's version, `mrsk app version` the app version running on each host";
    case 'build':
      return `unknown command '${words.slice(0, 2).join(' ')}' (Kamal's): ${DEPLOY_INSTEAD_OF_BUILD}`;
    case 'proxy': {
      const mapped = second === undefined ? undefined : (PROXY_TO_TRAEFIK[second] ?? second);
      if (mapped === '') return `unknown command 'proxy ${second}' (Kamal's): mrsk runs Traefik; set its image and args under traefik: in config/deploy.yml, then \`mrsk traefik reboot\``;
      const target = mapped && traefikCommands.includes(mapped) ? `mrsk traefik ${mapped}` : 'mrsk traefik --help';
      return `unknown command '${words.slice(0, 2).join(' ')}' (Kamal's): mrsk runs Traefik as its proxy; did you mean \`${target}\`?`;
    }
    case 'server':
      return `unknown command '${words.slice(0, 2).join(' ')}' (Kamal's): \`mrsk setup\` checks (or installs) Docker on the hosts and deploys`;
    case 'app':
      if (second === 'remove') return "unknown command 'app remove' (Kamal's): `mrsk remove` removes the app from its hosts";
      if (second === 'boot') return "unknown command 'app boot' (Kamal's): `mrsk apply` starts the deployed version where it is missing; `mrsk redeploy` rolls out again";
      return undefined;
    default:
      return undefined;
  }
}

/** What one command offers, for option pointers. */
interface OptionsOf {
  readonly path: string;
  readonly longs: readonly string[];
  readonly shorts: readonly string[];
}

/** The pointer for an option a command does not know, or undefined (commander's own message then). */
export function optionPointer(command: OptionsOf, flag: string): string | undefined {
  const name = flag.split('=')[0]!;
  const here = command.path ? `mrsk ${command.path}` : 'mrsk';
  const unknown = `unknown option '${name}'`;
  switch (name) {
    case '--config-file':
    case '--config_file':
      return `${unknown} (Kamal's): mrsk's is -c/--config, e.g. ${here} -c config/deploy.yml`;
    case '-P':
      return command.longs.includes('--skip-push')
        ? `${unknown}: Kamal's -P is --skip-push here (${here} --skip-push); -p/--primary selects the primary host only`
        : `${unknown}: -p/--primary selects the primary host only (Kamal's -P, skip push, is \`mrsk deploy --skip-push\`)`;
    case '--confirmed':
      if (command.shorts.includes('-y')) return `${unknown} (Kamal's): mrsk's is -y/--auto-approve, e.g. ${here} -y`;
      return `${unknown} (Kamal's): ${here} does not ask for confirmation, so it needs no --confirmed`;
    case '-y':
      return `${unknown}: ${here} does not ask for confirmation, so it needs no -y`;
    case '-H':
    case '--skip-hooks':
    case '--skip_hooks':
      if (command.longs.includes('--skip-hooks')) return `${unknown}: did you mean --skip-hooks?`;
      return `${unknown} (Kamal's): ${here} runs no hooks; deploy, redeploy, setup and traefik reboot run them and take -H/--skip-hooks`;
    case '--version':
      if (command.path === 'app exec') {
        return `${unknown}: app exec runs the deployed version (a new container, or the running one with --reuse); \`mrsk app version\` shows what runs where, and \`mrsk rollback\` or \`mrsk deploy --version\` changes it first`;
      }
      return `${unknown} for ${here}: \`mrsk --version\` prints mrsk's version, \`mrsk app version\` the app's`;
  }
  // Kamal (Thor) also accepts options with underscores: --skip_push, --lock_wait.
  if (name.startsWith('--') && name.includes('_')) {
    const dashed = name.replaceAll('_', '-');
    if (command.longs.includes(dashed)) return `${unknown}: did you mean ${dashed}?`;
  }
  return undefined;
}

type Reporting = Command & { unknownOption(flag: string): void; unknownCommand(): void; args: string[] };

/**
 * Makes every command (and the root) answer Kamal habits with a pointer (a UsageError, exit 64)
 * before commander's generic "unknown" error. The root's unknown commands go through the alias
 * catch-all (src/commands/console.ts), which asks commandPointer itself.
 */
export function addHabitPointers(command: Command): void {
  const reporting = command as Reporting;
  const unknownOption = reporting.unknownOption.bind(command);
  const unknownCommand = reporting.unknownCommand.bind(command);
  reporting.unknownOption = (flag: string) => {
    const longs = command.options.map((o) => o.long).filter((l): l is string => Boolean(l));
    const shorts = command.options.map((o) => o.short).filter((s): s is string => Boolean(s));
    const pointer = optionPointer({ path: commandPath(command), longs, shorts }, flag);
    if (pointer) throw new UsageError(pointer);
    unknownOption(flag);
  };
  reporting.unknownCommand = () => {
    const path = commandPath(command);
    const pointer = commandPointer([...(path ? path.split(' ') : []), ...reporting.args], traefikCommandsOf(command));
    if (pointer) throw new UsageError(pointer);
    unknownCommand();
  };
  for (const sub of command.commands) if (sub.name() !== '*') addHabitPointers(sub);
}

/** The subcommands of `mrsk traefik`, found from any command of the program. */
export function traefikCommandsOf(command: Command): string[] {
  let root = command;
  while (root.parent) root = root.parent;
  return root.commands.find((c) => c.name() === 'traefik')?.commands.map((c) => c.name()) ?? [];
}
