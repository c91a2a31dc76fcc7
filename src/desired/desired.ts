// Config + version → Desired: what every host must run. Pure and deterministic: the same config
// and version always give byte-identical specs and hashes.
//
// Decisions (Kamal's documentation is the reference for each key's meaning):
// - A string `cmd` is split into argv words as a POSIX shell would (the loader refuses shell
//   syntax), so the app is PID 1 and gets docker stop's SIGTERM; a list runs as exact argv.
// - Labels merge as Kamal's do: service/role/destination, then the generated Traefik labels, then
//   the user's labels (top level, role, role traefik.labels) key by key; mrsk.* ownership last.
// - Without any logging config a container gets --log-opt max-size=10m (Kamal's default).
// - Every container gets KAMAL_CONTAINER_NAME, KAMAL_VERSION, KAMAL_HOST (and KAMAL_DESTINATION
//   with a destination), and the same as MRSK_*: the spec is per host, deterministic for a host.
// - Only proxied roles get a Docker healthcheck: the configured check is written for the web
//   process; other roles (job workers) are judged by staying up for readiness_delay.
// - asset_path: a routed role's container mounts ~/.mrsk/<app>/assets/<role>/<version> over it
//   (spec.assets, not `volumes`, for the same reason as the cord); the plan fills the folder first.
// - The cord mount is not in `volumes`: cordDir is home-relative and the executor mounts the
//   resolved folder at /run/mrsk/cord.
import type { Config, EnvSpec, HealthcheckConfig, LoggingConfig, Role, TraefikArgValue } from '../config/types.ts';
import { splitShellWords } from '../config/shell-words.ts';
import { InternalError } from '../errors.ts';
import { shq } from '../shell/quote.ts';
import {
  DESTINATION_LABEL, KAMAL_DESTINATION_LABEL, KAMAL_ROLE_LABEL, KAMAL_SERVICE_LABEL, ROLE_LABEL, SERVICE_LABEL,
  TRAEFIK_ENABLE_LABEL, TRAEFIK_LABEL, TRAEFIK_NETWORK_LABEL, VERSION_LABEL, traefikServicePortLabel,
} from '../model/labels.ts';
import { CORD_FILE, CORD_MOUNT, MRSK_NETWORK, TRAEFIK_CONTAINER, containerName, cordDirFor, roleKey } from '../model/names.ts';
import { hostPaths } from './paths.ts';
import { DEFAULT_HTTPS_PORT, TRAEFIK_STATE_VOLUMES, proxyLabels, proxyStaticArgs, traefikFileFor } from './proxy-routing.ts';
import { expandDockerOptions, expandTraefikArgs } from './options.ts';
import { TRAEFIK_API_SOCKET_VOLUME } from '../runtime/traefik.ts';
import { finishContainerSpec, finishTraefikSpec } from './spec-hash.ts';
import { accessoriesByHost } from './accessory.ts';
import type { ContainerSpec, Desired, DesiredHost, HealthcheckSpec, TraefikSpec } from './types.ts';

/** Kamal's default log rotation, used when neither the top level nor the role says anything about logging. */
export const DEFAULT_LOGGING: LoggingConfig = { options: { 'max-size': '10m' } };

/** traefik.* labels of a proxied role: identical for every version, so old and new share a router. */
export function traefikLabels(config: Config, role: Role): Record<string, string> {
  // Kamal 2's proxy: host and path rules, HTTPS, middlewares (src/desired/proxy-routing.ts).
  if (role.proxy) return proxyLabels(config, role, role.proxy);
  const router = roleKey(config.service, role.name, config.destination);
  const prefix = `traefik.http.routers.${router}`;
  return {
    [TRAEFIK_ENABLE_LABEL]: 'true',
    [TRAEFIK_NETWORK_LABEL]: MRSK_NETWORK,
    [`${prefix}.rule`]: 'PathPrefix(`/`)',
    [`${prefix}.entrypoints`]: 'web',
    [`${prefix}.service`]: router,
    [`${prefix}.middlewares`]: `${router}-retry@docker`,
    [traefikServicePortLabel(router)]: String((role.healthcheck ?? config.healthcheck).port),
    [`traefik.http.middlewares.${router}-retry.retry.attempts`]: '5',
    [`traefik.http.middlewares.${router}-retry.retry.initialinterval`]: '500ms',
  };
}

