// Waiting for a new container to be healthy, and what a version that never is leaves behind: the
// report of why, the container stopped and renamed, and what still serves.
import { DeployError, TimeoutError } from '../errors.ts';
import type { StepAction } from '../plan/types.ts';
import * as runtime from '../runtime/index.ts';
import { DESTINATION_LABEL, ROLE_LABEL, SERVICE_LABEL, VERSION_LABEL } from '../model/labels.ts';
import { traefikServiceOf } from '../probe/observed.ts';
import { toShell } from '../shell/quote.ts';
import { redact } from '../secret.ts';
import { sanitizeHostText } from '../text/sanitize.ts';
import { neverHealthyName } from '../plan/never-healthy.ts';
import { inspectContainer, poll, run, runtimeOf, tryRun, type InspectedContainer } from './remote.ts';
import { HealthCheckError, LOG_LINES, healthReport, type HealthFailure, type OtherContainer, type ServingOutcome, type StopOutcome } from './health-report.ts';
import { isTransportError, lastLineOf, serverUrlOf, traefikServers, HOST_WAIT, type StepContext, type Handler } from './step-kit.ts';

/** Added to a wait for a known moment (a readiness delay's end): timers and Date.now() count in whole ms and from the loop's cached time. */
const TIMER_MARGIN_MS = 10;

/** Why waiting for health ended on the container's side (not on the connection's). */
class NotHealthy extends Error {}

export const waitHealthy: Handler<'container-wait-healthy'> = async (ctx, step, action) => {
  const started = Date.now();
  let last: InspectedContainer | undefined;
  /** The last transport failure; cleared as soon as the host answers again. */
  let lostContact: Error | undefined;
  // Without a healthcheck: since when it has been running (this side's clock), the StartedAt that
  // was seen then (another means it restarted in between), and when the next look is due.
  let runningSince: number | undefined;
  let startedAt: string | undefined;
  let nextLookMs: number | undefined;
  // Without a healthcheck a container must stay running for its readiness delay; give it that long at least.
  const timeoutMs = Math.max(action.timeout, action.readinessDelay + 1) * 1000;
  try {
    await poll(
      `${action.name} to become healthy`,
      timeoutMs,
      async () => {
        let state: InspectedContainer | undefined;
        // It was started before this step, so it has been running at least since this look was sent.
        const lookSent = Date.now();
        nextLookMs = undefined;
        try {
          // looked at on the host until it is no longer starting (Podman's check run before each look)
          state = await inspectContainer(ctx, step.host, action.name, { whenStarted: { ...HOST_WAIT, before: runtime.runHealthCheck(runtimeOf(ctx, step.host), action.name) } });
          lostContact = undefined;
        } catch (error) {
          if (!isTransportError(error) || ctx.signal?.aborted) throw error;
          lostContact = error;
          ctx.progress(`no answer from the host (${lastLineOf(error)}); retrying`);
          return undefined;
        }
        if (!state) throw new NotHealthy('it disappeared');
        last = state;
        if (!state.running) throw new NotHealthy(`it exited (${state.exitCode})`);
        const elapsed = `${Math.round((Date.now() - started) / 1000)}s`;
        if (state.health === undefined) {
          if (runningSince === undefined || state.startedAt !== startedAt) {
            if (runningSince !== undefined) ctx.progress('it restarted: its readiness delay starts again');
            runningSince = lookSent;
            startedAt = state.startedAt;
          }
          ctx.progress(`running, no healthcheck (${elapsed})`);
          const left = runningSince + action.readinessDelay * 1000 - Date.now();
          if (left <= 0) return true;
          // look again when the delay is over (no sooner: nothing is decided before then). A timer
          // counts from the event loop's cached time, so it can fire a few ms early on a busy
          // machine; the margin keeps that from costing one more look (one more round trip).
          nextLookMs = left + TIMER_MARGIN_MS;
          return undefined;
        }
        ctx.progress(`health: ${state.health} (${elapsed})`);
        return state.health === 'healthy' ? true : undefined;
      },
      { intervalMs: () => nextLookMs ?? ctx.pollIntervalMs, signal: ctx.signal },
    );
  } catch (error) {
    if (ctx.signal?.aborted) {
      throw new DeployError(`${step.host}: interrupted while ${action.name} was starting; this step stopped nothing, and running the command again finishes the job`);
    }
    if (lostContact) {
      throw new DeployError(
        `${step.host}: lost contact with the host while waiting for ${action.name} to become healthy (${lastLineOf(lostContact)}). ` +
          `It was left as it was (last seen: ${last ? (last.health ?? last.status) : 'never'}); nothing was stopped. Run the command again once the host answers: it continues from there.`,
      );
    }
    if (!(error instanceof NotHealthy) && !(error instanceof TimeoutError)) {
      throw new DeployError(`${step.host}: could not check whether ${action.name} is healthy: ${lastLineOf(error)}. It was left as it was; nothing was stopped.`);
    }
    const reason = error instanceof NotHealthy
      ? error.message
      : last?.health === undefined
        ? `it did not stay running for ${action.readinessDelay}s within ${Math.round(timeoutMs / 1000)}s`
        : `still ${last.health} after ${Math.round(timeoutMs / 1000)}s`;
    throw await neverHealthyError(ctx, step.host, action, reason, last);
  }
};

