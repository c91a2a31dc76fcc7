// Builders for docker commands on app containers: run, start, stop, rm, inspect, logs, exec, ps.
import type { ContainerSpec } from '../desired/types.ts';
import { imageRef, type RuntimeName } from './runtime.ts';
import { InternalError } from '../errors.ts';
import { CORD_MOUNT } from '../model/names.ts';
import { type Argv, keyValueFlags, repeatFlag } from './argv.ts';
import { toShell } from '../shell/quote.ts';
import { hostWaitScript, type HostWait } from './host-wait.ts';
import { watchingHealthcheck } from './health-watch.ts';

/** Host-side details that are not part of the spec: where the secret env file and cord folder are. */
export interface RunContainerOptions {
  /** Path on the host of the 0600 env file holding the secret values (required when the spec has secrets). */
  readonly envFile?: string;
  /** Absolute host folder of the drain file; defaults to spec.cordDir. Mounted only for proxied roles. */
  readonly cordHostDir?: string;
  /** Absolute host folder of the bridged assets (spec.assets), mounted over spec.assets.path. */
  readonly assetsHostDir?: string;
}

/**
 * `docker run -d` for one app container. Clear env values go on argv; secret values only reach the
 * container through `--env-file`, so they never appear on a command line or in `ps`.
 */
export function runContainer(rt: RuntimeName, spec: ContainerSpec, opts: RunContainerOptions = {}): Argv {
  if (Object.keys(spec.secretEnv).length > 0 && opts.envFile === undefined) {
    throw new InternalError(`container ${spec.name} has secret env but no env file was given`);
  }
  const cordHostDir = opts.cordHostDir ?? spec.cordDir;
  if (spec.proxied && cordHostDir === undefined) {
    throw new InternalError(`proxied container ${spec.name} needs a cord folder for draining`);
  }
  const argv = [rt, 'run', '-d', '--name', spec.name, '--network', spec.network, '--restart', 'unless-stopped'];
  argv.push(...keyValueFlags('--env', spec.env));
  if (opts.envFile !== undefined) argv.push('--env-file', opts.envFile);
  argv.push(...keyValueFlags('--label', spec.labels));
  argv.push(...repeatFlag('-v', spec.volumes));
  if (spec.proxied) argv.push('-v', `${cordHostDir}:${CORD_MOUNT}`);
  if (spec.assets) argv.push('-v', `${opts.assetsHostDir ?? spec.assets.hostDir}:${spec.assets.path}`);
  // Docker runs a proxied container's check in its watching form (health-watch.ts); Podman's are
  // run by mrsk (keeper, waits), one at a time, as they are. Podman gets no start period: Docker's
  // ends at the first pass, but Podman 4 ignores failures for the whole period even after passes,
  // so a drained container younger than the period stayed healthy, and routed, until it was over
  // (a drain of 17 s on the bed for a deploy 3 s after the last one; the spec keeps the period: a
  // failing check while the app boots is no harm there, mrsk's wait looks for healthy until its deadline).
  const health = spec.healthcheck && spec.proxied && rt === 'docker' ? watchingHealthcheck(spec.healthcheck) : spec.healthcheck;
  if (health) {
    argv.push(
      '--health-cmd', health.cmd,
      '--health-interval', `${health.interval}s`,
      '--health-timeout', `${health.timeout}s`,
      '--health-retries', String(health.retries),
      '--health-start-period', `${rt === 'podman' ? 0 : health.startPeriod}s`,
    );
  }
  if (spec.logging.driver !== undefined) argv.push('--log-driver', spec.logging.driver);
  argv.push(...keyValueFlags('--log-opt', spec.logging.options));
  argv.push(...spec.options, imageRef(rt, spec.image), ...(spec.cmd ?? []));
  return argv;
}

/**
 * runContainer in one command, unless a container holds the name: then only `taken` is printed
 * (a line no `run -d`, which prints the new id, prints). `prepare`: shell steps run first, joined
 * by `&&` (the drain cord, bind sources): any that fails stops the run with its error.
 */
export function runContainerIfNameFree(rt: RuntimeName, spec: ContainerSpec, opts: RunContainerOptions, prepare: readonly string[], taken: string): string {
  const run = runContainer(rt, spec, opts);
  const exists = toShell(inspectContainers(rt, [spec.name], { format: '{{.Id}}' }));
  return `if ${exists} >/dev/null 2>&1; then echo ${toShell([taken])}; else ${[...prepare, toShell(run)].join(' && ')}; fi`;
}

