// The heart of apply, deploy, redeploy and rollback: lock the hosts, probe them, plan, show the
// plan, (confirm,) run it, record it in the audit log, and say what happened.
import type { CommandContext } from '../cli/context.ts';
import { audit, withLock } from '../apply/lock.ts';
import { planSummaryLine, renderPlan } from '../plan/render.ts';
import type { Plan, PlanStep } from '../plan/types.ts';
import type { Snapshot } from '../probe/types.ts';
import { HostError } from '../errors.ts';
import type { MissedHost } from '../probe/types.ts';
import { desired as deriveDesired } from '../desired/desired.ts';
import type { Desired } from '../desired/types.ts';
import { diff } from '../plan/diff.ts';
import { confirm, probe, reachable, targetVersion, type Session } from './common.ts';
import { requireUsableHosts, skipUnusableHosts, type ChangeVerb } from './preflight.ts';
import { runPlan } from './apply-plan.ts';
import { snapshotWarnings } from '../probe/probe.ts';
import { notePlan } from '../cli/pipeline.ts';
import { requireTakeoverConsent } from './takeover.ts';

export interface ConvergeOptions {
  /** The command line recorded in the lock and audit log, e.g. `deploy v2`. */
  readonly command: string;
  /** Version to converge to; undefined = the deployed one (else VERSION / git HEAD). */
  readonly version?: string;
  /** Ask before acting (apply on a terminal); false for deploy/redeploy/rollback. */
  readonly ask: boolean;
  readonly autoApprove?: boolean;
  readonly lockWait?: number;
  readonly forceLock?: boolean;
  /** Drop steps from the plan (redeploy skips Traefik boot). */
  readonly keepStep?: (step: PlanStep, snapshot: Snapshot) => boolean;
  /** Check the plan before it runs (rollback: must not pull). */
  readonly checkPlan?: (plan: Plan, snapshot: Snapshot) => void;
  /**
   * The lock-free first probe, when the caller made it already and reported its unusable hosts
   * (deploy probes before it builds): converge then locks the hosts that answered it.
   */
  readonly firstProbe?: Snapshot;
  /** Awaited once the lock is held and before the hosts are read under it (deploy: the build and push). */
  readonly whenLocked?: () => Promise<void>;
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
  /**
   * The desired state to converge to, when it is not the config's at `version` (rollback to a
   * release: what that release ran, src/desired/from-release.ts). Its version is the plan's.
   */
  readonly desired?: Desired;
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
  options: { skipUnreachable?: boolean; verb?: ChangeVerb } = {},
): { usable: string[]; missed: MissedHost[] } {
  if (options.skipUnreachable) return skipUnusableHosts(ctx, first, session.hosts);
  requireUsableHosts(first, session.hosts, options.verb);
  return { usable: [...session.hosts], missed: [] };
}

export async function converge(ctx: CommandContext, session: Session, options: ConvergeOptions, deps: ConvergeDeps = { probe }): Promise<ConvergeResult> {
  const started = Date.now();
  // A first, lock-free probe finds the hosts that answer: only those can be locked and changed.
  const first = options.firstProbe ?? (await deps.probe(session));
  const chosen = options.firstProbe
    ? { usable: reachable(first).map((h) => h.host), missed: [...(options.missedHosts ?? [])] }
    : hostsToChange(ctx, session, first, options);
  const up = chosen.usable;
  const missed = chosen.missed;
  if (up.length === 0) throw new HostError(session.hosts.join(', '), 'no selected host could be reached');
  requireTakeoverConsent(first, up, session.config.service, session.config.destination, options.takeover, options.takeoverCommand);
  const version = await targetVersion(ctx, session.config, first, options.version);

  const lockRequest = {
    service: session.config.service,
    destination: session.config.destination,
    command: options.command,
    waitSeconds: options.lockWait,
    force: options.forceLock,
  };
  return withLock(session.remote, up, lockRequest, async () => {
    await options.whenLocked?.();
    const snapshot = await deps.probe(session, up);
    // an unreadable release record or lock holder on a usable host: said once, with its fix
    for (const warning of snapshotWarnings(snapshot)) ctx.out.warn(warning);
    // the skipped hosts are named in every release this plan records (drift and plan show them behind)
    let plan = diff(options.desired ?? deriveDesired(session.config, version), snapshot, { hosts: [...session.hosts], roles: [...session.roles], missedHosts: missed });
    if (options.keepStep) {
      const keep = options.keepStep;
      const kept = new Set(plan.steps.filter((step) => keep(step, snapshot)).map((s) => s.id));
      // dependencies on dropped steps are dropped too, or the kept steps would be skipped
      plan = { ...plan, steps: plan.steps.filter((s) => kept.has(s.id)).map((s) => ({ ...s, dependsOn: s.dependsOn.filter((d) => kept.has(d)) })) };
    }
    // Hosts the first probe could not reach were not probed again: report them as the first probe saw them.
    const unreachable = Object.values(first.hosts).filter((h) => h.status !== 'ok');
    plan = {
      ...plan,
      blockedHosts: [
        ...plan.blockedHosts.filter((b) => !unreachable.some((h) => h.host === b.host)),
        ...unreachable.map((h) => ({ host: h.host, status: h.status, message: 'message' in h ? h.message : '' })),
      ],
    };
    options.checkPlan?.(plan, snapshot);
    // -q: no plan, unless a person is about to be asked to approve it
    notePlan(plan); // the plan event (--json) and the CI summary
    if (!ctx.out.json && (!ctx.out.quiet || (options.ask && !options.autoApprove))) ctx.out.print(renderPlan(plan, { color: ctx.out.color, verbose: ctx.out.verbose, width: ctx.out.width }));
    // With -q the plan's summary is a status line: the final one when nothing follows (No changes).
    else ctx.out.info(planSummaryLine(plan));
    if (plan.steps.length === 0) return { plan, version, ms: Date.now() - started, hosts: up, missed };
    if (options.ask) await confirm(ctx, 'Apply these changes?', options.autoApprove);
    try {
      await runPlan(ctx, session, plan, snapshot);
      await audit(session.remote, up, session.config.service, session.config.destination, `${options.command}: applied ${plan.steps.length} steps, version ${version}`).catch(() => undefined);
    } catch (error) {
      await audit(session.remote, up, session.config.service, session.config.destination, `${options.command}: FAILED (${(error as Error).message.split('\n')[0]})`).catch(() => undefined);
      throw error;
    }
    return { plan, version, ms: Date.now() - started, hosts: up, missed };
  });
}
