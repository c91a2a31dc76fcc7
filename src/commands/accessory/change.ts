// mrsk accessory boot|reboot|start|stop|restart|remove|upload NAME|all: every change to an
// accessory is a plan (target accessory, src/plan/request.ts), shown first and run under the deploy
// lock, audited, with --json events, on the accessory's own hosts:
// - boot: run it where it is missing, start it where it is stopped; a container whose spec differs
//   from the config is left alone and listed as pending (replacing a database is the user's call);
// - reboot: replace it (stop, remove, run) host after host, on the config's spec; its data
//   directories stay, so the new container finds the data the old one wrote;
// - start / stop / restart: the existing container as it is;
// - remove: container and image (asks first); its data directories and files only with --data;
// - upload: only write its `files` to the hosts, as Kamal's `accessory upload` does. The running
//   container keeps its spec (files are part of it), so the plan then lists it as pending a reboot.
import type { Command } from 'commander';
import type { Bind } from '../../cli/program.ts';
import type { CommandContext } from '../../cli/context.ts';
import type { Plan } from '../../plan/types.ts';
import { lockOptions, parseLockRequest, type LockOptionValues } from '../shared/options.ts';
import { accessoryLogins, targetHosts, withAccessories, type AccessoryTarget } from '../shared/accessories.ts';
import { loginOnHosts } from '../shared/preflight.ts';
import { converge, type Intent } from '../converge.ts';

export const CHANGE_VERBS = ['boot', 'reboot', 'start', 'stop', 'restart', 'remove', 'upload'] as const;
export type ChangeVerb = (typeof CHANGE_VERBS)[number];

export interface ChangeOptions {
  /** remove --data: also delete the accessory's host directories and files. */
  readonly data?: boolean;
}

/**
 * What each verb asks the planner for, for these accessories on these hosts. Pure: the command
 * line's meaning, tested for every verb (test/unit/commands/accessory.test.ts).
 */
export function accessoryIntent(verb: ChangeVerb, targets: readonly AccessoryTarget[], options: ChangeOptions = {}): Intent {
  const accessories = targets.map((t) => t.accessory.name);
  const base = { target: 'accessory', accessories } as const;
  switch (verb) {
    case 'boot':
      return { ...base };
    case 'reboot':
      // one host after the other: an accessory on several hosts is never down everywhere at once
      return { ...base, replace: targets.flatMap((t) => t.hosts.map((host) => `${host}/accessory/${t.accessory.name}`)), hostsInSeries: true };
    case 'start':
      return { ...base, mode: 'start' };
    case 'stop':
      return { ...base, mode: 'stop' };
    case 'restart':
      return { ...base, mode: 'restart', hostsInSeries: true };
    case 'remove':
      return { ...base, mode: 'destroy', ...(options.data ? { removeData: true } : {}) };
    case 'upload':
      return { ...base, mode: 'upload' };
  }
}

/** `redis` or `redis, db`. */
const nameList = (targets: readonly AccessoryTarget[]) => targets.map((t) => t.accessory.name).join(', ');

/**
 * The question before a reboot or remove. Ends with `?`: without a terminal the refusal quotes it
 * without its question mark. Says what happens to the data, the one thing that must not surprise.
 */
export function confirmQuestion(verb: 'reboot' | 'remove', targets: readonly AccessoryTarget[], options: ChangeOptions = {}): string {
  const names = nameList(targets);
  if (verb === 'reboot') return `Replace the ${names} container${targets.length > 1 ? 's' : ''} (down until the new one runs; data directories are kept) on these hosts?`;
  if (options.data) return `Remove ${names} and DELETE ${targets.length > 1 ? 'their' : 'its'} data (directories and files on the hosts; this cannot be undone) from these hosts?`;
  return `Remove the ${names} container${targets.length > 1 ? 's' : ''} and image (data directories and files are kept; --data deletes them) from these hosts?`;
}

const DONE: Readonly<Record<ChangeVerb, string>> = {
  boot: 'Booted',
  reboot: 'Rebooted',
  start: 'Started',
  stop: 'Stopped',
  restart: 'Restarted',
  remove: 'Removed',
  upload: 'Uploaded the files of',
};

/** Said after "No changes": why there was nothing to do (reboot and restart always act). */
function nothingToDo(verb: ChangeVerb, names: string): string | undefined {
  switch (verb) {
    case 'boot':
      return `${names}: nothing to boot (running on every selected host).`;
    case 'start':
      return `${names}: nothing to start (running on every selected host).`;
    case 'stop':
      return `${names}: nothing to stop (not running on any selected host).`;
    case 'remove':
      return `${names}: nothing to remove on the selected hosts.`;
    case 'upload':
      return `${names}: no files: in the config, nothing to upload.`;
    default:
      return undefined;
  }
}

