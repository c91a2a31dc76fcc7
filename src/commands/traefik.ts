// mrsk traefik boot|reboot|start|stop|restart|logs|remove|details: the Traefik container on the
// hosts that carry a proxied role. Changes run under the deploy lock and are audited; reboot
// replaces Traefik one host at a time and waits for it to answer before the next host.
import type { RegisterCommand } from '../cli/program.ts';
import type { CommandContext } from '../cli/context.ts';
import * as docker from '../docker/index.ts';
import { desired as deriveDesired, roleKey } from '../desired/desired.ts';
import type { TraefikSpec } from '../desired/types.ts';
import { audit, withLock } from '../apply/lock.ts';
import { inspectContainer, poll, run, tryRun } from '../apply/remote.ts';
import { UsageError } from '../errors.ts';
import { combinedExitCode, formatHostSection, runPerHost, type HostOutcome } from '../ops/hosts.ts';
import { formatPsTable, parsePsLines, type PsEntry } from '../ops/docker-ps.ts';
import { lockOptions as addLockOptions, logOptions as addLogOptions, type LogOptionValues as LogsCommandOptions } from './shared/options.ts';
import { lockedPerHostFromOptions as lockedPerHost, printSections, showLogsFromOptions as showLogs } from './shared/per-host.ts';
import { confirm, openSession, requireHosts, type Session } from './common.ts';
import { loginOnHosts } from './preflight.ts';
import { commandHooks } from '../hooks/run.ts';

/** Seconds Traefik gets to finish requests in flight when stopped. */
const TRAEFIK_STOP_SECONDS = 10;

interface LockOptions {
  lockWait?: string;
  force?: boolean;
}

/** The Traefik spec every proxied host runs (any version gives the same Traefik). */
function traefikSpec(session: Session): TraefikSpec | undefined {
  const state = deriveDesired(session.config, 'traefik');
  return Object.values(state.hosts).find((h) => h.traefik)?.traefik;
}

/** The selected hosts that run Traefik (they carry a proxied role). */
export function traefikHosts(session: Session): string[] {
  const state = deriveDesired(session.config, 'traefik');
  return session.hosts.filter((host) => state.hosts[host]?.traefik !== undefined);
}

function requireTraefikHosts(session: Session): string[] {
  requireHosts(session.hosts);
  const hosts = traefikHosts(session);
  if (hosts.length === 0) throw new UsageError('none of the selected hosts runs Traefik (no role on them is proxied)');
  return hosts;
}

async function ensureNetwork(session: Session, host: string, network: string): Promise<void> {
  const exists = await tryRun(session.remote, host, docker.inspectNetwork(network));
  if (exists.code !== 0) await run(session.remote, host, docker.createNetwork(network));
}

/** Runs Traefik on a host unless it already runs with this spec; says what it did. */
async function boot(session: Session, host: string, spec: TraefikSpec): Promise<string> {
  await ensureNetwork(session, host, spec.network);
  const existing = await inspectContainer(session.remote, host, spec.name);
  if (existing) {
    const same = existing.labels['mrsk.spec-hash'] === spec.specHash;
    if (!existing.running) {
      await run(session.remote, host, docker.startContainer(existing.id));
      return same ? 'started the stopped Traefik' : 'started the stopped Traefik (its configuration differs: `mrsk traefik reboot` replaces it)';
    }
    return same ? 'already running' : 'running with another configuration: `mrsk traefik reboot` replaces it';
  }
  await run(session.remote, host, docker.runTraefik(spec));
  return `started ${spec.image}`;
}

