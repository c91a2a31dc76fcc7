// How each kind of plan step is carried out on a host. Every step first re-checks its
// precondition (refusing a stale step) and is idempotent: re-running a finished step is a no-op.
import { DeployError, HostError, StalePlanError, TimeoutError } from '../errors.ts';
import type { PlanStep, StepAction } from '../plan/types.ts';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as runtime from '../runtime/index.ts';
import { runAccessory } from '../runtime/accessory.ts';
import { DESTINATION_LABEL, ROLE_LABEL, SERVICE_LABEL, SPEC_HASH_LABEL, TRAEFIK_NETWORK_LABEL, VERSION_LABEL, traefikServicePortLabel } from '../model/labels.ts';
import { CORD_FILE, CORD_MOUNT, MRSK_NETWORK, TRAEFIK_CONTAINER } from '../model/names.ts';
import { traefikServiceOf } from '../probe/observed.ts';
import { shq, toShell } from '../shell/quote.ts';
import { redact } from '../secret.ts';
import { sanitizeHostText } from '../text/sanitize.ts';
import { neverHealthyName } from '../plan/never-healthy.ts';
import { absoluteOnHost, hostPaths } from '../desired/paths.ts';
import { TRAEFIK_DYNAMIC_HOST_DIR, renderTraefikFile } from '../desired/proxy-routing.ts';
import { PODMAN_STATE_DIR, enableSocketUnitScript, keeperScript, startKeeperScript, stopKeeperScript } from '../runtime/podman-service.ts';
import { assetsScratchName, prepareAssetsScript, removeAssetsScript } from '../host/assets.ts';
import { inspectContainer, poll, run, runtimeOf, sleep, tryRun, type InspectedContainer, type Remote } from './remote.ts';
import {
  HealthCheckError,
  LOG_LINES,
  healthReport,
  servingSentence,
  stopSentence,
  stripControl,
  type HealthFailure,
  type OtherContainer,
  type ServingOutcome,
  type StopOutcome,
} from './health-report.ts';

export interface StepContext extends Remote {
  readonly service: string;
  readonly destination?: string;
  /** $HOME of the SSH user per host (from the probe). */
  readonly homes: Readonly<Record<string, string>>;
  readonly appliedBy: string;
  readonly pollIntervalMs: number;
  /** Pause between "gone from Traefik" and SIGTERM, so requests already routed can finish. */
  readonly drainGraceMs: number;
  readonly progress: (message: string) => void;
}

/** `checked` is the container the precondition just inspected (so the handler need not ask again). */
type Handler<K extends StepAction['kind']> = (
  ctx: StepContext,
  step: PlanStep,
  action: Extract<StepAction, { kind: K }>,
  checked?: InspectedContainer,
) => Promise<void>;

async function checkPrecondition(ctx: StepContext, step: PlanStep): Promise<InspectedContainer | undefined> {
  const { containerId, absentName } = step.precondition;
  let checked: InspectedContainer | undefined;
  if (containerId) {
    checked = await inspectContainer(ctx, step.host, containerId);
    if (!checked) throw new StalePlanError(`${step.host}: step ${step.id} is stale: container ${containerId.slice(0, 12)} no longer exists`);
  }
  // container-run and traefik-run look at the name themselves: it may hold their own container
  // from an interrupted run, or the one a same-version replacement renames.
  if (absentName && step.action.kind !== 'container-run' && step.action.kind !== 'traefik-run') {
    if (await inspectContainer(ctx, step.host, absentName)) {
      throw new StalePlanError(`${step.host}: step ${step.id} is stale: a container named ${absentName} exists`);
    }
  }
  return checked;
}

function homeOf(ctx: StepContext, host: string): string {
  const home = ctx.homes[host];
  if (!home) throw new DeployError(`${host}: the home folder of the SSH user is unknown (the host was not probed)`);
  return home;
}

const cordFile = (dir: string) => `${dir}/${CORD_FILE}`;

const networkCreate: Handler<'network-create'> = async (ctx, step, action) => {
  const exists = await tryRun(ctx, step.host, runtime.inspectNetwork(runtimeOf(ctx, step.host), action.network));
  if (exists.code !== 0) await run(ctx, step.host, runtime.createNetwork(runtimeOf(ctx, step.host), action.network));
};

