// The Traefik side of a cutover and Traefik's own container: start it, write the app's file for
// its file provider, wait until it routes to a new container, drain an old one from it.
import { DeployError, HostError, StalePlanError } from '../errors.ts';
import * as runtime from '../runtime/index.ts';
import { SPEC_HASH_LABEL } from '../model/labels.ts';
import { CORD_FILE, CORD_MOUNT } from '../model/names.ts';
import { shq } from '../shell/quote.ts';
import { redact } from '../secret.ts';
import { absoluteOnHost } from '../desired/paths.ts';
import { TRAEFIK_DYNAMIC_HOST_DIR, renderTraefikFile } from '../desired/proxy-routing.ts';
import { inspectContainer, poll, run, runtimeOf, sleep, tryRun, type InspectedContainer } from './remote.ts';
import { servingSentence, stopSentence } from './health-report.ts';
import { homeOf, cordFile, lastLineOf, traefikPullMessage, serverUrlOf, serverUrl, traefikServers, traefikHasService, traefikDown, type Handler, type StepContext } from './step-kit.ts';
import { stopAndMark, checkServing } from './steps-health.ts';

export const traefikRun: Handler<'traefik-run'> = async (ctx, step, action) => {
  const existing = await inspectContainer(ctx, step.host, action.spec.name);
  if (existing) {
    if (existing.labels[SPEC_HASH_LABEL] !== action.spec.specHash) {
      throw new StalePlanError(`${step.host}: a container named ${action.spec.name} exists with another spec; re-run plan`);
    }
    if (!existing.running) await run(ctx, step.host, runtime.startContainer(runtimeOf(ctx, step.host), existing.id));
    return;
  }
  // Pulled first, so a wrong or unreachable image fails with one line that says what to change
  // (not with docker run's whole argv).
  const image = action.spec.image;
  const present = await tryRun(ctx, step.host, runtime.inspectImages(runtimeOf(ctx, step.host), [image], { format: '{{.Id}}' }));
  if (present.code !== 0) {
    const pulled = await tryRun(ctx, step.host, runtime.pullImage(runtimeOf(ctx, step.host), image));
    if (pulled.code !== 0) {
      const why = lastLineOf(redact(pulled.stderr || pulled.stdout || `exit ${pulled.code}`, ctx.secrets)).replace(/^(docker: )?Error response from daemon: /, '');
      throw new DeployError(traefikPullMessage(step.host, image, why));
    }
  }
  const started = await tryRun(ctx, step.host, runtime.runTraefik(runtimeOf(ctx, step.host), action.spec));
  if (started.code !== 0) {
    const why = lastLineOf(redact(started.stderr || started.stdout || `exit ${started.code}`, ctx.secrets)).replace(/^docker: /, '');
    throw new DeployError(`${step.host}: starting Traefik (${image}) failed: ${why}`);
  }
};

/**
 * This app's file for Traefik, mode 0600. upload writes a *.tmp beside it (a name Traefik's file
 * provider does not read) and renames it over the old one, so Traefik never reads half a file.
 */
export const traefikFileWrite: Handler<'traefik-file-write'> = async (ctx, step, action) => {
  const dir = absoluteOnHost(homeOf(ctx, step.host), TRAEFIK_DYNAMIC_HOST_DIR);
  await run(ctx, step.host, { script: `mkdir -p ${shq(dir)} && chmod 700 ${shq(dir)}` });
  await ctx.runner.upload(step.host, `${dir}/${action.file.name}`, renderTraefikFile(action.file), 0o600);
};

export const traefikFileRemove: Handler<'traefik-file-remove'> = async (ctx, step, action) => {
  await run(ctx, step.host, runtime.removeTraefikFile(`${absoluteOnHost(homeOf(ctx, step.host), TRAEFIK_DYNAMIC_HOST_DIR)}/${action.name}`));
};

