// Shared by apply, deploy, redeploy, rollback and drift --fix: run a plan with live progress,
// then report what happened. A failed step leaves the old version serving (the plan orders
// every destructive step after the new container is healthy and routed).
import type { CommandContext } from '../../cli/context.ts';
import { afterSteps, noteStep } from '../../cli/pipeline.ts';
import { DeployError } from '../../errors.ts';
import { executePlan, type ExecuteResult, type ExecutorEvent } from '../../apply/executor.ts';
import { whoAmI } from '../../apply/lock-holder.ts';
import { HealthCheckError } from '../../apply/health-report.ts';
import type { Plan } from '../../plan/types.ts';
import type { Snapshot } from '../../probe/types.ts';
import { homes, type Session } from './common.ts';
import { makeProgress } from '../../views/progress.ts';
import { describeStep } from '../../views/steps.ts';
import { describeHalfCutover, halfCutovers } from './apply-outcome.ts';

/**
 * `signal`: the one withLock hands its work (default: the run's own): it also aborts when the
 * deploy lock is lost, so that no further step changes hosts another run may now be changing.
 */
export async function runPlan(ctx: CommandContext, session: Session, plan: Plan, snapshot: Snapshot, signal: AbortSignal = ctx.signal): Promise<ExecuteResult> {
  // One stream of executor events for both audiences: the NDJSON events and CI summaries
  // (machines, also with --quiet) and the display (people).
  const display = makeProgress(plan.steps, ctx.out, ctx.signal);
  const onEvent = (event: ExecutorEvent): void => {
    noteStep(event);
    display.onEvent(event);
  };
  const result = await executePlan({
    ...session.remote,
    signal,
    plan,
    service: session.config.service,
    destination: session.config.destination,
    homes: homes(snapshot),
    appliedBy: whoAmI(),
    onEvent,
    // shortened only by the fast command tests (Session.timings)
    pollIntervalMs: session.timings?.pollIntervalMs,
    drainGraceMs: session.timings?.drainGraceMs,
  });
  await display.finish();
  if (!ctx.out.quiet) afterSteps((text) => void (ctx.out.json ? ctx.out.stderr : ctx.out.stdout).write(text), plan.steps);
  if (!result.ok) {
    // Health reports are long: the first in full (probe, checks, logs), later ones summarized.
    let fullReports = 0;
    const lines = result.failures.map(({ step, error }) => {
      const text = error instanceof HealthCheckError && fullReports++ > 0 ? error.brief : error.message;
      return `${step.host}: ${describeStep(step)}: ${text.replace(`${step.host}: `, '')}`;
    });
    const skipped = Object.values(result.statuses).filter((s) => s === 'skipped').length;
    // hosts lost half-way through a cutover are named: they may serve the old and the new version
    const half = signal.aborted ? [] : halfCutovers(plan, result.statuses, result.failures);
    const others = half.length > 0 ? 'the other hosts keep' : 'hosts keep';
    // the lock lost (not an interrupt): withLock adds where and why to this error
    const stopped = ctx.signal.aborted ? 'interrupted' : signal.aborted ? 'stopped (the deploy lock was lost)' : 'apply failed';
    throw new DeployError(
      `${stopped}: ${lines.join('\n')}` +
        half.map((h) => `\n${describeHalfCutover(h)}`).join('') +
        (skipped && signal.aborted
          ? `\n${skipped} step(s) were not started. A new container that had started may serve beside the previous one; a container is only ever stopped after its replacement serves.`
          : skipped ? `\n${skipped} dependent step(s) were skipped; ${others} serving what they ran before. Fix the cause and run the command again: it converges from where it stopped.` : ''),
    );
  }
  return result;
}
