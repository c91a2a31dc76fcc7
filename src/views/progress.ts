// Live progress of an apply, for people. On a terminal: a listr2 task list (one task per step,
// grouped per host, updating in place). Elsewhere (CI logs, pipes): one line when a step ends.
// Machines get the same executor events as NDJSON (src/cli/pipeline.ts, `--json`): the caller
// hands every event to both (src/commands/shared/apply-plan.ts), and neither describes a step
// other than through src/views/steps.ts (the stream names its kind only).
import { Listr, type ListrTask } from 'listr2';
import type { ExecutorEvent } from '../apply/executor.ts';
import type { Output } from '../cli/output.ts';
import type { PlanStep } from '../plan/types.ts';
import { describeStep } from './steps.ts';

export interface Progress {
  readonly onEvent: (event: ExecutorEvent) => void;
  /** Resolves when the display has finished drawing. */
  finish(): Promise<void>;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** Line-per-step progress for logs. */
export function lineProgress(out: Output, signal?: AbortSignal): Progress {
  return {
    onEvent(event) {
      if (event.type === 'batch-wait') out.info(`waiting ${event.seconds}s before the next batch of hosts`);
      if (event.type !== 'step-end') return;
      const { step, status, ms } = event;
      const interrupted = signal?.aborted && status !== 'done';
      const mark = status === 'done'
        ? out.paint('green', 'ok')
        : interrupted
          ? out.paint('yellow', status === 'failed' ? 'INTERRUPTED' : 'not started (interrupted)')
          : status === 'failed' ? out.paint('red', 'FAILED') : out.paint('dim', 'skipped');
      out.info(`  ${step.host}  ${describeStep(step)} ${mark}${status === 'done' ? ` (${seconds(ms)})` : ''}`);
    },
    finish: async () => {},
  };
}

interface Deferred {
  resolve(): void;
  reject(error: Error): void;
  skip(): void;
  progress(message: string): void;
}

/**
 * listr2 progress for terminals: tasks are created up front and follow the executor's events.
 * listr2's own SIGINT handler is off (it would exit 127 at once, skipping mrsk's clean-up): an
 * interrupt reaches the executor through the run's signal, and the display shows it.
 */
export function listrProgress(steps: readonly PlanStep[], out: Output, signal?: AbortSignal): Progress {
  const waiting = new Map<string, Deferred>();
  const running = new Set<string>();
  const hosts = [...new Set(steps.map((s) => s.host))];
  const tasks: ListrTask[] = hosts.map((host) => ({
    title: host,
    task: (_ctx, hostTask) =>
      hostTask.newListr(
        steps.filter((s) => s.host === host).map((step) => ({
          title: describeStep(step),
          task: (_c, task) =>
            new Promise<void>((resolve, reject) => {
              waiting.set(step.id, {
                resolve,
                reject: (error) => {
                  if (signal?.aborted) task.title = `${describeStep(step)} (interrupted)`;
                  reject(error);
                },
                skip: () => {
                  task.skip(`${describeStep(step)} (${signal?.aborted ? 'not started: interrupted' : 'skipped'})`);
                  resolve();
                },
                progress: (message) => {
                  task.output = message;
                },
              });
            }),
        })),
        { concurrent: true, exitOnError: false },
      ),
  }));
  const list = new Listr(tasks, {
    concurrent: true,
    exitOnError: false,
    registerSignalListeners: false,
    renderer: 'default',
    rendererOptions: { collapseSubtasks: false, showErrorMessage: false },
  });
  // Shown at once: listr2 holds back other output until the display ends.
  signal?.addEventListener(
    'abort',
    () => {
      for (const id of running) {
        const deferred = waiting.get(id);
        deferred?.progress('interrupted — stopping, then releasing the deploy lock…');
      }
    },
    { once: true },
  );
  const done = list.run().catch(() => undefined).then(() => undefined);
  const pending = new Map<string, ExecutorEvent>();
  const settle = (event: ExecutorEvent) => {
    if (event.type === 'batch-wait') return out.info(`waiting ${event.seconds}s before the next batch of hosts`);
    if (event.type === 'step-start') running.add(event.step.id);
    if (event.type === 'step-end') running.delete(event.step.id);
    const deferred = waiting.get(event.step.id);
    if (!deferred) {
      // The task has not been set up yet (listr starts tasks asynchronously): replay later.
      if (event.type === 'step-end') pending.set(event.step.id, event);
      return;
    }
    if (event.type === 'step-progress') deferred.progress(event.message);
    if (event.type === 'step-end') {
      if (event.status === 'done') deferred.resolve();
      else if (event.status === 'skipped') deferred.skip();
      else deferred.reject(event.error ?? new Error('failed'));
    }
  };
  return {
    onEvent: settle,
    async finish() {
      for (let i = 0; i < 50 && pending.size > 0; i++) {
        for (const [id, event] of pending) {
          if (waiting.has(id)) {
            pending.delete(id);
            settle(event);
          }
        }
        if (pending.size > 0) await new Promise((r) => setTimeout(r, 20));
      }
      await done;
    },
  };
}

/**
 * The display for this output: none with --quiet, listr2 on an interactive terminal, lines
 * elsewhere (a CI log, a pipe, and with --json, where they go to stderr: Output does that).
 */
export function makeProgress(steps: readonly PlanStep[], out: Output, signal?: AbortSignal): Progress {
  if (out.quiet) return { onEvent: () => {}, finish: async () => {} };
  return out.live ? listrProgress(steps, out, signal) : lineProgress(out, signal);
}
