// The one pipeline every command that changes hosts goes through: lock the hosts, probe them,
// plan (the command's intent is a PlanRequest, src/plan/request.ts; nothing edits the plan
// afterwards), show the plan, confirm when asked, run it with live progress, record it in the
// audit log, and say what happened. apply, apply FILE, deploy, redeploy, setup, rollback, prune,
// drift --fix, remove, traefik boot/reboot/start/stop/restart/remove and app start/stop call it.
import type { CommandContext } from '../cli/context.ts';
import { auditOrReport, withLock } from '../apply/lock.ts';
import { planSummaryLine, renderPlan, roleOrderNote } from '../views/plan.ts';
import type { Plan } from '../plan/types.ts';
import type { Snapshot } from '../probe/types.ts';
import { describeError, HostError, StalePlanError } from '../errors.ts';
import type { MissedHost } from '../probe/types.ts';
import { deriveDesired } from '../desired/desired.ts';
import type { Desired } from '../desired/types.ts';
import { diff } from '../plan/diff.ts';
import { modeOf, type PlanRequest } from '../plan/request.ts';
import { fingerprintSnapshot } from '../plan/fingerprint.ts';
import { confirm, probe, reachable, targetVersion, type Session } from './shared/common.ts';
import { requireUsableHosts, skipUnusableHosts, type ChangeVerb } from './shared/preflight.ts';
import { runPlan } from './shared/apply-plan.ts';
import { snapshotWarnings } from '../probe/probe.ts';
import { notePlan } from '../cli/pipeline.ts';
import { requireTakeoverConsent } from './shared/takeover.ts';

/** The intent, without what the session already says (hosts, roles) or the run finds (missed hosts). */
export type Intent = Omit<PlanRequest, 'hosts' | 'roles' | 'missedHosts'>;

export interface ConvergeOptions {
  /** The command line recorded in the lock and audit log, e.g. `deploy v2`. */
  readonly command: string;
  /** What the plan is for (default: converge everything to the desired state). */
  readonly request?: Intent;
  /** Version to converge to; undefined = the deployed one (else VERSION / git HEAD). */
  readonly version?: string;
  /**
   * The desired state to converge to, when it is not the config's at `version` (rollback to a
   * release: what that release ran, src/desired/from-release.ts). Its version is the plan's.
   */
  readonly desired?: Desired;
  /**
   * The desired state and intent, made from the hosts as read under the lock (drift --fix: each
   * host's recorded release). Only the hosts it names are planned; undefined: nothing to do.
   */
  readonly planFor?: (snapshot: Snapshot) => PlanFor | undefined;
  /** A plan saved by `mrsk plan --out`: run as it is, only if the hosts did not change since. */
  readonly saved?: { readonly plan: Plan; readonly file: string };
  /** Only these of the session's hosts (traefik commands: the hosts that run Traefik). */
  readonly hosts?: readonly string[];
  /** Ask before acting (apply on a terminal, remove); false for deploy/redeploy/rollback. */
  readonly ask: boolean;
  /** The question asked (default "Apply these changes?"). */
  readonly question?: string;
  readonly autoApprove?: boolean;
  readonly lockWait?: number;
  readonly forceLock?: boolean;
  /**
   * The lock-free first probe, when the caller made it already and reported its unusable hosts
   * (deploy probes before it builds): converge then locks the hosts that answered it.
   */
  readonly firstProbe?: Snapshot;
  /** Awaited once the lock is held and before the hosts are read under it (deploy: the build and push). */
  readonly whenLocked?: () => Promise<void>;
  /**
   * Awaited under the lock once the hosts to change are chosen from the read under it, before the
   * plan (a deploy with nothing to build: the registry login started with the lock, and pre-deploy).
   */
  readonly hostsChosen?: (hosts: readonly string[]) => Promise<void>;
  /**
   * --skip-unreachable: change the usable hosts and record the others as behind. Without it, any
   * selected host that cannot be used stops the command before anything changes (exit 69).
   */
  readonly skipUnreachable?: boolean;
  /** With firstProbe: the hosts the caller skipped (--skip-unreachable), for the release record. */
  readonly missedHosts?: readonly MissedHost[];
  /** What the refusal says was not done: "deployed" (default) or "changed" (apply). */
  readonly verb?: ChangeVerb;
  /** --takeover: replace Kamal's Traefik on hosts Kamal runs; without it such a host stops the command (exit 64). */
  readonly takeover?: boolean;
  /** The command line the takeover refusal names (default `mrsk deploy`). */
  readonly takeoverCommand?: string;
  /** The heading of the plan in CI summaries (default "Plan"). */
  readonly heading?: string;
  /** Run once the lock is released, with the hosts that were changed (remove: the emptied state folders). */
  readonly afterUnlock?: (hosts: readonly string[]) => Promise<void>;
}

