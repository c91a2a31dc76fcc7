// Pure parser: the probe script's stdout (see script.ts) → HostSnapshot. Never throws: output it
// cannot read becomes an 'unreadable' host with a message saying what was wrong, so one odd host
// cannot stop a plan for the others. An unreadable release record or lock holder is a warning on
// a usable host, not an unreadable host. Every text taken from the output is sanitized
// (src/text/sanitize.ts): what a host sends never reaches the terminal with control sequences.
import { hostExcerpt, sanitizeHostText, sanitizeHostValue } from '../text/sanitize.ts';
import { familiarImageName, type RuntimeName } from '../runtime/runtime.ts';
import type {
  ContainerState,
  HealthState,
  HostProblem,
  HostSnapshot,
  HostWarning,
  LockInfo,
  ObservedContainer,
  ObservedImage,
  ReleaseRecord,
  TraefikRouterState,
  TraefikServiceState,
  TraefikState,
  PodmanServiceState,
} from './types.ts';
import { UNKNOWN_TRAEFIK_FILE_HASH } from './types.ts';
import { traefikFileHashOf } from '../desired/proxy-routing.ts';
import { SECTION_PATTERN } from './script.ts';
import { displayHostPath, hostPaths } from '../desired/paths.ts';
import { MRSK_NETWORK } from '../model/names.ts';
import { concernsService } from './observed.ts';

/**
 * Podman's container states in Docker's words: `stopped` (stopped, not yet cleaned up) is
 * `exited`, `configured` (made, never initialised) is `created`, `stopping` is still `running`.
 */
const PODMAN_STATES: Readonly<Record<string, string>> = { stopped: 'exited', configured: 'created', initialized: 'created', stopping: 'running' };

/** A container state in Docker's words (Podman's own states mapped). */
export function dockerState(status: string): string {
  return Object.hasOwn(PODMAN_STATES, status) ? PODMAN_STATES[status]! : status;
}

/** Docker's zero time, printed for a container that never started or never finished. */
const DOCKER_ZERO_TIME = '0001-01-01T00:00:00Z';

const CONTAINER_STATES: ReadonlySet<string> = new Set<ContainerState>([
  'created', 'running', 'paused', 'restarting', 'removing', 'exited', 'dead',
]);
const HEALTH_STATES: ReadonlySet<string> = new Set<HealthState>(['starting', 'healthy', 'unhealthy']);

/** Thrown inside this module only; parseProbeOutput turns it into an 'unreadable' host. */
class ProbeParseError extends Error {}

/**
 * Splits probe output into sections by their marker lines. Text before the first marker (a login
 * banner or an rc file's chatter) is ignored. Each section's text is trimmed.
 */
export function splitSections(stdout: string): Map<string, string> {
  const sections = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of stdout.split(/\r?\n/)) {
    const marker = SECTION_PATTERN.exec(line);
    if (marker) {
      const name = marker[1]!;
      // the first occurrence wins: a repeated marker can only come from file content
      if (sections.has(name)) current = [];
      else sections.set(name, (current = []));
    } else if (current) {
      current.push(line);
    }
  }
  return new Map([...sections].map(([name, lines]) => [name, lines.join('\n').trim()]));
}

/**
 * Builds the HostSnapshot of one host from the probe's stdout. Keeps only containers of this
 * service and destination (an unset destination matches containers without one), Kamal-made
 * containers of them (src/probe/kamal.ts) and the Traefik container.
 */