/**
 * Docker's healthcheck of a proxied container. The cord decides at once, the app's check gets
 * max_attempts tries: Docker is told `retries: 1`, and the command itself tries the app's check up
 * to max_attempts times, `interval` apart, testing the cord before each try. So an app that keeps
 * failing still turns unhealthy after about max_attempts × interval (what Docker's retries gave),
 * but a cut cord fails the very next run, and Traefik drops the container within one interval
 * instead of max_attempts intervals (the drain of a deploy). Docker's timeout covers all the tries.
 * With max_attempts 1 the command is the plain `cord && check`.
 */
export function healthcheckFor(config: Config, healthcheck: HealthcheckConfig): HealthcheckSpec {
  const { path, port, interval, timeout, maxAttempts, cmd } = healthcheck;
  const url = shq(`http://127.0.0.1:${port}${path}`);
  // wget is in busybox/alpine images, curl in most others: accept either.
  const check = cmd ?? `wget -q -O /dev/null ${url} || curl -fsS -o /dev/null ${url}`;
  const cord = `test -f ${CORD_MOUNT}/${CORD_FILE}`;
  const last = `${cord} && (${check})`;
  // Earlier tries keep quiet: the health log shows the last try's output (why it failed).
  const tries = maxAttempts <= 1
    ? last
    : `i=1; while [ $i -lt ${maxAttempts} ]; do ${cord} || exit 1; (${check}) >/dev/null 2>&1 && exit 0; sleep ${interval}; i=$((i + 1)); done; ${last}`;
  return {
    cmd: tries,
    interval,
    timeout: maxAttempts * timeout + (maxAttempts - 1) * interval,
    retries: 1,
    startPeriod: config.deployTimeout,
  };
}

function commandFor(cmd: Role['cmd']): readonly string[] | undefined {
  if (cmd === undefined) return undefined;
  if (typeof cmd !== 'string') return [...cmd];
  // The loader already split strings; a Config built in code gets the same rule.
  const split = splitShellWords(cmd);
  if (!split.ok) throw new InternalError(`cmd ${JSON.stringify(cmd)} needs a shell (${split.reason})`);
  return split.words;
}

/** The env of a role on one host: the role's env, then env.tags of the host's tags in the host's order (Kamal's merge). */
export function roleEnvOn(config: Config, role: Role, host: string): EnvSpec {
  const tags = role.hostTags && Object.hasOwn(role.hostTags, host) ? role.hostTags[host]! : [];
  let env = role.env;
  for (const tag of tags) {
    const tagged = config.envTags?.[tag];
    if (!tagged) continue;
    const clear: Record<string, string> = { ...env.clear };
    const secret = { ...env.secret };
    for (const key of Object.keys(tagged.secret)) delete clear[key];
    for (const key of Object.keys(tagged.clear)) delete secret[key];
    env = { clear: { ...clear, ...tagged.clear }, secret: { ...secret, ...tagged.secret } };
  }
  return env;
}

/** The container's logging: the role's (merged over the top level), else the top level, else max-size=10m. */
export function loggingFor(config: Config, role: Role): LoggingConfig {
  const logging = role.logging ?? config.logging;
  return logging.driver === undefined && Object.keys(logging.options).length === 0 ? DEFAULT_LOGGING : logging;
}

