// How each kind of plan step is carried out on a host. Every step first re-checks its
// precondition (refusing a stale step) and is idempotent: re-running a finished step is a no-op.
import { DeployError, StalePlanError } from '../errors.ts';
import type { PlanStep, StepAction } from '../plan/types.ts';
import * as runtime from '../runtime/index.ts';
import { SPEC_HASH_LABEL } from '../model/labels.ts';
import { CORD_FILE, CORD_MOUNT } from '../model/names.ts';
import { shq } from '../shell/quote.ts';
import { redact } from '../secret.ts';
import { absoluteOnHost, hostPaths } from '../desired/paths.ts';
import { PODMAN_STATE_DIR, enableSocketUnitScript, keeperScript, startKeeperScript, stopKeeperScript } from '../runtime/podman-service.ts';
import { assetsScratchName, prepareAssetsScript, removeAssetsScript } from '../host/assets.ts';
import { inspectContainer, run, runtimeOf, tryRun, type InspectedContainer } from './remote.ts';
import { homeOf, bindSourcesScript, cordFile, cordScript, ensureCord, escapeEnvFileValue, lastLineOf, traefikPullMessage, type StepContext, type Handler } from './step-kit.ts';
import { accessoryPrepare, accessoryRun, accessoryDataRemove } from './steps-accessory.ts';
import { waitHealthy } from './steps-health.ts';
import { traefikRun, traefikFileWrite, traefikFileRemove, traefikWaitUp, containerDrain, traefikWaitReady } from './steps-traefik.ts';

export type { StepContext } from './step-kit.ts';

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

/** What the folded run command prints instead of a container id when the name is taken. */
const NAME_TAKEN = 'mrsk: name taken';

const containerRun: Handler<'container-run'> = async (ctx, step, action) => {
  const spec = action.spec;
  const rt = runtimeOf(ctx, step.host);
  const home = homeOf(ctx, step.host);
  const paths = hostPaths(ctx.service, ctx.destination);
  let envFile: string | undefined;
  const secretNames = Object.keys(spec.secretEnv).sort();
  if (secretNames.length > 0) {
    envFile = absoluteOnHost(home, paths.envFile(spec.name));
    const content = secretNames.map((name) => `${name}=${escapeEnvFileValue(spec.secretEnv[name]!.reveal())}`).join('\n') + '\n';
    // (A container that holds the name already read its own at its creation: this file is not used again.)
    await ctx.runner.upload(step.host, envFile, content, 0o600);
  }
  const cordHostDir = spec.cordDir ? absoluteOnHost(home, spec.cordDir) : undefined;
  const assetsHostDir = spec.assets ? absoluteOnHost(home, spec.assets.hostDir) : undefined;
  // One command in the common case: the name is free (as the probe under the lock saw it), so the
  // cord, the bind sources and the run go together. A container that holds the name (its own from
  // an interrupted run, or the one a same-version replacement renames) takes the long way.
  const binds = bindSourcesScript(rt, spec.volumes);
  const prepare = [...(cordHostDir ? [cordScript(cordHostDir)] : []), ...(binds ? [binds] : [])];
  const runIfFree = { script: runtime.runContainerIfNameFree(rt, spec, { envFile, cordHostDir, assetsHostDir }, prepare, NAME_TAKEN) };
  if ((await run(ctx, step.host, runIfFree)).stdout.trim() !== NAME_TAKEN) return;
  let existing = await inspectContainer(ctx, step.host, spec.name);
  if (existing && action.replaces && existing.id === action.replaces.containerId) {
    // Same version, new spec: the serving container gives up its name and keeps serving until drained.
    await run(ctx, step.host, runtime.renameContainer(rt, existing.id, action.replaces.renameTo));
    existing = undefined;
  }
  if (existing) {
    // Left by an interrupted run with the same spec: keep it (start it if needed); otherwise stale.
    if (existing.labels[SPEC_HASH_LABEL] !== spec.specHash) {
      throw new StalePlanError(`${step.host}: a container named ${spec.name} exists with another spec; re-run plan`);
    }
    if (spec.cordDir) await ensureCord(ctx, step.host, spec.cordDir);
    if (!existing.running) await run(ctx, step.host, runtime.startContainer(rt, existing.id));
    return;
  }
  if ((await run(ctx, step.host, runIfFree)).stdout.trim() === NAME_TAKEN) {
    throw new StalePlanError(`${step.host}: a container named ${spec.name} appeared while mrsk ran it; re-run plan`);
  }
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
