// The deploy flow deploy, redeploy and setup share: check the builder, read the hosts, then build
// and push the image of this version while the hosts are logged in to the registry and locked;
// then converge them to it (probe under the lock → plan → apply → audit). A host that cannot be
// used stops the deploy before the build starts; a failed login or lock stops the build.
import type { CommandContext } from '../../cli/context.ts';
import type { Config } from '../../config/types.ts';
import * as docker from '../../runtime/index.ts';
import { LOCAL_RUNTIME } from '../../runtime/build.ts';
import { runLocal, runLocalRaw, type LocalExec } from '../../apply/local.ts';
import { DeployError, RemoteCommandError } from '../../errors.ts';
import type { Snapshot } from '../../probe/types.ts';
import { appHosts, probe, type Session } from './common.ts';
import { abbreviateVersions } from '../../plan/short-version.ts';
import { converge, hostsToChange, type ConvergeResult } from '../converge.ts';
import { checkBuilder, loginHint, loginOnHosts, startLoginOnHosts, type Builder } from './preflight.ts';
import { accessoryLogins } from './accessories.ts';
import { buildImage } from '../../build/run.ts';
import { hostArchesOf, localArch, planBuild } from '../../build/plan.ts';
import { commandHooks } from '../../hooks/run.ts';
import { requireTakeoverConsent } from './takeover.ts';

export async function loginLocally(ctx: CommandContext, config: Config, env: NodeJS.ProcessEnv, exec: LocalExec = runLocalRaw, signal?: AbortSignal): Promise<void> {
  const { server, username, password } = config.registry;
  if (!username || !password) return;
  try {
    await runLocal(docker.login(LOCAL_RUNTIME, server, username), { env, stdin: password.reveal(), secrets: config.secrets, signal }, exec);
  } catch (error) {
    const hint = error instanceof RemoteCommandError ? loginHint(error.stderr, server ?? 'Docker Hub') : undefined;
    if (hint && error instanceof RemoteCommandError) throw new RemoteCommandError('local', docker.login(LOCAL_RUNTIME, server, username).join(' '), error.code, `${error.stderr.trim()}\n(${hint})`);
    throw error;
  }
  ctx.out.info(`Logged in to ${server ?? 'Docker Hub'} locally as ${username}`);
}

/**
 * Builds the image of this version with the checked builder and pushes it (src/build/run.ts: a
 * clean clone of HEAD unless builder.context is set, for the platforms the hosts report unless
 * builder.arch says). Abortable (the docker process is killed).
 */