export const traefikWaitUp: Handler<'traefik-wait-up'> = async (ctx, step, action) => {
  const url = await serverUrl(ctx, step.host, action.name, action.service);
  try {
    await poll(
      `Traefik to route ${action.service} to ${action.name}`,
      action.timeout * 1000,
      // Podman: its check is run again while Traefik does not route it (Docker's daemon runs them by itself)
      async () => ((await traefikServers(ctx, step.host, action.service, { until: 'up', url, nudge: action.name }))?.[url] === 'UP' ? true : undefined),
      { intervalMs: ctx.pollIntervalMs, signal: ctx.signal },
    );
  } catch (error) {
    if (ctx.signal?.aborted) {
      throw new DeployError(`${step.host}: interrupted while waiting for Traefik to route to ${action.name}; this step stopped nothing, and running the command again finishes the job`);
    }
    // A dropped connection says nothing about Traefik or the container: claim nothing, stop nothing.
    // (Not TimeoutError: the poll's own deadline is one, and that is a verdict.)
    if (error instanceof HostError) {
      throw new HostError(step.host, `lost contact with the host while waiting for Traefik to route to ${action.name} (${lastLineOf(error).replace(`${step.host}: `, '')}); nothing was stopped`, { kind: 'unreachable' });
    }
    // A runtime that stopped answering (dockerd going down) says nothing either: no verdict on
    // Traefik or the container, nothing stopped (the run then says the host may serve two versions)
    let container: Awaited<ReturnType<typeof inspectContainer>>;
    try {
      container = await inspectContainer(ctx, step.host, action.name);
    } catch (lost) {
      throw new HostError(step.host, `lost sight of ${action.name} while waiting for Traefik to route to it (${lastLineOf(lost).replace(`${step.host}: `, '')}); nothing was stopped`, { kind: 'error' });
    }
    const stop = container ? await stopAndMark(ctx, step.host, container, false) : ({ kind: 'gone' } as const);
    const serving = await checkServing(ctx, step.host, container);
    const stopped = stopSentence(action.name, stop.kind === 'stop-failed' ? { ...stop, error: redact(stop.error, ctx.secrets) } : stop);
    throw new DeployError(
      `${step.host}: Traefik never routed to ${action.name} (${url}): ${lastLineOf(error)}. ${await traefikDown(ctx, step.host)}${stopped} ` +
        servingSentence(serving.kind === 'unknown' ? { kind: 'unknown', error: redact(serving.error, ctx.secrets) } : serving),
    );
  }
};

export const containerDrain: Handler<'container-drain'> = async (ctx, step, action, checked) => {
  const container = checked ?? (await inspectContainer(ctx, step.host, action.containerId));
  if (!container?.running) return;
  let url: string | undefined;
  try {
    url = serverUrlOf(step.host, container, action.service);
  } catch {
    url = undefined; // not routed (no address or port): nothing to wait for in Traefik
  }
  // The folder actually mounted wins over the planned one (containers made by older mrsk versions).
  const dir = container.binds[CORD_MOUNT];
  if (!dir) {
    // Made by hand with this app's labels (no cord mounted): nothing makes its health fail, and the
    // planned folder may be the one its replacement uses (same spec, same folder): leave it alone.
    // Traefik drops it when it stops, after the grace period.
    ctx.progress(`${action.name} has no drain cord (not made by mrsk): Traefik drops it when it stops`);
    await sleep(ctx.drainGraceMs, ctx.signal);
    return;
  }
  // Cutting the cord fails the healthcheck; Traefik then drops the server from the service.
  await run(ctx, step.host, { script: `rm -f ${shq(cordFile(dir))}` });
  // Also from inside: a container whose cord folder was removed and made again sees the old one.
  // (While Traefik is watched: the wait below ends only once the check failed either way.)
  const inside = tryRun(ctx, step.host, runtime.execInContainer(runtimeOf(ctx, step.host), container.id, ['rm', '-f', `${CORD_MOUNT}/${CORD_FILE}`])).catch(() => undefined);
  if (url) {
    /** Set as soon as Traefik's API stops answering because Traefik is not running (no use waiting a minute). */
    let traefikGone = '';
    const drained = await poll(
      `Traefik to stop routing to ${action.name}`,
      // The old container serves well while we wait, so waiting longer is safe; stopping early is not.
      Math.max(action.timeout, 60) * 1000,
      async () => {
        // Podman: its failing check has to be run to count (Docker's daemon runs it by itself)
        const servers = await traefikServers(ctx, step.host, action.service, { until: 'gone', url, drive: container.id });
        if (servers !== undefined) return !(url in servers) ? true : undefined;
        if ((traefikGone = await traefikDown(ctx, step.host))) throw new DeployError(traefikGone);
        // Draining the service's last server (app stop) takes the service out of Traefik
        // altogether: its own URL then answers 404, and that is drained too.
        return (await traefikHasService(ctx, step.host, action.service)) === false ? true : undefined;
      },
      { intervalMs: ctx.pollIntervalMs, signal: ctx.signal },
    ).catch((error: Error) => error);
    if (drained instanceof Error && !ctx.signal?.aborted) {
      // A dead Traefik routes nothing: the new version is not served either, so the host fails
      // (and keeps its old container) instead of claiming a cutover it could not see.
      const down = traefikGone || (await traefikDown(ctx, step.host));
      if (down) throw new DeployError(`${step.host}: could not drain ${action.name}: ${down}${action.name} was left running.`);
      ctx.progress(`${drained.message}; stopping anyway`);
    }
  }
  await inside;
  await grace(ctx, step.host, container, url);
  // An interrupted drain is not a finished one (the step after it would not wait any more).
  if (ctx.signal?.aborted) throw new DeployError(`${step.host}: interrupted while draining ${action.name}: its cord is cut, so Traefik stops routing to it; it keeps running until the command runs again`);
};