/**
 * The host folders of bind mounts (`/host/path:/in/container`) that must exist before `run`: Docker
 * makes a missing one, Podman refuses (`statfs …: no such file or directory`). Empty for Docker.
 */
export function bindSourcesToMake(rt: RuntimeName, volumes: readonly string[]): string[] {
  if (rt === 'docker') return [];
  return [...new Set(volumes.map((volume) => volume.split(':')[0]!).filter((source) => source.startsWith('/')))];
}

/** `docker start` of a stopped container (drift repair). */
export function startContainer(rt: RuntimeName, id: string): Argv {
  return [rt, 'start', id];
}

/**
 * Runs a container's health check now and records its result, for a runtime that does not run
 * them by itself everywhere (Podman without systemd); undefined for Docker, whose daemon runs them.
 * Exit 0 healthy, 1 unhealthy; other codes mean it could not run (no check, not running).
 */
export function runHealthCheck(rt: RuntimeName, id: string): Argv | undefined {
  return rt === 'podman' ? [rt, 'healthcheck', 'run', id] : undefined;
}

/** `docker restart -t N`: stop (SIGTERM, SIGKILL after N seconds), then start again. */
export function restartContainer(rt: RuntimeName, id: string, timeoutSeconds: number): Argv {
  return [rt, 'restart', '-t', String(timeoutSeconds), id];
}

/** `docker stop -t N`: SIGTERM, then SIGKILL after N seconds. */
export function stopContainer(rt: RuntimeName, id: string, timeoutSeconds: number): Argv {
  return [rt, 'stop', '-t', String(timeoutSeconds), id];
}

/** `docker rename`: frees a name for a same-version replacement while the old container keeps serving. */
export function renameContainer(rt: RuntimeName, id: string, newName: string): Argv {
  return [rt, 'rename', id, newName];
}

/** `docker rm`; force also kills a running container. */
export function removeContainer(rt: RuntimeName, id: string, opts: { readonly force?: boolean } = {}): Argv {
  return [rt, 'rm', ...(opts.force ? ['-f'] : []), id];
}

/** Prints the container's State object as one JSON line (Status, Health.Status, ExitCode …). */
export function inspectHealth(rt: RuntimeName, name: string): Argv {
  return [rt, 'inspect', '-f', '{{json .State}}', name];
}

/**
 * A Go template for `inspect` printing, per container, one JSON line with the subset of Docker's
 * inspect document that a snapshot needs (same field names). It leaves out Config.Env on purpose:
 * env from --env-file holds secret values, which must never leave the host. Only plain field
 * paths and json: docker clients differ in how they treat missing keys (Health). Docker runs the
 * template on the JSON document (`.Id`), Podman on its Go struct, whose field is `.ID`.
 */
export function containerSummaryFormat(rt: RuntimeName): string {
  return (
    `{"Id":{{json .${idField(rt)}}},"Name":{{json .Name}},"Created":{{json .Created}},"Image":{{json .Image}},` +
    '"RestartCount":{{json .RestartCount}},"Config":{"Image":{{json .Config.Image}},"Labels":{{json .Config.Labels}}},' +
    '"State":{{json .State}},' +
    '"NetworkSettings":{"Networks":{{json .NetworkSettings.Networks}}}}'
  );
}

/** The id's field in an inspect template: Docker's JSON key, or Podman's Go field. */
export function idField(rt: RuntimeName): string {
  return rt === 'podman' ? 'ID' : 'Id';
}

/** A `ps` template action printing one label's value (Docker has `.Label`; Podman's Labels is a map). */
export function psLabel(rt: RuntimeName, key: string): string {
  return rt === 'podman' ? `{{index .Labels ${JSON.stringify(key)}}}` : `{{.Label ${JSON.stringify(key)}}}`;
}

/**
 * The `ps` line src/ops/docker-ps.ts parses: one JSON object of named fields, which Docker and
 * Podman both print (their `{{json .}}` differ: Podman prints one array of its own fields).
 * Labels is Docker's `k=v,…` string or Podman's map.
 */
export const PS_ENTRY_FORMAT =
  '{"ID":{{json .ID}},"Image":{{json .Image}},"Command":{{json .Command}},"CreatedAt":{{json .CreatedAt}},' +
  '"RunningFor":{{json .RunningFor}},"Status":{{json .Status}},"State":{{json .State}},"Ports":{{json .Ports}},' +
  '"Names":{{json .Names}},"Labels":{{json .Labels}}}';

/**
 * inspectContainers of one container, printed once it is no longer a running container whose
 * health is `starting`, or once the wait's time is up (see HostWait): a wait for health costs one
 * SSH round trip, not one per look, and never holds the caller long past its own deadline. A look
 * that fails (no such container) ends the wait; the inspect after it says why.
 */