const imagePull: Handler<'image-pull'> = async (ctx, step, action) => {
  const pulled = await tryRun(ctx, step.host, runtime.pullImage(runtimeOf(ctx, step.host), action.image));
  if (pulled.code === 0) return;
  const why = lastLineOf(redact(pulled.stderr || pulled.stdout || `exit ${pulled.code}`, ctx.secrets)).replace(/^(docker: )?Error response from daemon: /, '');
  // The plan pulls Traefik's image before the running Traefik stops (diff.ts): say what to change.
  if (step.address.endsWith('/traefik')) throw new DeployError(traefikPullMessage(step.host, action.image, why));
  throw new DeployError(`${step.host}: cannot pull ${action.image} (${why})`);
};

const traefikPullMessage = (host: string, image: string, why: string): string =>
  `${host}: cannot pull the Traefik image ${image} (${why}); set traefik.image in the config to an image this host can pull`;

const containerRun: Handler<'container-run'> = async (ctx, step, action) => {
  const spec = action.spec;
  let existing = await inspectContainer(ctx, step.host, spec.name);
  if (existing && action.replaces && existing.id === action.replaces.containerId) {
    // Same version, new spec: the serving container gives up its name and keeps serving until drained.
    await run(ctx, step.host, runtime.renameContainer(runtimeOf(ctx, step.host), existing.id, action.replaces.renameTo));
    existing = undefined;
  }
  if (existing) {
    // Left by an interrupted run with the same spec: keep it (start it if needed); otherwise stale.
    if (existing.labels[SPEC_HASH_LABEL] !== spec.specHash) {
      throw new StalePlanError(`${step.host}: a container named ${spec.name} exists with another spec; re-run plan`);
    }
    if (spec.cordDir) await ensureCord(ctx, step.host, spec.cordDir);
    if (!existing.running) await run(ctx, step.host, runtime.startContainer(runtimeOf(ctx, step.host), existing.id));
    return;
  }
  const home = homeOf(ctx, step.host);
  const paths = hostPaths(ctx.service, ctx.destination);
  let envFile: string | undefined;
  const secretNames = Object.keys(spec.secretEnv).sort();
  if (secretNames.length > 0) {
    envFile = absoluteOnHost(home, paths.envFile(spec.name));
    const content = secretNames.map((name) => `${name}=${escapeEnvFileValue(spec.secretEnv[name]!.reveal())}`).join('\n') + '\n';
    await ctx.runner.upload(step.host, envFile, content, 0o600);
  }
  let cordHostDir: string | undefined;
  if (spec.cordDir) cordHostDir = await ensureCord(ctx, step.host, spec.cordDir);
  const assetsHostDir = spec.assets ? absoluteOnHost(home, spec.assets.hostDir) : undefined;
  await makeBindSources(ctx, step.host, spec.volumes);
  await run(ctx, step.host, runtime.runContainer(runtimeOf(ctx, step.host), spec, { envFile, cordHostDir, assetsHostDir }));
};

/** Podman refuses a bind mount whose host folder is missing (Docker makes it): make them first. */
async function makeBindSources(ctx: StepContext, host: string, volumes: readonly string[]): Promise<void> {
  const sources = runtime.bindSourcesToMake(runtimeOf(ctx, host), volumes);
  // a source that exists (a file mounted into the container) is left as it is
  if (sources.length > 0) await run(ctx, host, { script: sources.map((source) => `[ -e ${shq(source)} ] || mkdir -p ${shq(source)}`).join(' && ') });
}

/**
 * An accessory's folders and files. Each file is read from the project when the step runs and
 * must still have the hash the plan was made with (the plan showed that content as the change);
 * it is uploaded as data (never on a command line), then given its mode and owner.
 */