/** Before the first look at a drained container's connections: a request Traefik sent just before it dropped the container reaches it. */
const GRACE_FIRST_LOOK_MS = 100;
/** Between two looks; two in a row must find nothing in flight. */
const GRACE_LOOK_GAP_MS = 100;

/**
 * The grace between Traefik dropping a container and its stop, so that requests already sent to it
 * finish (an app that exits at once on SIGTERM would drop them): at most ctx.drainGraceMs, over as
 * soon as two looks GRACE_LOOK_GAP_MS apart find none of its connections on the app's port busy
 * (runtime/connections.ts inFlight). Without a way to look (not routed, no pid, not root on the
 * host, no nsenter or ss, output not understood), the whole grace.
 */
async function grace(ctx: StepContext, host: string, container: InspectedContainer, url: string | undefined): Promise<void> {
  const until = Date.now() + ctx.drainGraceMs;
  const port = url ? Number(new URL(url).port) : Number.NaN;
  const rest = () => sleep(Math.max(0, until - Date.now()), ctx.signal);
  if (!(port > 0) || container.pid === undefined) return rest();
  await sleep(Math.min(GRACE_FIRST_LOOK_MS, ctx.drainGraceMs), ctx.signal);
  let quiet = 0;
  let saidBusy = false;
  while (Date.now() < until && !ctx.signal?.aborted) {
    const look = await tryRun(ctx, host, runtime.containerConnections(container.pid), { timeoutMs: 5_000 }).catch((error: Error) => ({ code: -1, stdout: '', stderr: error.message }));
    const found = look.code === 0 ? runtime.inFlight(look.stdout, port) : undefined;
    if (!found) {
      const why = look.code === 0 ? 'ss printed something else' : lastLineOf(redact(look.stderr || `exit ${look.code}`, ctx.secrets));
      ctx.progress(`cannot see its connections (${why}): waiting the whole grace`);
      return rest();
    }
    if (found.busy > 0 && !saidBusy) ctx.progress(`${found.busy} of its connections busy: waiting for them`);
    saidBusy ||= found.busy > 0;
    quiet = found.busy === 0 ? quiet + 1 : 0;
    if (quiet >= 2) {
      ctx.progress(`nothing in flight after ${ctx.drainGraceMs - (until - Date.now())} ms: stopping it`);
      return;
    }
    await sleep(Math.min(GRACE_LOOK_GAP_MS, Math.max(0, until - Date.now())), ctx.signal);
  }
}

export const traefikWaitReady: Handler<'traefik-wait-ready'> = async (ctx, step, action) => {
  await poll(
    'Traefik to answer /ping',
    action.timeout * 1000,
    async () => ((await tryRun(ctx, step.host, runtime.traefikApi(runtimeOf(ctx, step.host), '/ping'))).stdout.trim() === 'OK' ? true : undefined),
    { intervalMs: ctx.pollIntervalMs, signal: ctx.signal },
  );
};