/** What planFor makes from the hosts as read under the lock. */
export interface PlanFor {
  readonly desired: Desired;
  readonly request: Intent;
  readonly hosts: readonly string[];
  /** The roles the plan covers, when not the session's (rollback: the roles the release ran). */
  readonly roles?: readonly string[];
  /** The version the plan converges to, when only the hosts could tell it (rollback: a prefix resolved). */
  readonly version?: string;
}

/** How converge reads the hosts; a fake in tests. */
export interface ConvergeDeps {
  readonly probe: (session: Session, hosts?: readonly string[]) => Promise<Snapshot>;
}

export interface ConvergeResult {
  readonly plan: Plan;
  readonly version: string;
  readonly ms: number;
  readonly hosts: readonly string[];
  /** Hosts skipped with --skip-unreachable, recorded as behind in the release. */
  readonly missed: readonly MissedHost[];
}

/**
 * The one rule for hosts that cannot be used: without --skip-unreachable any such host stops the
 * command before anything changes (exit 69, naming each host, what was seen and the flag); with
 * it the usable hosts go on and the others are returned to be recorded as behind.
 */
export function hostsToChange(
  ctx: CommandContext,
  session: Session,
  first: Snapshot,
  options: { skipUnreachable?: boolean; verb?: ChangeVerb; hosts?: readonly string[] } = {},
): { usable: string[]; missed: MissedHost[] } {
  const hosts = options.hosts ?? session.hosts;
  if (options.skipUnreachable) return skipUnusableHosts(ctx, first, hosts);
  requireUsableHosts(first, hosts, options.verb);
  return { usable: [...hosts], missed: [] };
}

/** Hosts the first probe could not reach were not probed again: the plan reports them as it saw them. */
function withFirstProbeBlocks(plan: Plan, first: Snapshot): Plan {
  const unreachable = Object.values(first.hosts).filter((h) => h.status !== 'ok');
  if (unreachable.length === 0) return plan;
  return {
    ...plan,
    blockedHosts: [
      ...plan.blockedHosts.filter((b) => !unreachable.some((h) => h.host === b.host)),
      ...unreachable.map((h) => ({ host: h.host, status: h.status, message: 'message' in h ? h.message : '' })),
    ],
  };
}

