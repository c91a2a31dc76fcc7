// The steps most commands share: load the config, pick hosts, connect, probe, plan.
// Commands stay short and read like the sequence a user would do by hand.
import { createInterface } from 'node:readline/promises';
import type { CommandContext, RunTimings } from '../../cli/context.ts';
import type { Config } from '../../config/types.ts';
import { loadConfig } from '../../config/load.ts';
import { refusePlaceholders } from '../../config/refuse-placeholders.ts';
import { resolveVersion } from '../../config/version.ts';
import { hostsWithRoles, selectHosts } from '../../config/select.ts';
import { createSshRunner } from '../../ssh/runner.ts';
import { sshRunnerOptionsFromConfig } from './ssh-options.ts';
import type { Runner } from '../../ssh/types.ts';
import { probeHosts } from '../../probe/probe.ts';
import type { ReachableHost, Snapshot } from '../../probe/types.ts';
import { ROLE_LABEL, VERSION_LABEL } from '../../model/labels.ts';
import { deriveDesired } from '../../desired/desired.ts';
import type { Desired } from '../../desired/types.ts';
import { diff } from '../../plan/diff.ts';
import { hostsBehind } from '../../drift/missed.ts';
import type { Plan } from '../../plan/types.ts';
import { AbortedError, ConfigError, UsageError } from '../../errors.ts';
import type { Remote } from '../../apply/remote.ts';
import { HostRuntimes } from '../../apply/host-runtimes.ts';
import { runtimeWishOf } from '../../config/runtime.ts';

export interface Session {
  readonly config: Config;
  /**
   * Hosts selected by --hosts/--roles/--primary, in config order: the role hosts, then (without
   * --roles) the hosts that run only accessories. appHosts() keeps those the app runs on.
   */
  readonly hosts: readonly string[];
  readonly roles: readonly string[];
  readonly runner: Runner;
  readonly remote: Remote;
  /** Shorter waits (the fast command tests only; see CommandContext.testing). */
  readonly timings?: RunTimings;
  close(): Promise<void>;
}

export async function loadSessionConfig(ctx: CommandContext): Promise<Config> {
  return loadConfig({ file: ctx.global.config, destination: ctx.global.destination, cwd: ctx.cwd, env: process.env });
}

/** Loads the config, selects hosts and prepares (lazy) SSH connections. Call close() in finally. */
export async function openSession(ctx: CommandContext, overrides: { maxConcurrent?: number } = {}): Promise<Session> {
  const config = await loadSessionConfig(ctx);
  // Before any connection: the template's documentation addresses must never be contacted.
  await refusePlaceholders(config);
  const selection = selectHosts(config, { hosts: ctx.global.hosts, roles: ctx.global.roles, primary: ctx.global.primary });
  const options = sshRunnerOptionsFromConfig(config);
  // the fast command tests answer for the hosts through a scripted Runner (test/helpers/session.ts)
  const runner = ctx.testing?.runner ?? createSshRunner(overrides.maxConcurrent ? { ...options, maxConcurrentHosts: overrides.maxConcurrent } : options);
  return {
    config,
    hosts: selection.hosts,
    roles: selection.roles.map((r) => r.name),
    runner,
    remote: { runner, secrets: config.secrets, signal: ctx.signal, runtimes: new HostRuntimes((host) => runtimeWishOf(config, host)) },
    ...(ctx.testing?.timings ? { timings: ctx.testing.timings } : {}),
    close: () => runner.close(),
  };
}

/** The selected hosts that carry a selected role: the ones app commands act on (not the accessory-only ones). */
export function appHosts(session: Pick<Session, 'config' | 'hosts' | 'roles'>): string[] {
  return hostsWithRoles(session.config, session.hosts, session.roles);
}

/**
 * The session narrowed to the app's hosts, for commands about the app alone (deploy, redeploy,
 * rollback, releases, app …): a database server in no role is neither probed nor required there.
 */
export function appSession(session: Session): Session {
  return { ...session, hosts: appHosts(session) };
}

