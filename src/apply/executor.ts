// Runs a plan: batch after batch (boot.limit / boot.wait), and inside a batch every step as soon
// as the steps it depends on have finished. It carries no decision logic: what to do and in which
// order is the plan's; a failed step skips everything that depends on it, and no later batch starts.
import type { Plan, PlanStep } from '../plan/types.ts';
import { runStep, type StepContext } from './steps.ts';
import { sleep } from './remote.ts';
import { InternalError } from '../errors.ts';

export type StepStatus = 'pending' | 'running' | 'done' | 'failed' | 'skipped';

export type ExecutorEvent =
  | { readonly type: 'step-start'; readonly step: PlanStep }
  | { readonly type: 'step-progress'; readonly step: PlanStep; readonly message: string }
  | { readonly type: 'step-end'; readonly step: PlanStep; readonly status: 'done' | 'failed' | 'skipped'; readonly ms: number; readonly error?: Error }
  | { readonly type: 'batch-wait'; readonly batch: number; readonly seconds: number };

export interface ExecuteOptions extends Omit<StepContext, 'progress' | 'pollIntervalMs' | 'drainGraceMs'> {
  readonly plan: Plan;
  readonly onEvent?: (event: ExecutorEvent) => void;
  readonly pollIntervalMs?: number;
  readonly drainGraceMs?: number;
  /** Carries out one step (default: runStep). Replaced in tests of the scheduling alone. */
  readonly stepRunner?: (ctx: StepContext, step: PlanStep) => Promise<void>;
}

export interface ExecuteResult {
  readonly ok: boolean;
  readonly statuses: Readonly<Record<string, StepStatus>>;
  readonly failures: readonly { readonly step: PlanStep; readonly error: Error }[];
  readonly ms: number;
}

export async function executePlan(options: ExecuteOptions): Promise<ExecuteResult> {
  const started = Date.now();
  const emit = options.onEvent ?? (() => {});
  const statuses: Record<string, StepStatus> = Object.fromEntries(options.plan.steps.map((s) => [s.id, 'pending']));
  const failures: { step: PlanStep; error: Error }[] = [];
  const batches = [...new Set(options.plan.steps.map((s) => s.batch))].sort((a, b) => a - b);

  for (const [index, batch] of batches.entries()) {
    if (options.signal?.aborted || failures.length > 0) break;
    if (index > 0 && options.plan.batchWait > 0) {
      emit({ type: 'batch-wait', batch, seconds: options.plan.batchWait });
      await sleep(options.plan.batchWait * 1000, options.signal);
    }
    await runBatch(options.plan.steps.filter((s) => s.batch === batch), statuses, failures, options, emit);
  }
  for (const step of options.plan.steps) {
    if (statuses[step.id] === 'pending') {
      statuses[step.id] = 'skipped';
      emit({ type: 'step-end', step, status: 'skipped', ms: 0 });
    }
  }
  return { ok: failures.length === 0 && !options.signal?.aborted, statuses, failures, ms: Date.now() - started };
}

async function runBatch(
  steps: readonly PlanStep[],
  statuses: Record<string, StepStatus>,
  failures: { step: PlanStep; error: Error }[],
  options: ExecuteOptions,
  emit: (event: ExecutorEvent) => void,
): Promise<void> {
  const running = new Map<string, Promise<void>>();
  const isBlocked = (step: PlanStep) => step.dependsOn.some((dep) => statuses[dep] === 'failed' || statuses[dep] === 'skipped');
  const isReady = (step: PlanStep) => step.dependsOn.every((dep) => statuses[dep] === 'done' || statuses[dep] === undefined);

  for (;;) {
    let progressed = true;
    while (progressed) {
      progressed = false;
      for (const step of steps) {
        if (statuses[step.id] !== 'pending') continue;
        if (isBlocked(step) || options.signal?.aborted) {
          statuses[step.id] = 'skipped';
          emit({ type: 'step-end', step, status: 'skipped', ms: 0 });
          progressed = true;
        } else if (isReady(step)) {
          statuses[step.id] = 'running';
          running.set(step.id, start(step));
          progressed = true;
        }
      }
    }
    if (running.size === 0) {
      // Nothing runs and something still waits: its dependencies can never finish (they wait on
      // each other, or on a later batch). A planner bug; never a silent "skipped" and exit 0.
      for (const step of steps) {
        if (statuses[step.id] !== 'pending') continue;
        const error = new InternalError(`step ${step.id} waits for ${step.dependsOn.filter((dep) => statuses[dep] !== 'done').join(', ')}, which can never finish: the plan is inconsistent (a bug in mrsk; nothing after it ran)`);
        statuses[step.id] = 'failed';
        failures.push({ step, error });
        emit({ type: 'step-end', step, status: 'failed', ms: 0, error });
      }
      return;
    }
    await Promise.race(running.values());
  }

  async function start(step: PlanStep): Promise<void> {
    const t0 = Date.now();
    emit({ type: 'step-start', step });
    const ctx: StepContext = {
      ...options,
      pollIntervalMs: options.pollIntervalMs ?? 250,
      drainGraceMs: options.drainGraceMs ?? 1000,
      progress: (message) => emit({ type: 'step-progress', step, message }),
    };
    try {
      await (options.stepRunner ?? runStep)(ctx, step);
      statuses[step.id] = 'done';
      emit({ type: 'step-end', step, status: 'done', ms: Date.now() - t0 });
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error));
      statuses[step.id] = 'failed';
      failures.push({ step, error: err });
      emit({ type: 'step-end', step, status: 'failed', ms: Date.now() - t0, error: err });
    } finally {
      running.delete(step.id);
    }
  }
}