export async function converge(ctx: CommandContext, session: Session, options: ConvergeOptions, deps: ConvergeDeps = { probe }): Promise<ConvergeResult> {
  const started = Date.now();
  const selected = options.saved ? [...new Set(options.saved.plan.steps.map((step) => step.host))] : (options.hosts ?? session.hosts);
  if (selected.length === 0) throw new HostError(session.hosts.join(', '), 'no selected host could be reached');
  // A saved plan names its hosts and a caller's own first probe (deploy) already chose them: lock
  // those. Otherwise the lock comes first and the one probe under it decides everything.
  if (options.saved) return lockedRun(ctx, session, options, deps, started, { hosts: selected, missed: [] });
  if (options.firstProbe) {
    const first = options.firstProbe;
    const up = reachable(first).map((h) => h.host).filter((h) => selected.includes(h));
    if (up.length === 0) throw new HostError(selected.join(', '), 'no selected host could be reached');
    const version = await consentAndVersion(ctx, session, options, first, up);
    return lockedRun(ctx, session, options, deps, started, { hosts: up, missed: [...(options.missedHosts ?? [])], first, version });
  }
  try {
    return await lockedRun(ctx, session, options, deps, started, { hosts: selected, missed: [], chooseUnderLock: true });
  } catch (error) {
    if (!(error instanceof LockNotTaken)) throw error;
  }
  // A selected host refused the lock's connection: read the hosts without it, as before, so that
  // the unusable ones are named (or skipped with --skip-unreachable) exactly like a probe names them.
  const first = await deps.probe(session, selected);
  const { usable, missed } = hostsToChange(ctx, session, first, { ...options, hosts: selected });
  if (usable.length === 0) throw new HostError(selected.join(', '), 'no selected host could be reached');
  const version = await consentAndVersion(ctx, session, options, first, usable);
  return lockedRun(ctx, session, options, deps, started, { hosts: usable, missed, first, version });
}

/**
 * What a read of the hosts that will change decides before a plan: Kamal's Traefik is replaced
 * only with --takeover, and the version to converge to (given, else deployed, else VERSION/git).
 */
async function consentAndVersion(ctx: CommandContext, session: Session, options: ConvergeOptions, snapshot: Snapshot, hosts: readonly string[]): Promise<string> {
  requireTakeoverConsent(snapshot, hosts, session.config.service, session.config.destination, options.takeover, options.takeoverCommand);
  return options.desired?.version ?? (await targetVersion(ctx, session.config, snapshot, options.version));
}

/** The lock could not be taken because a host's connection failed before anything ran there. */
class LockNotTaken extends Error {}

/** A host that could not be used to take the lock: the lock-free probe names it, as it always did. */
const CONNECTION_KINDS = new Set(['unreachable', 'auth-failed', 'host-key-changed', 'host-key-unknown', 'timeout']);

interface LockedHosts {
  /** The hosts to lock and read under the lock. */
  readonly hosts: readonly string[];
  readonly missed: readonly MissedHost[];
  /** The lock-free read the hosts were chosen from (its unreachable hosts are reported as it saw them). */
  readonly first?: Snapshot;
  readonly version?: string;
  /** No read before the lock: usability, takeover consent and the version come from the read under it. */
  readonly chooseUnderLock?: boolean;
}