/** The spec of one role's container at a version on one host. */
export function containerSpecFor(config: Config, role: Role, version: string, host: string): ContainerSpec {
  const { service, destination } = config;
  const name = containerName(service, role.name, version, destination);
  const proxied = role.traefik.enabled;
  const ownership: Record<string, string> = { [SERVICE_LABEL]: service, [ROLE_LABEL]: role.name };
  if (destination) ownership[DESTINATION_LABEL] = destination;
  ownership[VERSION_LABEL] = version;
  // Kamal's own labels, so Kamal's tools (and a Kamal user's docker ps filters) recognise the container.
  const kamal: Record<string, string> = { [KAMAL_SERVICE_LABEL]: service, [KAMAL_ROLE_LABEL]: role.name, ...(destination ? { [KAMAL_DESTINATION_LABEL]: destination } : {}) };
  // Kamal's order: its labels, the generated Traefik labels, then the user's labels key by key;
  // mrsk's ownership labels come again last so a user label can never disown a container.
  const labels = {
    ...ownership,
    ...kamal,
    ...(proxied ? traefikLabels(config, role) : {}),
    ...config.labels,
    ...role.labels,
    ...(proxied ? role.traefik.labels : {}),
    ...ownership,
  };
  const env = roleEnvOn(config, role, host);
  // What Kamal gives every container, under both names; these win over a user value of the same name.
  const identity: Record<string, string> = { CONTAINER_NAME: name, VERSION: version, HOST: host, ...(destination ? { DESTINATION: destination } : {}) };
  const runtimeEnv: Record<string, string> = {};
  for (const prefix of ['KAMAL_', 'MRSK_']) for (const [key, value] of Object.entries(identity)) runtimeEnv[`${prefix}${key}`] = value;
  const secretEnv = { ...env.secret };
  for (const key of Object.keys(runtimeEnv)) delete secretEnv[key];
  const logging = loggingFor(config, role);
  const spec = finishContainerSpec({
    name,
    service,
    role: role.name,
    ...(destination ? { destination } : {}),
    version,
    image: `${config.image}:${version}`,
    ...(role.cmd !== undefined ? { cmd: commandFor(role.cmd) } : {}),
    env: { ...env.clear, ...runtimeEnv },
    secretEnv,
    volumes: [...config.volumes],
    labels,
    ...(proxied ? { healthcheck: healthcheckFor(config, role.healthcheck ?? config.healthcheck) } : {}),
    logging: { ...(logging.driver ? { driver: logging.driver } : {}), options: { ...logging.options } },
    options: expandDockerOptions(role.options),
    network: MRSK_NETWORK,
    proxied,
    // Bridged assets serve requests of either version during a cutover: only routed roles need them.
    ...(proxied && role.assetPath !== undefined
      ? { assets: { path: role.assetPath, hostDir: hostPaths(service, destination).assetsDir(role.name, version) } }
      : {}),
    ...(proxied ? { traefikService: roleKey(service, role.name, destination) } : {}),
  });
  const stopTimeout = role.stopTimeout ?? config.stopTimeout;
  const finished = stopTimeout !== undefined ? { ...spec, stopTimeout } : spec;
  return proxied ? { ...finished, cordDir: cordDirFor(service, name, destination, spec.specHash) } : finished;
}

/** mrsk's Traefik flags (Docker provider on the mrsk network, API for the cutover), config args merged over by key. */
export function traefikArgs(configArgs: Readonly<Record<string, TraefikArgValue>>, acmeEmail?: string): string[] {
  const args: Record<string, TraefikArgValue> = {
    'providers.docker': 'true',
    'providers.docker.exposedByDefault': 'false',
    'providers.docker.network': MRSK_NETWORK,
    // Traefik applies provider changes at most this often (default 2s): a cutover waits on it twice.
    'providers.providersThrottleDuration': '500ms',
    'entrypoints.web.address': ':80',
    // HTTPS, the file provider and the ACME resolver: present whichever app starts Traefik.
    ...proxyStaticArgs(acmeEmail),
    'entrypoints.traefik.address': ':8080',
    'api.insecure': 'true',
    ping: 'true',
    'log.level': 'INFO',
  };
  for (const [key, value] of Object.entries(configArgs)) args[key.replace(/^--/, '')] = value;
  return expandTraefikArgs(args);
}