export function inspectContainerWhenStarted(rt: RuntimeName, id: string, wait: HostWait): { readonly script: string; readonly answersAs: Argv } {
  const look = toShell(inspectContainers(rt, [id], { format: '{{.State.Running}} {{if .State.Health}}{{.State.Health.Status}}{{end}}' }));
  const inspect = inspectContainers(rt, [id]);
  return {
    answersAs: inspect,
    script: hostWaitScript(wait, `s=$(${look} 2>/dev/null) || break; case $s in 'true starting') ;; *) break ;; esac;`, toShell(inspect)),
  };
}

/** `docker inspect` of the given containers: docker's full JSON array, or one line per container with a format. */
export function inspectContainers(rt: RuntimeName, ids: readonly string[], opts: { readonly format?: string } = {}): Argv {
  return [rt, 'inspect', '--type', 'container', ...(opts.format ? ['--format', opts.format] : []), ...ids];
}

/** Options of `docker logs`. */
export interface LogsOptions {
  /** Only the last N lines. */
  readonly lines?: number;
  /** Only since this time (RFC 3339, Unix timestamp, or relative like `10m`). */
  readonly since?: string;
  readonly follow?: boolean;
  readonly timestamps?: boolean;
}

/** `docker logs` of one container. */
export function containerLogs(rt: RuntimeName, nameOrId: string, opts: LogsOptions = {}): Argv {
  const argv = [rt, 'logs'];
  if (opts.lines !== undefined) argv.push('--tail', String(opts.lines));
  if (opts.since !== undefined) argv.push('--since', opts.since);
  if (opts.follow) argv.push('--follow');
  if (opts.timestamps) argv.push('--timestamps');
  argv.push(nameOrId);
  return argv;
}

/** `docker exec` in a running container; interactive keeps stdin open, tty allocates a terminal. */
export function execInContainer(rt: RuntimeName, 
  name: string,
  cmd: readonly string[],
  opts: { readonly interactive?: boolean; readonly tty?: boolean } = {},
): Argv {
  return [rt, 'exec', ...(opts.interactive ? ['-i'] : []), ...(opts.tty ? ['-t'] : []), name, ...cmd];
}

/** Options of a one-off container (`mrsk app exec` without --reuse). */
export interface RunOnceOptions {
  /** Secret env file on the host, so a one-off sees the same secrets as the app. */
  readonly envFile?: string;
  readonly network?: string;
  /** Attach stdin and a terminal. */
  readonly interactive?: boolean;
  /** Clear env values (`--env K=V`), as the app container has them. */
  readonly env?: Readonly<Record<string, string>>;
}

/** `docker run --rm` of a throwaway container that runs cmd and is removed when it exits. */
export function runOnce(rt: RuntimeName, image: string, cmd: readonly string[], opts: RunOnceOptions = {}): Argv {
  const argv = [rt, 'run', '--rm'];
  if (opts.interactive) argv.push('-i', '-t');
  if (opts.network !== undefined) argv.push('--network', opts.network);
  if (opts.env !== undefined) argv.push(...keyValueFlags('--env', opts.env));
  if (opts.envFile !== undefined) argv.push('--env-file', opts.envFile);
  argv.push(imageRef(rt, image), ...cmd);
  return argv;
}

/**
 * `docker ps` with full ids and one JSON object per line (or the given Go template per line). Filters are docker's (`label`, `name`,
 * `status` …); an array value repeats the filter (several `label` filters must all match).
 */
export function listContainers(rt: RuntimeName, 
  filters: Readonly<Record<string, string | readonly string[]>>,
  opts: { readonly all?: boolean; readonly format?: string } = {},
): Argv {
  const argv = [rt, 'ps'];
  if (opts.all) argv.push('-a');
  argv.push('--no-trunc');
  for (const key of Object.keys(filters).sort()) {
    const value = filters[key]!;
    const values: readonly string[] = typeof value === 'string' ? [value] : value;
    for (const v of values) argv.push('--filter', `${key}=${v}`);
  }
  argv.push('--format', opts.format ?? PS_ENTRY_FORMAT);
  return argv;
}

/** Like listContainers, but prints only full container ids, one per line. */
export function listContainerIds(rt: RuntimeName, 
  filters: Readonly<Record<string, string | readonly string[]>>,
  opts: { readonly all?: boolean } = {},
): Argv {
  const argv = listContainers(rt, filters, opts);
  // same filters, `-q` instead of the JSON format
  return [...argv.slice(0, -2), '-q'];
}