/**
 * A new container did not become healthy: gather what it was probed with, its last probe
 * results and log lines; stop it and mark it (never a rollback target); check what serves now.
 */
async function neverHealthyError(
  ctx: StepContext,
  host: string,
  action: Extract<StepAction, { kind: 'container-wait-healthy' }>,
  reason: string,
  last: InspectedContainer | undefined,
): Promise<HealthCheckError> {
  const { name, readinessDelay } = action;
  // logs and probe output come from the host: no terminal control sequences, no secret values
  const clean = (text: string) => redact(sanitizeHostText(text), ctx.secrets);
  const latest = (await inspectContainer(ctx, host, name).catch(() => undefined)) ?? last;
  let logs: HealthFailure['logs'];
  try {
    const result = await tryRun(ctx, host, { script: `${toShell(runtime.containerLogs(runtimeOf(ctx, host), latest?.id ?? name, { lines: LOG_LINES }))} 2>&1` });
    logs = result.code === 0 ? { text: clean(result.stdout) } : { error: clean(result.stdout || result.stderr || `exit ${result.code}`) };
  } catch (error) {
    logs = { error: clean(lastLineOf(error)) };
  }
  // Only a container this run created is marked as never healthy; one that existed before is put back as it was.
  const stop: StopOutcome = !latest
    ? { kind: 'gone' }
    : action.existing === 'running'
      ? { kind: 'left-running' }
      : await stopAndMark(ctx, host, latest, action.existing === undefined);
  const serving = await checkServing(ctx, host, latest);
  const { message, brief } = healthReport({
    name,
    reason,
    ...(latest?.healthTest ? { probe: latest.healthTest } : {}),
    ...(latest && latest.health === undefined ? { readinessDelay } : {}),
    healthLog: (latest?.healthLog ?? []).map((entry) => ({ exitCode: entry.exitCode, output: clean(entry.output) })),
    logs,
    stop: stop.kind === 'stop-failed' || stop.kind === 'rename-failed' ? { ...stop, error: clean(stop.error) } : stop,
    serving: serving.kind === 'unknown' ? { kind: 'unknown', error: clean(serving.error) } : serving,
  });
  return new HealthCheckError(`${host}: ${message}`, `${host}: ${brief}`);
}

/** Stops a container that must not serve; with `mark`, renames it as never healthy. Says what happened. */
export async function stopAndMark(ctx: StepContext, host: string, container: InspectedContainer, mark: boolean): Promise<StopOutcome> {
  const attempt = (command: readonly string[]) =>
    tryRun(ctx, host, command).then(
      (result) => (result.code === 0 ? undefined : result.stderr || result.stdout || `exit ${result.code}`),
      (error: unknown) => lastLineOf(error),
    );
  const stopError = await attempt(runtime.stopContainer(runtimeOf(ctx, host), container.id, 1));
  if (stopError !== undefined) return { kind: 'stop-failed', error: stopError };
  if (!mark) return { kind: 'stopped' };
  const to = neverHealthyName(container.name, container.id);
  const renameError = await attempt(runtime.renameContainer(runtimeOf(ctx, host), container.id, to));
  return renameError === undefined ? { kind: 'renamed', to } : { kind: 'rename-failed', error: renameError };
}

/** Whether another version of the same role runs here, is healthy and (when proxied) routed UP by Traefik. */
export async function checkServing(ctx: StepContext, host: string, failed: InspectedContainer | undefined): Promise<ServingOutcome> {
  const role = failed?.labels[ROLE_LABEL];
  if (!failed || role === undefined) return { kind: 'unknown', error: 'the new container could not be inspected, so its role is unknown' };
  try {
    const listed = await run(ctx, host, runtime.listContainerIds(runtimeOf(ctx, host), { label: [`${SERVICE_LABEL}=${ctx.service}`, `${ROLE_LABEL}=${role}`], status: 'running' }));
    const ids = listed.stdout.split('\n').map((l) => l.trim()).filter((id) => id !== '' && id !== failed.id);
    const others: OtherContainer[] = [];
    let servers: Record<string, string> | undefined | null = null; // null: not asked yet
    for (const id of ids) {
      const other = await inspectContainer(ctx, host, id);
      if (!other?.running || (other.labels[DESTINATION_LABEL] ?? '') !== (ctx.destination ?? '')) continue;
      const service = traefikServiceOf(other.labels);
      let routed: OtherContainer['routed'];
      if (service) {
        if (servers === null) servers = await traefikServers(ctx, host, service);
        let url: string | undefined;
        try {
          url = serverUrlOf(host, other, service);
        } catch {
          url = undefined;
        }
        routed = servers === undefined ? 'unknown' : url !== undefined && servers[url] === 'UP';
      }
      others.push({
        name: other.name,
        version: other.labels[VERSION_LABEL] ?? '?',
        ...(other.health !== undefined ? { health: other.health } : {}),
        ...(routed !== undefined ? { routed } : {}),
      });
    }
    return { kind: 'checked', role, others };
  } catch (error) {
    return { kind: 'unknown', error: lastLineOf(error) };
  }
}