export function parseProbeOutput(host: string, stdout: string, service: string, destination?: string): HostSnapshot {
  const sections = splitSections(stdout);
  if (sections.size === 0) {
    return problem(host, 'unreadable', `probe output not recognised: ${excerpt(stdout)}`);
  }
  const problemName = sections.get('problem');
  if (problemName !== undefined) return hostProblem(host, problemName, sections.get('problem-detail') ?? '');
  if (!sections.has('end')) {
    return problem(host, 'unreadable', 'probe output ended early: the probe script did not run to completion');
  }
  // Podman may log warnings (level=error msg=…) before its version: the version is the line that looks like one
  const versionLines = sanitizeHostText(sections.get('version') ?? '').split('\n').map((line) => line.trim()).filter(Boolean);
  const dockerVersion = versionLines.findLast((line) => DOCKER_VERSION_PATTERN.test(line)) ?? versionLines[0] ?? '';
  if (!dockerVersion) return problem(host, 'unreadable', 'probe output has no docker server version');
  if (!DOCKER_VERSION_PATTERN.test(dockerVersion)) {
    return problem(host, 'unreadable', `\`docker version\` printed something that is not a version: ${excerpt(dockerVersion)}`);
  }
  try {
    const containers = parseJsonRecords(sections.get('containers') ?? '', 'docker inspect (containers)')
      .map(toObservedContainer)
      .filter((container) => concernsService(container, service, destination))
      .sort((a, b) => compare(a.name, b.name));
    const images = parseJsonRecords(sections.get('images') ?? '', 'docker image inspect')
      .map(toObservedImage)
      .sort((a, b) => compare(a.tags[0] ?? a.id, b.tags[0] ?? b.id));
    const networks = sanitizeHostText(sections.get('networks') ?? '').split('\n').map((name) => name.trim()).filter(Boolean).sort(compare);
    const appsText = sections.get('apps');
    const otherApps = appsText === undefined ? undefined : [...new Set(sanitizeHostText(appsText).split('\n').map((name) => name.trim()).filter(Boolean))].sort(compare);
    const lockText = sections.get('lock');
    const releaseText = sections.get('release');
    const traefik = parseTraefik(sections.get('traefik-services'), sections.get('traefik-routers'));
    const traefikFileText = sections.get('traefik-file');
    const traefikFileHash = traefikFileText === undefined ? undefined : (traefikFileHashOf(oneLine(traefikFileText)) ?? UNKNOWN_TRAEFIK_FILE_HASH);
    const arch = dockerArch(sections.get('arch'));
    const warnings: HostWarning[] = [];
    let lock: LockInfo | undefined;
    if (lockText !== undefined) {
      lock = parseLock(lockText);
      if (lock === undefined) {
        lock = unknownLock(host, service, destination);
        warnings.push({ kind: 'lock-unreadable', message: lock.message! });
      }
    }
    let release: ReleaseRecord | undefined;
    if (releaseText !== undefined) {
      const read = readRelease(releaseText, service, destination);
      if (typeof read === 'string') warnings.push({ kind: 'release-unreadable', message: read });
      else release = read;
    }
    const runtime = runtimeOfProbe(sections.get('runtime'));
    const podmanService = runtime === 'podman' ? parsePodmanService(sections.get('podman-service') ?? '') : undefined;
    const named = runtime === 'podman' ? familiarNames(containers, images) : { containers, images };
    return {
      host,
      status: 'ok',
      dockerVersion,
      runtime,
      ...(podmanService ? { podmanService } : {}),
      ...(arch ? { arch } : {}),
      home: oneLine(sections.get('home') ?? ''),
      containers: named.containers,
      images: named.images,
      networks,
      ...(otherApps ? { otherApps } : {}),
      ...(lock ? { lock } : {}),
      ...(release ? { release } : {}),
      ...(traefik ? { traefik } : {}),
      ...(traefikFileHash !== undefined ? { traefikFileHash } : {}),
      ...(warnings.length > 0 ? { warnings } : {}),
    };
  } catch (error) {
    if (error instanceof ProbeParseError) return problem(host, 'unreadable', error.message);
    throw error;
  }
}

/**
 * Podman stores a Docker Hub image under its qualified name (docker.io/library/traefik:v3.6) where
 * Docker and the configuration say traefik:v3.6: its names are read in Docker's form, so the plan
 * compares like with like on both runtimes.
 */
function familiarNames(containers: readonly ObservedContainer[], images: readonly ObservedImage[]): { containers: ObservedContainer[]; images: ObservedImage[] } {
  return {
    containers: containers.map((c) => (c.image === familiarImageName(c.image) ? c : { ...c, image: familiarImageName(c.image) })),
    images: images.map((i) => (i.tags.every((t) => t === familiarImageName(t)) ? i : { ...i, tags: i.tags.map(familiarImageName) })),
  };
}

/** The runtime the probe used: its `runtime` section (older output, without one, came from docker). */
function runtimeOfProbe(text: string | undefined): RuntimeName {
  return oneLine(text ?? '') === 'podman' ? 'podman' : 'docker';
}

