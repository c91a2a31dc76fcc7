// How each kind of plan step is carried out on a host. Every step first re-checks its
// precondition (refusing a stale step) and is idempotent: re-running a finished step is a no-op.
import { DeployError, StalePlanError } from '../errors.ts';
import type { PlanStep, StepAction } from '../plan/types.ts';
import * as docker from '../docker/index.ts';
import { CORD_CONTAINER_DIR } from '../docker/index.ts';
import { shq } from '../ssh/quote.ts';
import { absoluteOnHost, hostPaths } from '../desired/paths.ts';
import { inspectContainer, poll, run, sleep, tryRun, type InspectedContainer, type Remote } from './remote.ts';

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

const cordFile = (dir: string) => `${dir}/ok`;

const networkCreate: Handler<'network-create'> = async (ctx, step, action) => {
  const exists = await tryRun(ctx, step.host, docker.inspectNetwork(action.network));
  if (exists.code !== 0) await run(ctx, step.host, docker.createNetwork(action.network));
};

const imagePull: Handler<'image-pull'> = async (ctx, step, action) => {
  await run(ctx, step.host, docker.pullImage(action.image));
};

const containerRun: Handler<'container-run'> = async (ctx, step, action) => {
  const spec = action.spec;
  let existing = await inspectContainer(ctx, step.host, spec.name);
  if (existing && action.replaces && existing.id === action.replaces.containerId) {
    // Same version, new spec: the serving container gives up its name and keeps serving until drained.
    await run(ctx, step.host, docker.renameContainer(existing.id, action.replaces.renameTo));
    existing = undefined;
  }
  if (existing) {
    // Left by an interrupted run with the same spec: keep it (start it if needed); otherwise stale.
    if (existing.labels['mrsk.spec-hash'] !== spec.specHash) {
      throw new StalePlanError(`${step.host}: a container named ${spec.name} exists with another spec; re-run plan`);
    }
    if (spec.cordDir) await ensureCord(ctx, step.host, spec.cordDir);
    if (!existing.running) await run(ctx, step.host, docker.startContainer(existing.id));
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
  await run(ctx, step.host, docker.runContainer(spec, { envFile, cordHostDir }));
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
    if (existing.labels['mrsk.spec-hash'] !== action.spec.specHash) {
      throw new StalePlanError(`${step.host}: a container named ${action.spec.name} exists with another spec; re-run plan`);
    }
    if (!existing.running) await run(ctx, step.host, docker.startContainer(existing.id));
    return;
  }
  await run(ctx, step.host, docker.runTraefik(action.spec));
};

const containerStart: Handler<'container-start'> = async (ctx, step, action) => {
  if (action.cordDir) await ensureCord(ctx, step.host, action.cordDir);
  await run(ctx, step.host, docker.startContainer(action.containerId));
};

const waitHealthy: Handler<'container-wait-healthy'> = async (ctx, step, action) => {
  const started = Date.now();
  try {
    const first = await inspectContainer(ctx, step.host, action.name);
    if (!first) throw new DeployError(`${step.host}: container ${action.name} does not exist`);
    if (first.health === undefined) {
      // No healthcheck: it must stay running for the readiness delay.
      await sleep(action.readinessDelay * 1000, ctx.signal);
      const after = await inspectContainer(ctx, step.host, action.name);
      if (!after?.running) throw new DeployError(`${step.host}: ${action.name} stopped during its readiness delay (exit ${after?.exitCode ?? '?'})`);
      return;
    }
    await poll(
      `${action.name} to become healthy`,
      action.timeout * 1000,
      async () => {
        const state = await inspectContainer(ctx, step.host, action.name);
        if (!state) throw new DeployError(`${step.host}: container ${action.name} disappeared`);
        if (!state.running) throw new DeployError(`${step.host}: ${action.name} exited (${state.exitCode}) before it became healthy`);
        ctx.progress(`health: ${state.health} (${Math.round((Date.now() - started) / 1000)}s)`);
        return state.health === 'healthy' ? true : undefined;
      },
      { intervalMs: ctx.pollIntervalMs, signal: ctx.signal },
    );
  } catch (error) {
    if (ctx.signal?.aborted) {
      throw new DeployError(`${step.host}: interrupted while ${action.name} was starting; the previous version keeps serving, and running the command again finishes the job`);
    }
    // A new version that never turns healthy is stopped (kept for inspection); the old one keeps serving.
    const logs = await tryRun(ctx, step.host, docker.containerLogs(action.name, { lines: 20 }));
    await tryRun(ctx, step.host, docker.stopContainer(action.name, 1));
    const tail = `${logs.stdout}${logs.stderr}`.trim();
    const reason = error instanceof Error ? error.message : String(error);
    throw new DeployError(
      `${step.host}: ${action.name} did not become healthy: ${reason.replace(`${step.host}: `, '')}. ` +
        `It was stopped and kept for inspection; the previous version keeps serving.` +
        (tail ? `\nLast log lines of ${action.name}:\n${tail.split('\n').map((l) => `  ${l}`).join('\n')}` : ''),
    );
  }
};