/** Probes the hosts (read-only) and records the runtime each one runs for the commands that follow. */
export async function probe(session: Session, hosts: readonly string[] = session.hosts): Promise<Snapshot> {
  const runtimes = session.remote.runtimes;
  const snapshot = await probeHosts(session.runner, [...hosts], session.config.service, session.config.destination, {
    imageRepo: session.config.image,
    ...(runtimes ? { runtimeOf: (host: string) => runtimes.wish(host) } : {}),
  });
  for (const host of reachable(snapshot)) runtimes?.record(host.host, host.runtime);
  return snapshot;
}

export function reachable(snapshot: Snapshot): ReachableHost[] {
  return Object.values(snapshot.hosts).filter((h): h is ReachableHost => h.status === 'ok');
}

export function homes(snapshot: Snapshot): Record<string, string> {
  return Object.fromEntries(reachable(snapshot).map((h) => [h.host, h.home]));
}

/**
 * The version now deployed: the version of the last release recorded on the hosts, else the
 * newest running container of the primary role. Undefined on hosts never deployed to.
 */
export function deployedVersion(config: Config, snapshot: Snapshot): string | undefined {
  const counts = new Map<string, number>();
  // a host a --skip-unreachable run left behind does not vote for the version it still runs
  const behind = hostsBehind(snapshot);
  for (const host of reachable(snapshot).filter((h) => !behind.has(h.host))) {
    let version = host.release?.version;
    if (!version) {
      const running = host.containers
        .filter((c) => c.state === 'running' && c.labels[ROLE_LABEL] === config.primaryRole && c.labels[VERSION_LABEL])
        .sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
      version = running?.labels[VERSION_LABEL];
    }
    if (version) counts.set(version, (counts.get(version) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
}

/** The version to converge to: --version, else what is deployed, else VERSION / git HEAD. */
export async function targetVersion(ctx: CommandContext, config: Config, snapshot: Snapshot, explicit?: string): Promise<string> {
  if (explicit) return explicit;
  const deployed = deployedVersion(config, snapshot);
  if (deployed) return deployed;
  return resolveVersion({ env: process.env, cwd: config.root || ctx.cwd });
}

export function makePlan(session: Session, snapshot: Snapshot, version: string): { desired: Desired; plan: Plan } {
  const desiredState = deriveDesired(session.config, version);
  const plan = diff(desiredState, snapshot, { hosts: [...session.hosts], roles: [...session.roles] });
  return { desired: desiredState, plan };
}

/**
 * Asks "yes" on a terminal. Without one (CI, cron, a pipe) nothing is ever asked: the command
 * stops with a usage error (exit 64) naming the flag to add, before anything changed.
 */
export async function confirm(ctx: CommandContext, question: string, autoApprove: boolean | undefined): Promise<void> {
  if (autoApprove) return;
  if (!process.stdin.isTTY) {
    throw new UsageError(`${question.replace(/\?$/, '')}: refusing to proceed without a terminal to confirm on; nothing was changed. Add -y (--auto-approve) to run without asking`);
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question(`${question} Only 'yes' will be accepted: `)).trim();
    if (answer !== 'yes') throw new AbortedError('cancelled: nothing was changed');
  } finally {
    rl.close();
  }
}

export function requireHosts(hosts: readonly string[]): void {
  if (hosts.length === 0) throw new ConfigError('no hosts selected: check servers in the config and the --hosts/--roles filters');
}

/**
 * For commands about the app: at least one selected host must carry a role. Selecting only hosts
 * that run accessories (`-h db1 deploy`) is a usage error that says where those commands are.
 */
export function requireAppHosts(session: Pick<Session, 'config' | 'hosts' | 'roles'>): void {
  requireHosts(session.hosts);
  if (appHosts(session).length === 0) {
    throw new UsageError(`${session.hosts.join(', ')} ${session.hosts.length === 1 ? 'carries' : 'carry'} no role of the app, only accessories: \`mrsk accessory\` acts on those`);
  }
}