/**
 * What the user does next, one line each, from the plan's pending changes (said in full: with -q
 * the plan is not shown). Empty when nothing is left to do.
 */
export function nextSteps(verb: ChangeVerb, name: string, plan: Plan): string[] {
  const pending = plan.pending ?? [];
  // what follows the first `: ` of a cause (`accessory redis: files /etc/motd.txt`)
  const detail = (cause: string) => cause.slice(cause.indexOf(': ') + 2);
  if (verb === 'upload' && plan.steps.length > 0) {
    return [`The running container still sees the files it started with: \`mrsk accessory reboot ${name}\` replaces it on the new ones (its data stays).`];
  }
  if (verb === 'boot') {
    return pending
      .filter((p) => p.address.split('/').length === 3 && p.address.split('/')[1] === 'accessory')
      .map((p) => `${p.address.split('/')[2]} on ${p.host} differs from the config (${detail(p.cause)}): \`${p.command}\` replaces it (its data stays).`);
  }
  if (verb === 'remove') {
    return pending
      .filter((p) => p.address.endsWith('/data'))
      .map((p) => {
        const accessory = p.address.split('/')[2];
        return `Kept the data of ${accessory} on ${p.host}: ${detail(p.cause)} (\`mrsk accessory boot ${accessory}\` finds it again; \`${p.command}\` deletes it).`;
      });
  }
  return [];
}

interface ChangeCommandOptions extends LockOptionValues, ChangeOptions {
  autoApprove?: boolean;
}

async function change(ctx: CommandContext, verb: ChangeVerb, name: string, options: ChangeCommandOptions): Promise<number> {
  const lock = parseLockRequest(options);
  return withAccessories(ctx, name, async (session, targets) => {
    const hosts = targetHosts(targets);
    if (verb === 'boot' || verb === 'reboot') {
      for (const login of accessoryLogins(session.config, targets.map((t) => t.accessory))) await loginOnHosts(ctx, session, hosts, login);
    }
    const ask = verb === 'reboot' || verb === 'remove';
    const result = await converge(ctx, session, {
      command: `accessory ${verb} ${name}`,
      request: accessoryIntent(verb, targets, options),
      hosts,
      ask,
      ...(ask ? { question: confirmQuestion(verb as 'reboot' | 'remove', targets, options) } : {}),
      autoApprove: options.autoApprove,
      lockWait: lock.waitSeconds,
      forceLock: lock.force,
      verb: 'changed',
      heading: `accessory ${verb} ${name}`,
    });
    const names = nameList(targets);
    const { steps, blockedHosts } = result.plan;
    const next = nextSteps(verb, name, result.plan);
    if (steps.length > 0) ctx.out.info(`${DONE[verb]} ${names} ${verb === 'upload' ? 'to' : verb === 'remove' ? 'from' : 'on'} ${new Set(steps.map((s) => s.host)).size} host(s) in ${(result.ms / 1000).toFixed(1)}s`);
    // a boot that found the accessory running on another spec says that instead of "nothing to do"
    else if (blockedHosts.length === 0 && !(verb === 'boot' && next.length > 0)) {
      const nothing = nothingToDo(verb, names);
      if (nothing) ctx.out.info(nothing);
    }
    for (const line of next) ctx.out.info(line);
    return blockedHosts.length > 0 ? 1 : 0;
  });
}

const DESCRIBE: Readonly<Record<ChangeVerb, string>> = {
  boot: 'run the accessory where it is missing, start it where it is stopped; one that differs from the config is only reported (reboot replaces it)',
  reboot: 'replace the accessory’s container on the config’s spec, host by host; its data directories are kept',
  start: 'start the stopped accessory container',
  stop: 'stop the accessory container (the app loses it until start; its data stays)',
  restart: 'restart the accessory container, host by host',
  remove: 'remove the accessory’s container and image; its data (directories and files) is KEPT unless --data',
  upload: 'only upload the accessory’s files: to its hosts (reboot it afterwards to run on them)',
};

export function registerChange(accessory: Command, bind: Bind): void {
  for (const verb of CHANGE_VERBS) {
    const asks = verb === 'reboot' || verb === 'remove';
    const command = lockOptions(accessory.command(verb).description(`${DESCRIBE[verb]} (shows the plan${asks ? ', asks first' : ' first'})`).argument('<name>', 'the accessory’s name in the config, or all'));
    if (asks) command.option('-y, --auto-approve', 'do not ask for confirmation');
    if (verb === 'remove') command.option('--data', 'also DELETE the accessory’s data: its directories and files on the hosts (cannot be undone)');
    command.action(bind<ChangeCommandOptions>((ctx, options, args) => change(ctx, verb, args[0]!, options)));
  }
}