/** The Traefik container of a host that carries a proxied role. */
export function traefikSpecFor(config: Config): TraefikSpec {
  const { traefik } = config;
  return finishTraefikSpec({
    name: TRAEFIK_CONTAINER,
    image: traefik.image,
    args: traefikArgs(traefik.args, traefik.acmeEmail),
    // The API (insecure mode) is published on loopback only: the executor polls it over SSH.
    // traefik.publish: false keeps HTTP on the mrsk network only (something else fronts it).
    ports: [...(traefik.publish === false ? [] : [`${traefik.hostPort}:80`, `${traefik.httpsPort ?? DEFAULT_HTTPS_PORT}:443`]), `127.0.0.1:${traefik.apiPort}:8080`],
    // The runtime's API socket (runtime/traefik.ts mounts Podman's in its place), ACME storage and
    // the file-provider folder: home-relative, resolved on the host (runtime/traefik.ts).
    volumes: [TRAEFIK_API_SOCKET_VOLUME, ...TRAEFIK_STATE_VOLUMES],
    labels: { ...traefik.labels, [TRAEFIK_LABEL]: 'true' },
    ...(traefik.env && Object.keys(traefik.env.clear).length > 0 ? { env: { ...traefik.env.clear } } : {}),
    options: expandDockerOptions(traefik.options),
    network: MRSK_NETWORK,
    apiPort: traefik.apiPort,
  });
}

/** Hosts per batch from boot.limit: a count, or "N%" of all hosts rounded up; at least 1. */
export function batchSize(limit: number | string | undefined, hostCount: number): number {
  if (limit === undefined) return Math.max(hostCount, 1);
  if (typeof limit === 'number') return Math.max(1, Math.floor(limit));
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(limit.trim());
  const size = percent ? Math.ceil((hostCount * Number(percent[1])) / 100) : Number.parseInt(limit, 10);
  return Number.isFinite(size) && size > 0 ? size : Math.max(hostCount, 1);
}

/** Derives the desired state of every host for `version`. */
export function deriveDesired(config: Config, version: string): Desired {
  const primaryFirst = [...config.roles].sort(
    (a, b) => Number(b.name === config.primaryRole) - Number(a.name === config.primaryRole),
  );

  const anyProxied = primaryFirst.some((role) => role.traefik.enabled);
  const traefik = anyProxied ? traefikSpecFor(config) : undefined;

  const hosts: Record<string, DesiredHost> = {};
  const accessories = accessoriesByHost(config);
  // Sets, not Array.includes: a fleet of thousands of hosts must stay linear.
  const roleHosts = new Map(primaryFirst.map((role) => [role.name, new Set(role.hosts)]));
  for (const host of config.hosts) {
    const roles = primaryFirst.filter((role) => roleHosts.get(role.name)!.has(host));
    const containers = roles.map((role) => containerSpecFor(config, role, version, host));
    const needsTraefik = roles.some((role) => role.traefik.enabled);
    const traefikFile = needsTraefik ? traefikFileFor(config, roles) : undefined;
    hosts[host] = {
      host,
      network: MRSK_NETWORK,
      containers,
      ...(needsTraefik && traefik ? { traefik } : {}),
      ...(traefikFile ? { traefikFile } : {}),
      retainContainers: config.retainContainers,
      ...(accessories.has(host) ? { accessories: accessories.get(host)! } : {}),
    };
  }
  // Hosts that run only accessories (a database server in no role): no app containers, no Traefik.
  const accessoryOnly = [...accessories.keys()].filter((host) => !(host in hosts));
  for (const host of accessoryOnly) {
    hosts[host] = { host, network: MRSK_NETWORK, containers: [], retainContainers: config.retainContainers, accessories: accessories.get(host)! };
  }

  const size = batchSize(config.boot.limit, config.hosts.length);
  const batches: string[][] = [];
  for (let i = 0; i < config.hosts.length; i += size) batches.push(config.hosts.slice(i, i + size));
  // They are planned after the app's batches, together (nothing there rolls).
  if (accessoryOnly.length > 0) batches.push(accessoryOnly);

  return {
    service: config.service,
    ...(config.destination ? { destination: config.destination } : {}),
    version,
    primaryRole: config.primaryRole,
    hosts,
    batches,
    batchWait: config.boot.wait,
    parallelRoles: config.boot.parallelRoles,
    deployTimeout: config.deployTimeout,
    drainTimeout: config.drainTimeout,
    readinessDelay: config.readinessDelay,
  };
}