async function lockedRun(ctx: CommandContext, session: Session, options: ConvergeOptions, deps: ConvergeDeps, started: number, chosen: LockedHosts): Promise<ConvergeResult> {
  const { service, destination } = session.config;
  const mode = modeOf(options.request ?? {});
  const lockRequest = {
    service, destination, command: options.command, waitSeconds: options.lockWait, force: options.forceLock,
    // shortened only by the fast command tests (Session.timings)
    renewIntervalMs: session.timings?.leaseRenewMs, retryIntervalMs: session.timings?.lockRetryMs,
  };
  let locked = false;
  let up = [...chosen.hosts];
  let missed = [...chosen.missed];
  let first = chosen.first;
  let version = options.saved?.plan.version ?? chosen.version ?? '';
  let result: ConvergeResult;
  try {
    result = await withLock(session.remote, up, lockRequest, async (_lock, lost) => {
      locked = true;
      await options.whenLocked?.();
      const snapshot = await deps.probe(session, up);
      // an unreadable release record or lock holder on a usable host: said once, with its fix
      for (const warning of snapshotWarnings(snapshot)) ctx.out.warn(warning);
      if (chosen.chooseUnderLock) {
        // what the lock-free first read was for, from the read under the lock: any unusable host
        // stops the command (exit 69) unless --skip-unreachable, Kamal's Traefik needs --takeover
        ({ usable: up, missed } = hostsToChange(ctx, session, snapshot, { ...options, hosts: up }));
        if (up.length === 0) throw new HostError(chosen.hosts.join(', '), 'no selected host could be reached');
        version = await consentAndVersion(ctx, session, options, snapshot, up);
        first = snapshot;
      }
      await options.hostsChosen?.(up);
      let plan: Plan;
      if (options.saved) {
        if (fingerprintSnapshot(snapshot) !== options.saved.plan.snapshotFingerprint) {
          throw new StalePlanError(`the saved plan ${options.saved.file} is stale: the hosts changed since it was made. Run \`mrsk plan --out ${options.saved.file}\` again.`);
        }
        // a saved plan that takes a Kamal host over needs the same consent as a fresh one
        requireTakeoverConsent(snapshot, up, service, destination, options.takeover, options.takeoverCommand);
        plan = options.saved.plan;
      } else if (options.planFor) {
        const made = options.planFor(snapshot);
        const hosts = up.filter((host) => made?.hosts.includes(host));
        if (made?.version) version = made.version;
        const request: PlanRequest = { ...made?.request, hosts, roles: [...(made?.roles ?? session.roles)], missedHosts: missed };
        plan = made && hosts.length > 0 ? diff(made.desired, snapshot, request) : { ...diff(deriveDesired(session.config, version), snapshot, { hosts: [] }), blockedHosts: [] };
      } else {
        // the skipped hosts are named in every release this plan records (drift and plan show them behind)
        const request: PlanRequest = { ...options.request, hosts: [...up], roles: [...session.roles], missedHosts: missed };
        plan = withFirstProbeBlocks(diff(options.desired ?? deriveDesired(session.config, version), snapshot, request), first!);
      }
      // -q: no plan, unless a person is about to be asked to approve it
      notePlan(plan, options.heading); // the plan event (--json) and the CI summary
      if (!ctx.out.json && (!ctx.out.quiet || (options.ask && !options.autoApprove))) {
        const order = roleOrderNote(plan, session.config.boot.parallelRoles);
        ctx.out.print(renderPlan(plan, { color: ctx.out.color, verbose: ctx.out.verbose, width: ctx.out.width, ...(order ? { notes: [order] } : {}) }));
      }
      // With -q the plan's summary is a status line: the final one when nothing follows (No changes).
      else ctx.out.info(planSummaryLine(plan));
      if (plan.steps.length === 0) return { plan, version, ms: Date.now() - started, hosts: up, missed };
      if (options.ask) await confirm(ctx, options.question ?? 'Apply these changes?', options.autoApprove);
      const changed = [...new Set(plan.steps.map((step) => step.host))];
      // remove empties the state folder, audit log included: a line written after it would bring the folder back
      // (only the app's destroy removes it: traefik/accessory remove are audited like any change)
      const audited = !(mode === 'destroy' && (options.request?.target ?? 'app') === 'app');
      try {
        // a lost lock stops the run: no further step starts, a running wait ends
        await runPlan(ctx, session, plan, snapshot, lost);
        if (audited) await auditOrReport(session.remote, changed, service, destination, `${options.command}: applied ${plan.steps.length} steps, version ${version}`, (text) => ctx.out.warn(text));
      } catch (error) {
        // the run's own error says what went wrong: an audit line that cannot be written is a debug line
        if (audited) await auditOrReport(session.remote, changed, service, destination, `${options.command}: FAILED (${describeError(error).split('\n')[0]})`, (text) => ctx.out.debug(text));
        throw error;
      }
      return { plan, version, ms: Date.now() - started, hosts: up, missed };
    });
  } catch (error) {
    // a connection that failed while the lock was being taken: the caller reads the hosts lock-free
    // to say which host cannot be used (a lock left stuck somewhere is reported, never retried over)
    if (!locked && chosen.chooseUnderLock && error instanceof HostError && CONNECTION_KINDS.has(error.kind) && !/could not be released/.test(error.message) && !ctx.signal.aborted) {
      throw new LockNotTaken(error.message, { cause: error });
    }
    throw error;
  }
  if (options.afterUnlock && result.plan.steps.length > 0) await options.afterUnlock([...new Set(result.plan.steps.map((step) => step.host))]);
  return result;
}