/** The `podman-service` section: `socket yes|no`, `keeper <line>|none`, `systemd yes|no`. */
export function parsePodmanService(text: string): PodmanServiceState {
  const lines = sanitizeHostText(text).split('\n').map((line) => line.trim());
  const value = (key: string) => lines.find((line) => line === key || line.startsWith(`${key} `))?.slice(key.length + 1) ?? '';
  const keeper = value('keeper');
  return {
    socket: value('socket') === 'yes',
    ...(keeper !== '' && keeper !== 'none' ? { keeper } : {}),
    systemd: value('systemd') === 'yes',
  };
}

/** `uname -m` in docker's platform words (x86_64 → amd64, aarch64 → arm64); undefined when not one mrsk knows. */
export function dockerArch(unameMachine: string | undefined): string | undefined {
  const machine = (unameMachine ?? '').trim().split('\n')[0]!.trim();
  const known: Record<string, string> = {
    x86_64: 'amd64', amd64: 'amd64', aarch64: 'arm64', arm64: 'arm64', armv7l: 'arm', armv6l: 'arm',
    i386: '386', i686: '386', ppc64le: 'ppc64le', s390x: 's390x', riscv64: 'riscv64',
  };
  return Object.hasOwn(known, machine) ? known[machine] : undefined;
}

/** What `docker version --format {{.Server.Version}}` prints: 20.10.24, 27.3.1, 24.0.7-ce, 4.3.1 (podman). */
const DOCKER_VERSION_PATTERN = /^[0-9][0-9A-Za-z.+~_-]{0,63}$/;

/** The first line of host text, sanitized and trimmed. */
function oneLine(text: string): string {
  return sanitizeHostText(text).trim().split('\n')[0]!.trim();
}

function hostProblem(host: string, name: string, detail: string): HostSnapshot {
  const said = detail === '' ? '' : excerpt(detail, 300);
  switch (name) {
    case 'docker-missing':
      return problem(host, 'docker-missing', 'docker is not installed: no `docker` command on the SSH user\'s PATH');
    case 'runtime-missing':
      return oneLine(detail) === 'podman'
        ? problem(host, 'runtime-missing', 'podman is not installed (runtime: podman): no `podman` command on the SSH user\'s PATH; `mrsk setup` installs it when the SSH user is root')
        : problem(host, 'runtime-missing', 'no container runtime (runtime: auto): neither `docker` nor `podman` is on the SSH user\'s PATH; set runtime to docker or podman and run `mrsk setup` as root to install it');
    case 'podman-rootless':
      return problem(host, 'podman-rootless', 'runtime: podman needs rootful Podman: connect as root (ssh.user: root); rootless Podman keeps its own containers and networks, which Traefik cannot share');
    case 'docker-down':
      return problem(host, 'docker-down', `the Docker daemon is not running${said ? ` (${said})` : ''}`);
    case 'permission-denied':
      return problem(
        host,
        'permission-denied',
        `the SSH user may not use the Docker socket: add it to the docker group or connect as root${said ? ` (${said})` : ''}`,
      );
    case 'too-much-output':
      return problem(
        host,
        'unreadable',
        `\`docker version\` printed more than the probe reads (it stopped it): is \`docker\` on this host what it should be?${said ? ` It printed: ${excerpt(detail, 120)}` : ''}`,
      );
    default:
      return problem(host, 'error', `docker does not answer${said ? `: ${said}` : ''}`);
  }
}

function problem(host: string, status: HostProblem, message: string): HostSnapshot {
  return { host, status, message };
}

/** docker prints either one JSON document per line (with --format) or one JSON array. */
function parseJsonRecords(text: string, what: string): Record<string, unknown>[] {
  if (text === '') return [];
  const documents = text.startsWith('[') ? [text] : text.split('\n').filter((line) => line.trim() !== '');
  const records: Record<string, unknown>[] = [];
  for (const document of documents) {
    const value = sanitizeHostValue(parseJson(document, what));
    const items = Array.isArray(value) ? value : [value];
    for (const item of items) records.push(asRecord(item, what));
  }
  return records;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ProbeParseError(`could not read ${what} output (not JSON): ${excerpt(text)}`);
  }
}

/** JSON.parse of host text, sanitized; undefined when it is not JSON. */
function tryParseJson(text: string): unknown {
  try {
    return sanitizeHostValue(JSON.parse(text));
  } catch {
    return undefined;
  }
}