/** The URL Traefik uses for a container: its address on the docker network and the service's port label. */
function serverUrlOf(host: string, container: InspectedContainer, service: string): string {
  const network = container.labels['traefik.docker.network'] ?? 'mrsk';
  const ip = container.networks[network]?.IPAddress;
  const port = container.labels[`traefik.http.services.${service}.loadbalancer.server.port`];
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
  const result = await tryRun(ctx, host, docker.traefikApi(`/api/http/services/${service}@docker`));
  if (result.code !== 0) return undefined;
  try {
    const body = JSON.parse(result.stdout) as { serverStatus?: Record<string, string> };
    return body.serverStatus ?? {};
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
    await tryRun(ctx, step.host, docker.stopContainer(action.name, 1));
    throw new DeployError(
      `${step.host}: Traefik never routed to ${action.name} (${url}): ${(error as Error).message}. ` +
        'The new container was stopped; the previous version keeps serving.',
    );
  }
};

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
  const dir = container.binds[CORD_CONTAINER_DIR] ?? absoluteOnHost(homeOf(ctx, step.host), action.cordDir);
  // Cutting the cord fails the healthcheck; Traefik then drops the server from the service.
  await run(ctx, step.host, { script: `rm -f ${shq(cordFile(dir))}` });
  if (url) {
    await poll(
      `Traefik to stop routing to ${action.name}`,
      // The old container serves well while we wait, so waiting longer is safe; stopping early is not.
      Math.max(action.timeout, 60) * 1000,
      async () => {
        const servers = await traefikServers(ctx, step.host, action.service);
        return servers && !(url in servers) ? true : undefined;
      },
      { intervalMs: ctx.pollIntervalMs, signal: ctx.signal },
    ).catch((error: Error) => ctx.progress(`${error.message}; stopping anyway`));
  }
  await sleep(ctx.drainGraceMs, ctx.signal);
};

const containerStop: Handler<'container-stop'> = async (ctx, step, action, checked) => {
  const container = checked ?? (await inspectContainer(ctx, step.host, action.containerId));
  if (!container?.running) return;
  await run(ctx, step.host, docker.stopContainer(action.containerId, action.timeout), { timeoutMs: (action.timeout + 30) * 1000 });
};

const containerRemove: Handler<'container-remove'> = async (ctx, step, action, checked) => {
  const container = checked ?? (await inspectContainer(ctx, step.host, action.containerId));
  if (container) await run(ctx, step.host, docker.removeContainer(action.containerId, { force: true }));
  const home = ctx.homes[step.host];
  if (home) {
    const paths = hostPaths(ctx.service, ctx.destination);
    const envFile = absoluteOnHost(home, paths.envFile(action.name));
    const cordDir = absoluteOnHost(home, action.cordDir ?? `${paths.cordsDir}/${action.name}`);
    await run(ctx, step.host, { script: `rm -f ${shq(envFile)} && rm -rf ${shq(cordDir)}` });
  }
};

const imageRemove: Handler<'image-remove'> = async (ctx, step, action) => {
  const result = await tryRun(ctx, step.host, docker.removeImage(action.image));
  // Already gone is success; still used by a container is left for the next prune.
  if (result.code !== 0 && !/no such image|image is being used|conflict/i.test(result.stderr)) {
    await run(ctx, step.host, docker.removeImage(action.image));
  }
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
  };
  const body = `${JSON.stringify(record, null, 2)}\n`;
  await ctx.runner.upload(step.host, absoluteOnHost(home, `${paths.releasesDir}/${record.id}.json`), body, 0o644);
  await ctx.runner.upload(step.host, absoluteOnHost(home, paths.currentRelease), body, 0o644);
};

const handlers: { [K in StepAction['kind']]: Handler<K> } = {
  'network-create': networkCreate,
  'image-pull': imagePull,
  'container-run': containerRun,
  'traefik-run': traefikRun,
  'container-start': containerStart,
  'container-wait-healthy': waitHealthy,
  'traefik-wait-up': traefikWaitUp,
  'container-drain': containerDrain,
  'container-stop': containerStop,
  'container-remove': containerRemove,
  'image-remove': imageRemove,
  'release-record': releaseRecord,
};

/** Carries out one step: precondition, then the action. */
export async function runStep(ctx: StepContext, step: PlanStep): Promise<void> {
  const checked = await checkPrecondition(ctx, step);
  const handler = handlers[step.action.kind] as Handler<typeof step.action.kind>;
  await handler(ctx, step, step.action as never, checked);
}