const accessoryPrepare: Handler<'accessory-prepare'> = async (ctx, step, action) => {
  const home = homeOf(ctx, step.host);
  const folders = [...action.directories, ...action.files.map((file) => file.hostPath.replace(/\/[^/]*$/, ''))].map((dir) => absoluteOnHost(home, dir));
  if (folders.length > 0) await run(ctx, step.host, { script: `mkdir -p ${[...new Set(folders)].map(shq).join(' ')}` });
  for (const file of action.files) {
    let content: Buffer;
    try {
      content = await readFile(file.localPath);
    } catch (error) {
      throw new DeployError(`${step.host}: cannot read ${file.localPath} for accessory ${action.name} (${lastLineOf(error)}); nothing of it was uploaded`);
    }
    const hash = `sha256:${createHash('sha256').update(content).digest('hex')}`;
    if (hash !== file.hash) throw new StalePlanError(`${step.host}: ${file.localPath} changed since the plan was made; re-run plan`);
    const path = absoluteOnHost(home, file.hostPath);
    await ctx.runner.upload(step.host, path, content, Number.parseInt(file.mode, 8));
    // upload's mode is subject to the umask of an existing file: set it, then the owner
    await run(ctx, step.host, { script: `chmod ${shq(file.mode)} ${shq(path)}${file.owner ? ` && chown ${shq(file.owner)} ${shq(path)}` : ''}` });
  }
};

/** docker run of an accessory; one left by an interrupted run with the same spec is kept (started if needed). */
const accessoryRun: Handler<'accessory-run'> = async (ctx, step, action) => {
  const spec = action.spec;
  const existing = await inspectContainer(ctx, step.host, spec.containerName);
  if (existing) {
    if (existing.labels[SPEC_HASH_LABEL] !== spec.specHash) {
      throw new StalePlanError(`${step.host}: a container named ${spec.containerName} exists with another spec; re-run plan`);
    }
    if (!existing.running) await run(ctx, step.host, runtime.startContainer(runtimeOf(ctx, step.host), existing.id));
    return;
  }
  const home = homeOf(ctx, step.host);
  let envFile: string | undefined;
  const secretNames = Object.keys(spec.secretEnv).sort();
  if (secretNames.length > 0) {
    envFile = absoluteOnHost(home, hostPaths(ctx.service, ctx.destination).envFile(spec.containerName));
    const content = secretNames.map((name) => `${name}=${escapeEnvFileValue(spec.secretEnv[name]!.reveal())}`).join('\n') + '\n';
    await ctx.runner.upload(step.host, envFile, content, 0o600);
  }
  await makeBindSources(ctx, step.host, spec.volumes);
  const started = await tryRun(
    ctx,
    step.host,
    runAccessory(runtimeOf(ctx, step.host), spec, {
      ...(envFile ? { envFile } : {}),
      fileHostPaths: spec.files.map((file) => absoluteOnHost(home, file.hostPath)),
      directoryHostPaths: spec.directories.map((dir) => absoluteOnHost(home, dir.hostPath)),
    }),
  );
  if (started.code !== 0) {
    const why = lastLineOf(redact(started.stderr || started.stdout || `exit ${started.code}`, ctx.secrets)).replace(/^docker: /, '');
    throw new DeployError(`${step.host}: starting accessory ${spec.name} (${spec.image}) failed: ${why}`);
  }
};

/** Deletes an accessory's folders (only planned on request: --data). */
const accessoryDataRemove: Handler<'accessory-data-remove'> = async (ctx, step, action) => {
  const home = homeOf(ctx, step.host);
  const dirs = action.dirs.map((dir) => absoluteOnHost(home, dir));
  // a last guard against a path that would take more than the accessory's data with it
  const unsafe = dirs.find((dir) => dir.split('/').filter(Boolean).length < 2 || dir.replace(/\/+$/, '') === home.replace(/\/+$/, ''));
  if (unsafe) throw new DeployError(`${step.host}: refusing to delete ${unsafe} for accessory ${action.name} (too close to / or the home folder)`);
  await run(ctx, step.host, { script: `rm -rf ${dirs.map(shq).join(' ')}` });
};

/** docker's --env-file takes the rest of the line literally; newlines cannot be expressed there. */
function escapeEnvFileValue(value: string): string {
  if (value.includes('\n')) throw new DeployError('a secret value contains a newline, which docker env files cannot carry');
  return value;
}

async function ensureCord(ctx: StepContext, host: string, cordDir: string): Promise<string> {
  const dir = absoluteOnHost(homeOf(ctx, host), cordDir);
  await run(ctx, host, { script: `mkdir -p ${shq(dir)} && touch ${shq(cordFile(dir))}` });
  return dir;
}

