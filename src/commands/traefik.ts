// mrsk traefik boot|reboot|start|stop|restart|remove|logs|details: the Traefik container on the
// hosts that carry a proxied role. Every change is a plan (target traefik, src/plan/request.ts),
// shown first and run under the deploy lock like a deploy, with --json events and the audit log:
// - boot: run Traefik where it is missing (a stopped or different one is replaced, as apply would);
// - reboot: replace it host after host (each host is its own batch), waiting until the new one
//   answers and routes the app again before the next host goes;
// - start / stop / restart: the existing container only; remove: the container (asks first; the
//   image stays: the probe lists only the app's images, so the plan cannot know Traefik's is unused).
import type { RegisterCommand } from '../cli/program.ts';
import type { CommandContext } from '../cli/context.ts';
import { UsageError } from '../errors.ts';
import { combinedExitCode } from '../ops/hosts.ts';
import { lockOptions, logOptions, parseLockRequest, parseLogRequest, type LockOptionValues, type LogOptionValues } from './shared/options.ts';
import { showLogs } from './shared/per-host.ts';
import { traefikDetails, traefikHosts } from './shared/details.ts';
import { requireHosts, type Session } from './shared/common.ts';
import { withSession } from './shared/session.ts';
import { converge, type ConvergeOptions, type Intent } from './converge.ts';
import { loginOnHosts } from './shared/preflight.ts';
import { commandHooks } from '../hooks/run.ts';
import { TRAEFIK_CONTAINER } from '../model/names.ts';

function requireTraefikHosts(session: Session): string[] {
  requireHosts(session.hosts);
  const hosts = traefikHosts(session);
  if (hosts.length === 0) throw new UsageError('none of the selected hosts runs Traefik (no role on them is proxied)');
  return hosts;
}

type Verb = 'boot' | 'reboot' | 'start' | 'stop' | 'restart' | 'remove';

const INTENTS: Readonly<Record<Verb, (hosts: readonly string[]) => Intent>> = {
  boot: () => ({ target: 'traefik' }),
  reboot: (hosts) => ({ target: 'traefik', replace: hosts.map((host) => `${host}/traefik`), hostsInSeries: true }),
  start: () => ({ mode: 'start', target: 'traefik' }),
  stop: () => ({ mode: 'stop', target: 'traefik' }),
  restart: () => ({ mode: 'restart', target: 'traefik', hostsInSeries: true }),
  remove: () => ({ mode: 'destroy', target: 'traefik' }),
};

const DONE: Readonly<Record<Verb, string>> = { boot: 'Booted', reboot: 'Rebooted', start: 'Started', stop: 'Stopped', restart: 'Restarted', remove: 'Removed' };
/** Said after "No changes": why there was nothing to do (reboot and restart always act, or block). */
const NOTHING: Readonly<Partial<Record<Verb, string>>> = {
  boot: 'Traefik runs as configured on every selected host: nothing to boot.',
  start: 'Traefik is running on every selected host: nothing to start.',
  stop: 'Traefik is not running on any selected host: nothing to stop.',
  remove: 'No selected host has Traefik: nothing to remove.',
};

interface TraefikOptions extends LockOptionValues {
  autoApprove?: boolean;
  skipHooks?: boolean;
}

async function change(ctx: CommandContext, verb: Verb, options: TraefikOptions): Promise<number> {
  const lock = parseLockRequest(options);
  return withSession(ctx, async (session) => {
    const hosts = requireTraefikHosts(session);
    // reboot runs Kamal's proxy reboot hooks on this machine; a failing pre-hook leaves Traefik alone
    const hook = verb === 'reboot' ? commandHooks(session.config, { out: ctx.out, signal: ctx.signal, skip: options.skipHooks }, { command: 'traefik', subcommand: 'reboot', hosts }) : undefined;
    await hook?.('pre-connect');
    // a (re)started Traefik's image may come from the app's registry
    if (verb === 'boot' || verb === 'reboot') await loginOnHosts(ctx, session, hosts);
    const pipeline: ConvergeOptions = {
      command: `traefik ${verb}`,
      request: INTENTS[verb](hosts),
      hosts,
      ask: verb === 'remove',
      question: `Remove Traefik from these hosts? The apps there stop being reachable.`,
      autoApprove: options.autoApprove,
      lockWait: lock.waitSeconds,
      forceLock: lock.force,
      verb: 'changed',
      heading: `traefik ${verb}`,
      ...(hook ? { whenLocked: async () => void (await hook('pre-proxy-reboot')) } : {}),
    };
    const result = await converge(ctx, session, pipeline);
    const blocked = result.plan.blockedHosts.length;
    if (result.plan.steps.length > 0) ctx.out.info(`${DONE[verb]} Traefik on ${new Set(result.plan.steps.map((s) => s.host)).size} host(s) in ${(result.ms / 1000).toFixed(1)}s`);
    else if (blocked === 0 && NOTHING[verb]) ctx.out.info(NOTHING[verb]);
    if (blocked === 0) await hook?.('post-proxy-reboot');
    return blocked > 0 ? 1 : 0;
  });
}

export const register: RegisterCommand = (program, bind) => {
  const traefik = program.command('traefik').description('the Traefik container on the proxied hosts: boot, reboot, start, stop, restart, remove (each shows its plan first), logs, details');
  const describe: Readonly<Record<Verb, string>> = {
    boot: 'run Traefik where it is missing, stopped or differs from the config',
    reboot: 'replace Traefik host by host, waiting until each answers and routes the app again',
    start: 'start the stopped Traefik container and wait until it routes the app',
    stop: 'stop the Traefik container (the apps on these hosts stop being reachable)',
    restart: 'restart Traefik host by host, waiting until each routes the app again',
    remove: 'stop and remove the Traefik container (the apps on these hosts stop being reachable)',
  };
  for (const verb of Object.keys(INTENTS) as Verb[]) {
    const command = lockOptions(traefik.command(verb).description(`${describe[verb]} (shows the plan first)`));
    if (verb === 'remove') command.option('-y, --auto-approve', 'do not ask for confirmation');
    if (verb === 'reboot') command.option('-H, --skip-hooks', 'run none of the hooks (.kamal/hooks or .mrsk/hooks: pre-connect, pre-proxy-reboot, post-proxy-reboot)');
    command.action(bind<TraefikOptions>((ctx, options) => change(ctx, verb, options)));
  }

  logOptions(traefik.command('logs').description('Traefik’s logs from every selected host')).action(
    bind<LogOptionValues>((ctx, options) => {
      const request = parseLogRequest(options);
      return withSession(ctx, (session) => {
        const hosts = requireTraefikHosts(session);
        return showLogs(ctx, session, 'Traefik', hosts, hosts.map((host) => ({ host, container: TRAEFIK_CONTAINER })), request);
      });
    }),
  );

  traefik
    .command('details')
    .description('the Traefik container on each host (docker ps)')
    .option('--json', 'print JSON')
    .action(
      bind<{ json?: boolean }>((ctx, options) =>
        withSession(ctx, async (session) => {
          const hosts = requireTraefikHosts(session);
          const outcomes = await traefikDetails(ctx, session, hosts, Boolean(options.json));
          if (options.json) ctx.out.printJson({ hosts: Object.fromEntries(outcomes.map((o) => [o.host, o.ok ? { traefik: o.data } : { error: o.problem }])) });
          return combinedExitCode(outcomes);
        }),
      ),
    );
};