function toObservedContainer(record: Record<string, unknown>): ObservedContainer {
  const what = 'docker inspect (containers)';
  const id = str(record, 'Id', what);
  const config = asRecord(record['Config'] ?? {}, what);
  const state = asRecord(record['State'], `${what} State of ${id}`);
  const status = dockerState(str(state, 'Status', what));
  if (!CONTAINER_STATES.has(status)) throw new ProbeParseError(`container ${id} has an unknown state "${status}"`);
  const healthRecord = state['Health'] == null ? undefined : asRecord(state['Health'], what);
  // Podman prints a Health with an empty Status for a container without a health check
  const health = healthRecord === undefined ? undefined : str(healthRecord, 'Status', what) || undefined;
  if (health !== undefined && !HEALTH_STATES.has(health)) {
    throw new ProbeParseError(`container ${id} has an unknown health "${health}"`);
  }
  const networks = record['NetworkSettings'] == null ? {} : asRecord(asRecord(record['NetworkSettings'], what)['Networks'] ?? {}, what);
  const mrskNetwork = networks[MRSK_NETWORK] == null ? undefined : asRecord(networks[MRSK_NETWORK], what);
  const ip = mrskNetwork === undefined ? '' : optionalString(mrskNetwork['IPAddress']);
  const startedAt = dockerTime(state['StartedAt']);
  const finishedAt = dockerTime(state['FinishedAt']);
  return {
    id,
    name: str(record, 'Name', what).replace(/^\//, ''),
    image: str(config, 'Image', what),
    imageId: str(record, 'Image', what),
    state: status as ContainerState,
    exitCode: num(state, 'ExitCode', what),
    ...(health !== undefined ? { health: health as HealthState } : {}),
    labels: stringMap(config['Labels'], what),
    createdAt: str(record, 'Created', what),
    ...(startedAt ? { startedAt } : {}),
    ...(finishedAt ? { finishedAt } : {}),
    ...(ip ? { ip } : {}),
    restartCount: record['RestartCount'] === undefined ? 0 : num(record, 'RestartCount', what),
  };
}

function toObservedImage(record: Record<string, unknown>): ObservedImage {
  const what = 'docker image inspect';
  const tags = record['RepoTags'] == null ? [] : asArray(record['RepoTags'], what);
  const config = record['Config'] == null ? {} : asRecord(record['Config'], what);
  return {
    id: str(record, 'Id', what),
    // dangling images show as <none>:<none> in some docker versions
    tags: tags.map((tag) => asString(tag, what)).filter((tag) => tag !== '<none>:<none>'),
    createdAt: str(record, 'Created', what),
    labels: stringMap(config['Labels'], what),
  };
}

/**
 * The lock folder exists. Its holder.json may be missing or half written (a crash between mkdir
 * and write): the host is still locked, by someone unknown (undefined here, unknownLock()).
 */
function parseLock(text: string): LockInfo | undefined {
  const value = tryParseJson(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  const holder = record['holder'];
  if (typeof holder !== 'string') return undefined;
  const message = record['message'];
  const pid = record['pid'];
  return {
    holder,
    command: optionalString(record['command']) || 'unknown',
    ...(typeof message === 'string' ? { message } : {}),
    acquiredAt: optionalString(record['acquiredAt']),
    leaseExpiresAt: optionalString(record['leaseExpiresAt']),
    id: optionalString(record['id']),
    ...(typeof pid === 'number' ? { pid } : {}),
  };
}

/** A lock whose holder cannot be read: the host counts as locked; the message says how to clear it. */
function unknownLock(host: string, service: string, destination: string | undefined): LockInfo {
  return {
    holder: 'unknown',
    command: 'unknown',
    message:
      `the deploy lock's holder file ${displayHostPath(hostPaths(service, destination).lockHolder)} is missing or unreadable, so the host counts as locked; ` +
      `if no mrsk run is using it, clear it with: mrsk lock release --force -h ${host}`,
    acquiredAt: '',
    leaseExpiresAt: '',
    id: '',
  };
}

/** The release record, or why it cannot be used (the host then has no known release). */
function readRelease(text: string, service: string, destination: string | undefined): ReleaseRecord | string {
  const path = displayHostPath(hostPaths(service, destination).currentRelease);
  const unreadable = (why: string) =>
    `the release record ${path} cannot be read (${why}); the deployed release counts as unknown until the next deploy or apply records one`;
  const value = tryParseJson(text);
  if (value === undefined) return unreadable(`not JSON: ${excerpt(text, 60)}`);
  try {
    const what = 'the release record';
    const record = asRecord(value, what);
    const traefikSpecHash = record['traefikSpecHash'];
    return {
      id: str(record, 'id', what),
      version: str(record, 'version', what),
      appliedAt: str(record, 'appliedAt', what),
      appliedBy: str(record, 'appliedBy', what),
      specHashes: stringMap(record['specHashes'], what),
      ...(typeof traefikSpecHash === 'string' ? { traefikSpecHash } : {}),
      ...('desired' in record ? { desired: record['desired'] } : {}),
      ...(Array.isArray(record['missedHosts']) ? { missedHosts: missedHostsOf(record['missedHosts']) } : {}),
    };
  } catch (error) {
    if (error instanceof ProbeParseError) return unreadable(error.message.replace(/^could not read the release record output: /, ''));
    throw error;
  }
}

/** The hosts a release names as skipped; entries that are not {host, reason} strings are ignored. */
function missedHostsOf(list: readonly unknown[]): { host: string; reason: string }[] {
  return list.flatMap((item) => {
    if (item === null || typeof item !== 'object') return [];
    const { host, reason } = item as Record<string, unknown>;
    return typeof host === 'string' ? [{ host: sanitizeHostText(host), reason: typeof reason === 'string' ? sanitizeHostText(reason) : '' }] : [];
  });
}

/** Traefik's API answers, or undefined when it did not answer (not running yet, API off, wget failed). */
function parseTraefik(servicesText: string | undefined, routersText: string | undefined): TraefikState | undefined {
  if (!servicesText || !routersText) return undefined;
  const servicesJson = tryParseJson(servicesText);
  const routersJson = tryParseJson(routersText);
  if (!Array.isArray(servicesJson) || !Array.isArray(routersJson)) return undefined;
  const what = "Traefik's API";
  const services: Record<string, TraefikServiceState> = {};
  for (const item of servicesJson) {
    const entry = asRecord(item, what);
    services[withoutDockerProvider(str(entry, 'name', what))] = {
      status: optionalString(entry['status']),
      serverStatus: entry['serverStatus'] == null ? {} : stringMap(entry['serverStatus'], what),
    };
  }
  const routers: Record<string, TraefikRouterState> = {};
  for (const item of routersJson) {
    const entry = asRecord(item, what);
    routers[withoutDockerProvider(str(entry, 'name', what))] = {
      rule: optionalString(entry['rule']),
      service: withoutDockerProvider(optionalString(entry['service'])),
      status: optionalString(entry['status']),
    };
  }
  return { services, routers };
}

/** Names from the Docker provider carry `@docker`; mrsk's labels name them without it. */
function withoutDockerProvider(name: string): string {
  return name.endsWith('@docker') ? name.slice(0, -'@docker'.length) : name;
}

function dockerTime(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' && value !== DOCKER_ZERO_TIME ? value : undefined;
}

function asRecord(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProbeParseError(`could not read ${what} output: expected an object, got ${excerpt(JSON.stringify(value) ?? String(value))}`);
  }
  return value as Record<string, unknown>;
}

function asArray(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new ProbeParseError(`could not read ${what} output: expected a list`);
  return value;
}

function asString(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new ProbeParseError(`could not read ${what} output: expected text, got ${typeof value}`);
  return value;
}

function str(record: Record<string, unknown>, key: string, what: string): string {
  const value = record[key];
  if (typeof value !== 'string') throw new ProbeParseError(`could not read ${what} output: "${key}" is missing or not text`);
  return value;
}

function num(record: Record<string, unknown>, key: string, what: string): number {
  const value = record[key];
  if (typeof value !== 'number') throw new ProbeParseError(`could not read ${what} output: "${key}" is missing or not a number`);
  return value;
}

function optionalString(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** A map of text values; null (docker's "no labels") is an empty map. */
function stringMap(value: unknown, what: string): Record<string, string> {
  if (value == null) return {};
  const record = asRecord(value, what);
  const out: Record<string, string> = {};
  for (const key of Object.keys(record).sort()) out[key] = asString(record[key], what);
  return out;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Host text quoted in a message: sanitized, on one line, shortened. */
function excerpt(text: string, max = 120): string {
  return hostExcerpt(text, max);
}