/** Waits until Traefik answers its ping, then (best effort) until it routes the app again. */
async function waitForTraefik(ctx: CommandContext, session: Session, host: string, spec: TraefikSpec): Promise<string> {
  const started = Date.now();
  await poll(
    `Traefik on ${host} to answer /ping`,
    30_000,
    async () => ((await tryRun(session.remote, host, docker.traefikApi('/ping', spec.name))).stdout.trim() === 'OK' ? true : undefined),
    { intervalMs: 300, signal: ctx.signal },
  );
  const pingMs = Date.now() - started;
  // Routers of running app containers appear once Traefik has read them from Docker.
  const routers = session.config.roles
    .filter((r) => r.traefik.enabled && r.hosts.includes(host))
    .map((r) => `${roleKey(session.config.service, r.name, session.config.destination)}@docker`);
  try {
    await poll(
      `Traefik on ${host} to route the app`,
      10_000,
      async () => {
        const result = await tryRun(session.remote, host, docker.traefikApi('/api/http/routers', spec.name));
        if (result.code !== 0) return undefined;
        const names = (JSON.parse(result.stdout) as { name: string }[]).map((r) => r.name);
        return routers.every((r) => names.includes(r)) ? true : undefined;
      },
      { intervalMs: 300, signal: ctx.signal },
    );
    return `answering after ${(pingMs / 1000).toFixed(1)}s, routing ${routers.join(', ') || 'nothing'}`;
  } catch {
    return `answering after ${(pingMs / 1000).toFixed(1)}s; not routing ${routers.join(', ')} yet (is the app running? see mrsk app details)`;
  }
}

async function withTraefikHosts(ctx: CommandContext, fn: (session: Session, hosts: string[], spec: TraefikSpec) => Promise<number>): Promise<number> {
  const session = await openSession(ctx);
  try {
    const hosts = requireTraefikHosts(session);
    const spec = traefikSpec(session)!;
    return await fn(session, hosts, spec);
  } finally {
    await session.close();
  }
}

/** The Traefik container on a host, as `docker ps` lists it. */
export async function traefikPs(session: Session, host: string): Promise<PsEntry[]> {
  const result = await run(session.remote, host, docker.listContainers({ name: `^${docker.TRAEFIK_CONTAINER}$` }, { all: true }));
  return parsePsLines(result.stdout);
}

/** `traefik details` per host: data for --json and printed sections. */
export async function traefikDetails(ctx: CommandContext, session: Session, hosts: readonly string[], json: boolean): Promise<HostOutcome<PsEntry[]>[]> {
  return runPerHost<PsEntry[]>(
    hosts,
    async (host) => {
      const entries = await traefikPs(session, host);
      return { host, ok: true, output: formatPsTable(entries, ctx.out.width), data: entries };
    },
    json ? () => undefined : printSections(ctx, 'Traefik'),
  );
}