const traefikRun: Handler<'traefik-run'> = async (ctx, step, action) => {
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
const traefikFileWrite: Handler<'traefik-file-write'> = async (ctx, step, action) => {
  const dir = absoluteOnHost(homeOf(ctx, step.host), TRAEFIK_DYNAMIC_HOST_DIR);
  await run(ctx, step.host, { script: `mkdir -p ${shq(dir)} && chmod 700 ${shq(dir)}` });
  await ctx.runner.upload(step.host, `${dir}/${action.file.name}`, renderTraefikFile(action.file), 0o600);
};

const traefikFileRemove: Handler<'traefik-file-remove'> = async (ctx, step, action) => {
  await run(ctx, step.host, runtime.removeTraefikFile(`${absoluteOnHost(homeOf(ctx, step.host), TRAEFIK_DYNAMIC_HOST_DIR)}/${action.name}`));
};

const containerStart: Handler<'container-start'> = async (ctx, step, action, checked) => {
  // The folder actually mounted wins over the planned one (containers made by older mrsk versions).
  const mounted = checked?.binds[CORD_MOUNT];
  if (mounted) await run(ctx, step.host, { script: `mkdir -p ${shq(mounted)} && touch ${shq(cordFile(mounted))}` });
  else if (action.cordDir) await ensureCord(ctx, step.host, action.cordDir);
  if (checked?.running) {
    // Running but unhealthy: its cord is gone. Restored on the host above, and from inside too.
    // When the whole folder was removed, the container still sees the removed one, where no file
    // can be made: only a restart mounts the folder made again. It is unhealthy, so Traefik does
    // not route to it, and the restart stops nothing that serves (the waits after this verify it).
    if (mounted || action.cordDir) {
      const restored = await tryRun(ctx, step.host, runtime.execInContainer(runtimeOf(ctx, step.host), action.containerId, ['touch', `${CORD_MOUNT}/${CORD_FILE}`]));
      if (restored.code !== 0) {
        ctx.progress('its cord folder was removed: restarting it (it is not routed while unhealthy)');
        await run(ctx, step.host, runtime.restartContainer(runtimeOf(ctx, step.host), action.containerId, 10), { timeoutMs: 60_000 });
      }
    }
    return;
  }
  await run(ctx, step.host, runtime.startContainer(runtimeOf(ctx, step.host), action.containerId));
};

/** Why waiting for health ended on the container's side (not on the connection's). */
class NotHealthy extends Error {}

/** A dropped connection or a hung command says nothing about the container's health. */
function isTransportError(error: unknown): error is Error {
  return error instanceof HostError || error instanceof TimeoutError;
}

/** The last line of a host's error text, cleaned, for one-line messages. */
function lastLineOf(error: unknown): string {
  const text = stripControl(error instanceof Error ? error.message : String(error)).trim();
  return text.split('\n').filter((l) => l.trim() !== '').pop() ?? text;
}

/** On a runtime that leaves health checks to systemd (Podman), runs the container's check now; no-op on Docker. */
async function driveHealthCheck(ctx: StepContext, host: string, nameOrId: string): Promise<void> {
  const argv = runtime.runHealthCheck(runtimeOf(ctx, host), nameOrId);
  // its verdict is read back with inspect; a failure to run it (not running yet) is seen there too
  if (argv) await tryRun(ctx, host, argv);
}

const podmanServiceStart: Handler<'podman-service-start'> = async (ctx, step, action) => {
  if (action.how === 'systemd') {
    await run(ctx, step.host, { script: enableSocketUnitScript() }, { timeoutMs: 60_000 });
    return;
  }
  const home = homeOf(ctx, step.host);
  await run(ctx, step.host, { script: `mkdir -p ${shq(absoluteOnHost(home, PODMAN_STATE_DIR))}` });
  await ctx.runner.upload(step.host, absoluteOnHost(home, `${PODMAN_STATE_DIR}/keeper.sh`), keeperScript(), 0o700);
  await run(ctx, step.host, { script: startKeeperScript() }, { timeoutMs: 60_000 });
};

const podmanServiceStop: Handler<'podman-service-stop'> = async (ctx, step) => {
  await run(ctx, step.host, { script: stopKeeperScript() });
};

const waitHealthy: Handler<'container-wait-healthy'> = async (ctx, step, action) => {
  const started = Date.now();
  let last: InspectedContainer | undefined;
  /** The last transport failure; cleared as soon as the host answers again. */
  let lostContact: Error | undefined;
  let runningSince: number | undefined;
  // Without a healthcheck a container must stay running for its readiness delay; give it that long at least.
  const timeoutMs = Math.max(action.timeout, action.readinessDelay + 1) * 1000;
  try {
    await poll(
      `${action.name} to become healthy`,
      timeoutMs,
      async () => {
        let state: InspectedContainer | undefined;
        try {
          await driveHealthCheck(ctx, step.host, action.name);
          state = await inspectContainer(ctx, step.host, action.name);
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
          runningSince ??= Date.now();
          ctx.progress(`running, no healthcheck (${elapsed})`);
          return Date.now() - runningSince >= action.readinessDelay * 1000 ? true : undefined;
        }
        ctx.progress(`health: ${state.health} (${elapsed})`);
        return state.health === 'healthy' ? true : undefined;
      },
      { intervalMs: ctx.pollIntervalMs, signal: ctx.signal },
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
async function stopAndMark(ctx: StepContext, host: string, container: InspectedContainer, mark: boolean): Promise<StopOutcome> {
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
async function checkServing(ctx: StepContext, host: string, failed: InspectedContainer | undefined): Promise<ServingOutcome> {
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

/** The URL Traefik uses for a container: its address on the docker network and the service's port label. */
function serverUrlOf(host: string, container: InspectedContainer, service: string): string {
  const network = container.labels[TRAEFIK_NETWORK_LABEL] ?? MRSK_NETWORK;
  const ip = container.networks[network]?.IPAddress;
  const port = container.labels[traefikServicePortLabel(service)];
  if (!ip || !port) throw new DeployError(`${host}: ${container.name} has no address on ${network} or no port label`);
  return `http://${ip}:${port}`;
}

async function serverUrl(ctx: StepContext, host: string, name: string, service: string): Promise<string> {
  const container = await inspectContainer(ctx, host, name);
  if (!container) throw new DeployError(`${host}: container ${name} does not exist`);
  return serverUrlOf(host, container, service);
}

/** Traefik's server list for a service: url → UP/DOWN; undefined when the service is not (yet) known. */
async function traefikServers(ctx: StepContext, host: string, service: string): Promise<Record<string, string> | undefined> {
  const result = await tryRun(ctx, host, runtime.traefikApi(runtimeOf(ctx, host), `/api/http/services/${service}@docker`));
  if (result.code !== 0) return undefined;
  try {
    const body = JSON.parse(result.stdout) as { serverStatus?: Record<string, string> };
    return body.serverStatus ?? {};
  } catch {
    return undefined;
  }
}

/**
 * Whether Traefik lists the service at all (its list, searched by name); undefined when the API
 * does not answer. Told apart from "no such service" only this way: both make the service's own
 * URL fail.
 */
async function traefikHasService(ctx: StepContext, host: string, service: string): Promise<boolean | undefined> {
  const result = await tryRun(ctx, host, runtime.traefikApi(runtimeOf(ctx, host), `/api/http/services?search=${encodeURIComponent(service)}&per_page=1000`));
  if (result.code !== 0) return undefined;
  try {
    const list = JSON.parse(result.stdout) as unknown;
    return Array.isArray(list) ? list.some((entry) => (entry as { name?: unknown } | null)?.name === `${service}@docker`) : undefined;
  } catch {
    return undefined;
  }
}

const traefikWaitUp: Handler<'traefik-wait-up'> = async (ctx, step, action) => {
  const url = await serverUrl(ctx, step.host, action.name, action.service);
  try {
    await poll(
      `Traefik to route ${action.service} to ${action.name}`,
      action.timeout * 1000,
      async () => ((await traefikServers(ctx, step.host, action.service))?.[url] === 'UP' ? true : undefined),
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
    const container = await inspectContainer(ctx, step.host, action.name).catch(() => undefined);
    const stop = container ? await stopAndMark(ctx, step.host, container, false) : ({ kind: 'gone' } as const);
    const serving = await checkServing(ctx, step.host, container);
    const stopped = stopSentence(action.name, stop.kind === 'stop-failed' ? { ...stop, error: redact(stop.error, ctx.secrets) } : stop);
    throw new DeployError(
      `${step.host}: Traefik never routed to ${action.name} (${url}): ${lastLineOf(error)}. ${await traefikDown(ctx, step.host)}${stopped} ` +
        servingSentence(serving.kind === 'unknown' ? { kind: 'unknown', error: redact(serving.error, ctx.secrets) } : serving),
    );
  }
};

/** `Traefik is not running on this host (…). ` when it is not (the usual reason nothing routes), else ''. */
async function traefikDown(ctx: StepContext, host: string): Promise<string> {
  const traefik = await inspectContainer(ctx, host, TRAEFIK_CONTAINER).catch(() => undefined);
  if (traefik?.running) return '';
  const state = traefik ? `${traefik.status}${traefik.status === 'exited' ? ` (${traefik.exitCode})` : ''}` : 'no traefik container';
  return `Traefik is not running on this host (${state}): \`mrsk traefik boot\` or running the command again restores it. `;
}

const containerDrain: Handler<'container-drain'> = async (ctx, step, action, checked) => {
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
  await tryRun(ctx, step.host, runtime.execInContainer(runtimeOf(ctx, step.host), container.id, ['rm', '-f', `${CORD_MOUNT}/${CORD_FILE}`]));
  if (url) {
    /** Set as soon as Traefik's API stops answering because Traefik is not running (no use waiting a minute). */
    let traefikGone = '';
    const drained = await poll(
      `Traefik to stop routing to ${action.name}`,
      // The old container serves well while we wait, so waiting longer is safe; stopping early is not.
      Math.max(action.timeout, 60) * 1000,
      async () => {
        // Podman: its failing check has to be run to count (Docker's daemon runs it by itself)
        await driveHealthCheck(ctx, step.host, container.id);
        const servers = await traefikServers(ctx, step.host, action.service);
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
  await sleep(ctx.drainGraceMs, ctx.signal);
  // An interrupted drain is not a finished one (the step after it would not wait any more).
  if (ctx.signal?.aborted) throw new DeployError(`${step.host}: interrupted while draining ${action.name}: its cord is cut, so Traefik stops routing to it; it keeps running until the command runs again`);
};

const containerStop: Handler<'container-stop'> = async (ctx, step, action, checked) => {
  const container = checked ?? (await inspectContainer(ctx, step.host, action.containerId));
  if (!container?.running) return;
  await run(ctx, step.host, runtime.stopContainer(runtimeOf(ctx, step.host), action.containerId, action.timeout), { timeoutMs: (action.timeout + 30) * 1000 });
};

const containerRemove: Handler<'container-remove'> = async (ctx, step, action, checked) => {
  const container = checked ?? (await inspectContainer(ctx, step.host, action.containerId));
  if (container) await run(ctx, step.host, runtime.removeContainer(runtimeOf(ctx, step.host), action.containerId, { force: true }));
  const home = ctx.homes[step.host];
  if (home) {
    const paths = hostPaths(ctx.service, ctx.destination);
    const envFile = absoluteOnHost(home, paths.envFile(action.name));
    const cordDir = absoluteOnHost(home, action.cordDir ?? `${paths.cordsDir}/${action.name}`);
    await run(ctx, step.host, { script: `rm -f ${shq(envFile)} && rm -rf ${shq(cordDir)}` });
    if (action.assetsDir) await run(ctx, step.host, { script: removeAssetsScript(absoluteOnHost(home, action.assetsDir)) });
  }
};

const assetsPrepare: Handler<'assets-prepare'> = async (ctx, step, action) => {
  const home = homeOf(ctx, step.host);
  const script = prepareAssetsScript({
    runtime: runtimeOf(ctx, step.host),
    image: action.image,
    assetPath: action.assetPath,
    dir: absoluteOnHost(home, action.hostDir),
    previousDirs: action.previousDirs.map((dir) => absoluteOnHost(home, dir)),
    scratchName: assetsScratchName(action.name),
  });
  await run(ctx, step.host, { script }, { timeoutMs: 300_000 });
};

const imageRemove: Handler<'image-remove'> = async (ctx, step, action) => {
  const result = await tryRun(ctx, step.host, runtime.removeImage(runtimeOf(ctx, step.host), action.image));
  // Already gone is success; still used by a container is left for the next prune.
  if (result.code !== 0 && !/no such image|image is being used|conflict/i.test(result.stderr)) {
    await run(ctx, step.host, runtime.removeImage(runtimeOf(ctx, step.host), action.image));
  }
};

const networkRemove: Handler<'network-remove'> = async (ctx, step, action) => {
  const exists = await tryRun(ctx, step.host, runtime.inspectNetwork(runtimeOf(ctx, step.host), action.network));
  if (exists.code === 0) await run(ctx, step.host, runtime.removeNetwork(runtimeOf(ctx, step.host), action.network));
};

const traefikWaitReady: Handler<'traefik-wait-ready'> = async (ctx, step, action) => {
  await poll(
    'Traefik to answer /ping',
    action.timeout * 1000,
    async () => ((await tryRun(ctx, step.host, runtime.traefikApi(runtimeOf(ctx, step.host), '/ping'))).stdout.trim() === 'OK' ? true : undefined),
    { intervalMs: ctx.pollIntervalMs, signal: ctx.signal },
  );
};

const stateRemove: Handler<'state-remove'> = async (ctx, step, action) => {
  const dir = absoluteOnHost(homeOf(ctx, step.host), action.dir);
  const keep = action.keep.map((name) => `! -name ${shq(name)}`).join(' ');
  await run(ctx, step.host, { script: `if [ -d ${shq(dir)} ]; then find ${shq(dir)} -mindepth 1 -maxdepth 1 ${keep} -exec rm -rf {} +; fi` });
};

const registryLogout: Handler<'registry-logout'> = async (ctx, step, action) => {
  // logged out already is fine: docker says so and exits 0, or names no credentials
  await tryRun(ctx, step.host, runtime.logout(runtimeOf(ctx, step.host), action.server));
};

const releaseRecord: Handler<'release-record'> = async (ctx, step, action) => {
  const paths = hostPaths(ctx.service, ctx.destination);
  const home = homeOf(ctx, step.host);
  const appliedAt = new Date().toISOString();
  const record = {
    id: `${appliedAt.replace(/[-:]/g, '').replace(/\..*$/, '')}-${action.version}`,
    version: action.version,
    appliedAt,
    appliedBy: ctx.appliedBy,
    specHashes: action.specHashes,
    traefikSpecHash: action.traefikSpecHash,
    // hosts this run skipped (--skip-unreachable): drift and the next plan show them as behind
    ...(action.missedHosts?.length ? { missedHosts: action.missedHosts } : {}),
    // what the host was asked to run, secrets as names and digests only: rollback brings it back
    ...(action.desired ? { desired: action.desired } : {}),
  };
  const body = `${JSON.stringify(record, null, 2)}\n`;
  await ctx.runner.upload(step.host, absoluteOnHost(home, `${paths.releasesDir}/${record.id}.json`), body, 0o644);
  await ctx.runner.upload(step.host, absoluteOnHost(home, paths.currentRelease), body, 0o644);
};

const handlers: { [K in StepAction['kind']]: Handler<K> } = {
  'network-create': networkCreate,
  'image-pull': imagePull,
  'container-run': containerRun,
  'assets-prepare': assetsPrepare,
  'traefik-run': traefikRun,
  'container-start': containerStart,
  'container-wait-healthy': waitHealthy,
  'podman-service-start': podmanServiceStart,
  'podman-service-stop': podmanServiceStop,
  'traefik-wait-up': traefikWaitUp,
  'container-drain': containerDrain,
  'container-stop': containerStop,
  'container-remove': containerRemove,
  'image-remove': imageRemove,
  'release-record': releaseRecord,
  'network-remove': networkRemove,
  'traefik-wait-ready': traefikWaitReady,
  'state-remove': stateRemove,
  'registry-logout': registryLogout,
  'traefik-file-write': traefikFileWrite,
  'traefik-file-remove': traefikFileRemove,
  'accessory-prepare': accessoryPrepare,
  'accessory-run': accessoryRun,
  'accessory-data-remove': accessoryDataRemove,
};

/** Carries out one step: precondition, then the action. */
export async function runStep(ctx: StepContext, step: PlanStep): Promise<void> {
  const checked = await checkPrecondition(ctx, step);
  const handler = handlers[step.action.kind] as Handler<typeof step.action.kind>;
  await handler(ctx, step, step.action as never, checked);
}