export async function buildAndPush(
  ctx: CommandContext,
  config: Config,
  version: string,
  options: { builder: Builder; exec?: LocalExec; signal?: AbortSignal; hostArches?: Readonly<Record<string, string | undefined>> },
): Promise<void> {
  const { builder, signal } = options;
  const exec = options.exec ?? runLocalRaw;
  const hostArches = options.hostArches ?? {};
  // a configuration this machine cannot build fails before the login
  planBuild({ builder: config.builder, hostArches, localArch: localArch(), buildx: builder.buildx });
  await loginLocally(ctx, config, builder.env, exec, signal);
  signal?.throwIfAborted(); // a host check failed meanwhile: do not start the build
  const ref = `${config.image}:${version}`;
  const started = Date.now();
  try {
    await buildImage(ctx, config, ref, { builder, hostArches, exec, signal });
  } catch (error) {
    // stopped on purpose (Ctrl-C, or a host check failed meanwhile): say so, not "AbortError"
    if (signal?.aborted) throw new DeployError(`${ctx.signal.aborted ? 'interrupted: ' : ''}the build of ${ref} was stopped; nothing was deployed`);
    throw error;
  }
  ctx.out.info(`Built and pushed ${abbreviateVersions(ref)} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}


/** What to deploy, and how. */
export interface DeployRequest {
  /** Any host that cannot be used stops deploy, redeploy and setup unless skipUnreachable. */
  readonly mode: 'deploy' | 'redeploy' | 'setup';
  readonly version: string;
  readonly skipPush?: boolean;
  readonly lockWait?: number;
  readonly force?: boolean;
  /** Deploy the usable hosts and record the others as behind, instead of stopping (exit 69). */
  readonly skipUnreachable?: boolean;
  /** Run after the builder check and before the hosts are probed (setup: check or install Docker). */
  readonly prepareHosts?: () => Promise<void>;
  /** --skip-hooks: run none of the hooks (pre-connect, pre-build, pre-deploy, post-deploy). */
  readonly skipHooks?: boolean;
  /** --takeover: replace Kamal's Traefik on hosts Kamal runs (a short HTTP outage; src/commands/takeover.ts). */
  readonly takeover?: boolean;
}

/** How a deploy runs local commands and reads the hosts; fakes in tests. */
export interface DeployDeps {
  readonly exec: LocalExec;
  readonly probe: (session: Session, hosts?: readonly string[]) => Promise<Snapshot>;
}

const realDeps: DeployDeps = { exec: runLocalRaw, probe };

/**
 * The order of a deploy, cheapest checks first so that a wrong setting fails in seconds:
 * 1. the Docker daemon that builds (local, or builder.remote) answers;
 * 2. every host answers a lock-free probe (reachable, SSH auth, Docker) — the rule: any host
 *    that cannot be used stops the deploy here, before the build starts, unless
 *    --skip-unreachable says to deploy the others and record it as behind;
 * 3. build + push run while the hosts are logged in to the registry and locked; a failed login
 *    or a held lock aborts the build, a failed build releases the lock;
 * 4. under the lock, once the image is pushed: probe again, plan, apply, audit.
 * The first probe is the one converge starts from (it is not repeated).
 * With nothing to build (--skip-push; setup excepted), there is nothing to fail early for: the
 * lock comes first and the one read under it decides everything, while the hosts log in.
 */
export async function deployTo(ctx: CommandContext, session: Session, request: DeployRequest, deps: DeployDeps = realDeps): Promise<ConvergeResult> {
  const started = Date.now();
  const hook = commandHooks(session.config, { out: ctx.out, signal: ctx.signal, skip: request.skipHooks }, {
    command: request.mode, version: request.version, hosts: session.hosts, ...(ctx.global.roles ? { role: session.roles.join(',') } : {}),
  });
  // hooks run on this machine; a failing pre-hook stops the deploy before anything changes
  await hook('pre-connect');
  const builder = request.skipPush ? undefined : await checkBuilder(session.config, { exec: deps.exec, signal: ctx.signal });
  await request.prepareHosts?.();
  const result = builder || request.mode === 'setup'
    ? await buildAndConverge(ctx, session, request, deps, hook, builder)
    : await convergeUnderLock(ctx, session, request, deps, hook);
  if (unexpectedlyBlocked(result) === 0) await hook('post-deploy', { hosts: result.hosts, runtime: (Date.now() - started) / 1000 });
  return result;
}

type Hook = ReturnType<typeof commandHooks>;

/** What every deploy asks of converge, whichever way the hosts were read first. */
function convergeRequest(request: DeployRequest) {
  return {
    command: `${request.mode} ${request.version}`,
    version: request.version,
    ask: false,
    lockWait: request.lockWait,
    forceLock: request.force,
    takeover: request.takeover,
    takeoverCommand: request.mode === 'setup' ? 'mrsk setup' : 'mrsk deploy',
    // redeploy skips first-time work: Traefik is expected to run already, none of its steps run.
    // deploy and redeploy never start, stop or replace an accessory (setup boots missing ones).
    ...(request.mode === 'redeploy' ? { request: { skip: ['traefik', 'accessories'] as const } } : request.mode === 'setup' ? {} : { request: { skip: ['accessories'] as const } }),
  };
}

/**
 * Nothing to build: lock, read the hosts once under the lock (unusable hosts, takeover consent),
 * and log them in to the registry meanwhile (started with the lock; a login that failed on a
 * usable host stops the deploy before the plan, on one left out it does not count).
 */
async function convergeUnderLock(ctx: CommandContext, session: Session, request: DeployRequest, deps: DeployDeps, hook: Hook): Promise<ConvergeResult> {
  // redeploy skips the first-time work, the registry login included
  const loggedIn = request.mode !== 'redeploy' ? startLoginOnHosts(ctx, session, session.hosts) : undefined;
  return converge(ctx, session, {
    ...convergeRequest(request),
    skipUnreachable: request.skipUnreachable,
    hostsChosen: async (hosts) => {
      await loggedIn?.(hosts);
      await hook('pre-deploy', { hosts });
    },
  }, { probe: deps.probe });
}

/** A build: the hosts are read first (usable? their architectures), then built for while they log in and lock. */
async function buildAndConverge(ctx: CommandContext, session: Session, request: DeployRequest, deps: DeployDeps, hook: Hook, builder: Builder | undefined): Promise<ConvergeResult> {
  const first = await deps.probe(session);
  const { usable: hosts, missed } = hostsToChange(ctx, session, first, { skipUnreachable: request.skipUnreachable });
  // Kamal's Traefik is only replaced with --takeover: checked before the build, nothing changed yet
  requireTakeoverConsent(first, hosts, session.config.service, session.config.destination, request.takeover, request.mode === 'setup' ? 'mrsk setup' : 'mrsk deploy');
  if (builder) await hook('pre-build', { hosts });

  const stopBuild = new AbortController();
  const onInterrupt = () => stopBuild.abort();
  ctx.signal.addEventListener('abort', onInterrupt, { once: true });
  let buildFailed = false;
  let buildSettled = false;
  // the image runs on the app's hosts: a database server's architecture does not count (setup selects it too)
  const building = builder
    ? buildAndPush(ctx, session.config, request.version, { builder, exec: deps.exec, signal: stopBuild.signal, hostArches: hostArchesOf(first, appHosts(session).filter((host) => hosts.includes(host))) })
    : Promise.resolve();
  building.then(() => (buildSettled = true), () => (buildSettled = buildFailed = true));
  const converging = (async () => {
    // redeploy skips the first-time work, the registry login included
    if (request.mode !== 'redeploy') await loginOnHosts(ctx, session, hosts);
    // setup boots the accessories too: their hosts log in to the registries their images come from
    if (request.mode === 'setup') {
      for (const login of accessoryLogins(session.config, session.config.accessories)) {
        if (login.server === session.config.registry.server) continue;
        const accessoryHosts = session.config.accessories.filter((a) => a.registry === login).flatMap((a) => a.hosts).filter((host) => hosts.includes(host));
        if (accessoryHosts.length > 0) await loginOnHosts(ctx, session, [...new Set(accessoryHosts)], login);
      }
    }
    // the build already failed: its error is the one reported; do not lock for nothing
    if (buildFailed) return building.then(() => undefined as never);
    return converge(ctx, session, {
      ...convergeRequest(request),
      firstProbe: first,
      missedHosts: missed,
      whenLocked: async () => {
        await building;
        await hook('pre-deploy', { hosts });
      },
    }, { probe: deps.probe });
  })();
  try {
    const [result] = await Promise.all([converging, building]);
    return result;
  } catch (error) {
    // the first failure wins: stop the build, and let the lock be released before the session closes
    if (builder && !buildSettled) ctx.out.info(`Stopped the build (${ctx.signal.aborted ? 'interrupted' : 'a host check failed'}).`);
    stopBuild.abort();
    await Promise.allSettled([converging, building]);
    throw error;
  } finally {
    ctx.signal.removeEventListener('abort', onInterrupt);
  }
}

/**
 * The end of the final line: how many hosts were deployed (each verified by the plan's waits),
 * and the hosts skipped or blocked, by name. It never counts a host it did not change.
 */
export function deployedSummary(result: Pick<ConvergeResult, 'hosts' | 'missed' | 'plan'>, started: number): string {
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const missed = result.missed.map((m) => m.host);
  const others = result.plan.blockedHosts.map((b) => b.host).filter((host) => !missed.includes(host));
  const deployed = result.hosts.filter((host) => !others.includes(host));
  return (
    `${deployed.length} host(s) in ${seconds}s` +
    (missed.length ? `; skipped ${missed.join(', ')} (--skip-unreachable): recorded as behind, \`mrsk drift\` shows ${missed.length === 1 ? 'it' : 'them'}` : '') +
    (others.length ? `; ${others.join(', ')} could not be used` : '')
  );
}

/** Blocked hosts the user did not ask to skip: the run did not do all it was asked (exit 1). */
export function unexpectedlyBlocked(result: Pick<ConvergeResult, 'missed' | 'plan'>): number {
  return result.plan.blockedHosts.filter((b) => !result.missed.some((m) => m.host === b.host)).length;
}