export const register: RegisterCommand = (program, bind) => {
  const traefik = program.command('traefik').description('the Traefik container on the proxied hosts: boot, reboot, start, stop, logs, remove');

  addLockOptions(traefik.command('boot').description('run Traefik where it is not running yet')).action(
    bind<LockOptions>((ctx, options) =>
      withTraefikHosts(ctx, async (session, hosts, spec) => {
        await loginOnHosts(ctx, session, hosts);
        return lockedPerHost(ctx, session, hosts, 'traefik boot', options, 'Traefik', async (host) => ({ host, ok: true, output: await boot(session, host, spec) }));
      }),
    ),
  );

  addLockOptions(
    traefik
      .command('reboot')
      .description('replace Traefik host by host (rolling), waiting for each to answer; refuses while a deploy runs')
      .option('-H, --skip-hooks', 'run none of the hooks (.kamal/hooks or .mrsk/hooks: pre-connect, pre-proxy-reboot, post-proxy-reboot)'),
  ).action(
    bind<LockOptions & { skipHooks?: boolean }>((ctx, options) =>
      withTraefikHosts(ctx, async (session, hosts, spec) => {
        const { service, destination } = session.config;
        // hooks run on this machine (Kamal's proxy reboot hooks); a failing pre-hook leaves Traefik alone
        const hook = commandHooks(session.config, { out: ctx.out, signal: ctx.signal, skip: options.skipHooks }, { command: 'traefik', subcommand: 'reboot', hosts });
        await hook('pre-connect');
        await loginOnHosts(ctx, session, hosts);
        const request = { service, destination, command: 'traefik reboot', waitSeconds: options.lockWait ? Number(options.lockWait) : undefined, force: options.force };
        const code = await withLock(session.remote, hosts, request, async () => {
          await hook('pre-proxy-reboot');
          const outcomes: HostOutcome[] = [];
          // One host at a time: the other hosts keep serving while this one's Traefik restarts.
          for (const host of hosts) {
            let outcome: HostOutcome;
            try {
              await ensureNetwork(session, host, spec.network);
              const existing = await inspectContainer(session.remote, host, spec.name);
              if (existing) await run(session.remote, host, docker.removeContainer(existing.id, { force: true }));
              await run(session.remote, host, docker.runTraefik(spec));
              outcome = { host, ok: true, output: `rebooted: ${await waitForTraefik(ctx, session, host, spec)}` };
            } catch (error) {
              outcome = { host, ok: false, output: '', problem: (error as Error).message.split('\n')[0] };
            }
            outcomes.push(outcome);
            ctx.out.print(formatHostSection('Traefik', outcome));
            if (!outcome.ok) break; // do not take the next host down while this one is broken
          }
          const done = outcomes.filter((o) => o.ok).map((o) => o.host);
          if (done.length) await audit(session.remote, done, service, destination, 'traefik reboot').catch(() => undefined);
          if (outcomes.length < hosts.length) ctx.out.warn(`stopped after a failure: ${hosts.slice(outcomes.length).join(', ')} not rebooted`);
          return outcomes.length < hosts.length ? 1 : combinedExitCode(outcomes);
        });
        if (code === 0) await hook('post-proxy-reboot');
        return code;
      }),
    ),
  );

  for (const action of ['start', 'stop', 'restart'] as const) {
    addLockOptions(traefik.command(action).description(`${action} the Traefik container`)).action(
      bind<LockOptions>((ctx, options) =>
        withTraefikHosts(ctx, (session, hosts, spec) =>
          lockedPerHost(ctx, session, hosts, `traefik ${action}`, options, 'Traefik', async (host) => {
            const existing = await inspectContainer(session.remote, host, spec.name);
            if (!existing) return { host, ok: false, output: '', problem: 'Traefik is not on this host (mrsk traefik boot)' };
            const argv =
              action === 'start' ? docker.startContainer(existing.id) : action === 'stop' ? docker.stopContainer(existing.id, TRAEFIK_STOP_SECONDS) : docker.restartContainer(existing.id, TRAEFIK_STOP_SECONDS);
            await run(session.remote, host, argv);
            return { host, ok: true, output: `${action === 'stop' ? 'stopped' : action === 'start' ? 'started' : 'restarted'} ${spec.name}` };
          }),
        ),
      ),
    );
  }

  addLockOptions(traefik.command('remove').description('stop and remove Traefik and its image (the apps on these hosts stop being reachable)'))
    .option('-y, --auto-approve', 'do not ask for confirmation')
    .action(
      bind<LockOptions & { autoApprove?: boolean }>((ctx, options) =>
        withTraefikHosts(ctx, async (session, hosts, spec) => {
          await confirm(ctx, `Remove Traefik from ${hosts.join(', ')}? The apps there stop being reachable.`, options.autoApprove);
          return lockedPerHost(ctx, session, hosts, 'traefik remove', options, 'Traefik', async (host) => {
            const existing = await inspectContainer(session.remote, host, spec.name);
            if (existing) await run(session.remote, host, docker.removeContainer(existing.id, { force: true }));
            const image = await tryRun(session.remote, host, docker.removeImage(spec.image));
            return { host, ok: true, output: `${existing ? 'removed the container' : 'no container'}${image.code === 0 ? ' and its image' : ''}` };
          });
        }),
      ),
    );

  addLogOptions(traefik.command('logs').description('Traefik’s logs from every selected host')).action(
    bind<LogsCommandOptions>((ctx, options) =>
      withTraefikHosts(ctx, (session, hosts, spec) => showLogs(ctx, session, 'Traefik', hosts, hosts.map((host) => ({ host, container: spec.name })), options)),
    ),
  );

  traefik
    .command('details')
    .description('the Traefik container on each host (docker ps)')
    .option('--json', 'print JSON')
    .action(
      bind<{ json?: boolean }>((ctx, options) =>
        withTraefikHosts(ctx, async (session, hosts) => {
          const outcomes = await traefikDetails(ctx, session, hosts, Boolean(options.json));
          if (options.json) ctx.out.printJson({ hosts: Object.fromEntries(outcomes.map((o) => [o.host, o.ok ? { traefik: o.data } : { error: o.problem }])) });
          return combinedExitCode(outcomes);
        }),
      ),
    );
};
