// mrsk drift [--fix]: for cron, systemd timers and CI. Probe, compare each host with the release
// last applied to it (the desired state at the RECORDED version), report every difference with
// its cause; exit 0 none, 2 drift, 1 a host could not be checked. --fix restores the recorded
// release only (never a new version or config) under the deploy lock; a held lock skips the run.
import type { RegisterCommand } from '../cli/program.ts';
import type { CommandContext } from '../cli/context.ts';
import { describeLock } from '../apply/lock.ts';
import { isStale } from '../apply/lock-holder.ts';
import { fixIntent } from '../drift/fix-intent.ts';
import { allFindings, detectDrift, driftExitCode, type DriftScope } from '../drift/detect.ts';
import { renderDriftText } from '../views/drift.ts';
import type { DriftReport } from '../drift/types.ts';
import { LockHeldError } from '../errors.ts';
import type { Snapshot } from '../probe/types.ts';
import { probe, reachable, requireHosts, type Session } from './shared/common.ts';
import { converge } from './converge.ts';
import { runEvents } from '../cli/pipeline.ts';
import { lockOptions, parseLockRequest, type LockOptionValues, type LockRequest } from './shared/options.ts';
import { withSession } from './shared/session.ts';

interface DriftOptions extends LockOptionValues {
  fix?: boolean;
  json?: boolean;
  failIfLocked?: boolean;
}

/** --json: the report as the event stream's last line (the only line without --fix). */
function printReport(ctx: CommandContext, exitCode: number, report: Record<string, unknown>): void {
  const events = runEvents();
  if (events) events.commandSummary(exitCode, report);
  else ctx.out.printJson(report);
}

/** Exit code of a run skipped because someone holds the deploy lock, with --fail-if-locked (EX_TEMPFAIL). */
const EXIT_LOCKED = 75;

/** The lock of another run that is alive (a stale one does not stop a report; --fix still cannot take it). */
function liveLock(snapshot: Snapshot): { host: string; text: string } | undefined {
  for (const host of reachable(snapshot)) {
    // a holder that cannot be read has no times to describe: its message says how to clear it
    if (host.lock?.holder === 'unknown' && !host.lock.acquiredAt) return { host: host.host, text: `held by an unknown run (${host.lock.message ?? 'its holder cannot be read'})` };
    if (host.lock && !isStale(host.lock)) return { host: host.host, text: describeLock(host.lock) };
  }
  return undefined;
}

function skipLocked(ctx: CommandContext, options: DriftOptions, reason: string): number {
  const code = options.failIfLocked ? EXIT_LOCKED : 0;
  if (options.json) printReport(ctx, code, { formatVersion: '1', skipped: true, reason, exitCode: code });
  else ctx.out.print(`Drift ${options.fix ? 'fix ' : ''}skipped: ${reason}. A deploy may be in progress; the next scheduled run checks again.`);
  return code;
}

interface FixOutcome {
  readonly stepsRun: number;
  readonly failures: readonly string[];
}

/**
 * Restores each host's recorded release through the one pipeline: under the lock the hosts are
 * read again and the planner is asked to converge them to their releases (src/drift/fix-intent.ts:
 * the release's own desired state, hand-edited containers replaced). A held lock throws
 * LockHeldError (the run is skipped).
 */
async function fix(ctx: CommandContext, session: Session, scope: DriftScope, hosts: readonly string[], lock: LockRequest): Promise<FixOutcome> {
  const { config } = session;
  let leftOut: readonly { host: string; reason: string }[] = [];
  try {
    const result = await converge(ctx, session, {
      command: 'drift --fix',
      hosts,
      ask: false,
      lockWait: lock.waitSeconds,
      verb: 'changed',
      heading: 'restore the recorded release',
      planFor: (snapshot) => {
        const intent = fixIntent(config, snapshot, { ...scope, hosts });
        leftOut = intent.leftOut;
        return intent.plan;
      },
    });
    for (const { host, reason } of leftOut) ctx.out.warn(`${host}: not fixed: ${reason}`);
    return { stepsRun: result.plan.steps.length, failures: [] };
  } catch (error) {
    if (error instanceof LockHeldError) throw error;
    return { stepsRun: 0, failures: [(error as Error).message] };
  }
}

export const register: RegisterCommand = (program, bind) => {
  lockOptions(program.command('drift'), { force: false, when: 'with --fix: ' })
    .description('compare the hosts with the release last applied to them (exit 0 none, 2 drift, 1 error); --fix restores that release')
    .option('--fix', 'restore the recorded release: restart or re-create its containers and Traefik, remove stray containers, prune; never a new version or config')
    .option('--json', 'print the report as JSON (for alerting); with --fix, NDJSON events first and the report last')
    .option('--fail-if-locked', `exit ${EXIT_LOCKED} instead of 0 when the deploy lock is held and the run is skipped`)
    .action(bind<DriftOptions>(async (ctx, options) => {
      const lock = parseLockRequest(options);
      return withSession(ctx, async (session) => {
        requireHosts(session.hosts);
        const scope: DriftScope = { hosts: session.hosts, ...(ctx.global.roles ? { roles: session.roles } : {}) };
        const snapshot = await probe(session);
        const held = liveLock(snapshot);
        if (held) return skipLocked(ctx, options, `the deploy lock on ${held.host} is ${held.text}`);
        const before = detectDrift(session.config, snapshot, scope);
        if (!options.fix || before.summary.fixable === 0) {
          if (options.json) printReport(ctx, driftExitCode(before), { ...before, exitCode: driftExitCode(before) });
          else {
            ctx.out.print(renderDriftText(before, { color: ctx.out.color }));
            if (options.fix) ctx.out.print('Nothing --fix can correct.');
          }
          return driftExitCode(before);
        }

        if (!options.json) ctx.out.print(renderDriftText(before, { color: ctx.out.color }));
        const fixHosts = [...new Set(allFindings(before).filter((f) => f.fixable).map((f) => f.host))];
        let outcome: FixOutcome;
        try {
          outcome = await fix(ctx, session, scope, fixHosts, lock);
        } catch (error) {
          if (error instanceof LockHeldError) return skipLocked(ctx, options, error.message);
          throw error;
        }
        const after: DriftReport = detectDrift(session.config, await probe(session), scope);
        const afterCode = driftExitCode(after);
        const code = outcome.failures.length > 0 ? 1 : afterCode;
        if (options.json) {
          printReport(ctx, code, { formatVersion: '1', before, fix: outcome, after, exitCode: code });
        } else {
          for (const failure of outcome.failures) ctx.out.error(failure);
          ctx.out.print(`After --fix (${outcome.stepsRun} steps run):\n`);
          ctx.out.print(renderDriftText(after, { color: ctx.out.color }));
        }
        return code;
      });
    }));
};
