// The desired state of an accessory (a database, a cache) on one host. Pure: Config in, spec out.
//
// An accessory is named `<service>-<name>` (Kamal's name; `service:` overrides it), runs on the
// app's network so the app reaches it by that name, restarts unless stopped, and logs like the
// app. Its identity is `mrsk.spec-hash` over the canonical spec: secret values enter as HMACs
// (like app containers), files by their content hash (never the content, and never the local path,
// which differs between machines). Unlike an app container it is never replaced implicitly: a
// changed hash is a pending change that `mrsk accessory reboot` applies (src/plan/diff.ts).
import type { AccessoryConfig, Config } from '../config/types.ts';
import { splitShellWords } from '../config/shell-words.ts';
import { publishArgument } from '../config/accessories.ts';
import { InternalError } from '../errors.ts';
import { ACCESSORY_LABEL, DESTINATION_LABEL, SERVICE_LABEL, SPEC_HASH_LABEL, SPEC_PARTS_LABEL } from '../model/labels.ts';
import { MRSK_NETWORK } from '../model/names.ts';
import type { Secret } from '../secret.ts';
import { canonicalJson, hmacHex, sha256Hex } from './canonical.ts';
import { DEFAULT_LOGGING } from './desired.ts';
import { expandDockerOptions } from './options.ts';
import { hostPaths } from './paths.ts';
import { secretDigestKey } from './spec-hash.ts';

/** A project file uploaded to the host (mode, owner) and mounted read-only at `remote`. */
export interface AccessoryFileSpec {
  /** Absolute local path, read at upload (not hashed: it differs between machines). */
  readonly localPath: string;
  /** Home-relative host copy: `.mrsk/<app>/accessories/<name>/files/<remote without its leading slash>`. */
  readonly hostPath: string;
  readonly remote: string;
  /** Four octal digits. */
  readonly mode: string;
  readonly owner?: string;
  /** `sha256:<hex>` of the content when planned; the upload refuses a file that no longer has it. */
  readonly hash: string;
}

/** A host folder created before the accessory runs and mounted read-write at `remote` (its data). */
export interface AccessoryDirectorySpec {
  /** Absolute, or home-relative under `.mrsk/<app>/accessories/<name>/data/`. */
  readonly hostPath: string;
  readonly remote: string;
}

/** One accessory as mrsk runs it on a host. */
export interface AccessorySpec {
  /** The config's name (`accessories.<name>`), what the accessory commands take. */
  readonly name: string;
  readonly service: string;
  readonly destination?: string;
  /** The container's name: `<service>-<name>`, or the config's `service`. */
  readonly containerName: string;
  readonly image: string;
  /** docker -p values. */
  readonly ports: readonly string[];
  readonly cmd?: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Written to a 0600 env file on the host, never on a command line. */
  readonly secretEnv: Readonly<Record<string, Secret>>;
  readonly volumes: readonly string[];
  /** With mrsk.service, mrsk.destination, mrsk.accessory, mrsk.spec-parts and mrsk.spec-hash. */
  readonly labels: Readonly<Record<string, string>>;
  /** Extra docker run options as argv. */
  readonly options: readonly string[];
  readonly logging: { readonly driver?: string; readonly options: Readonly<Record<string, string>> };
  readonly network: string;
  readonly files: readonly AccessoryFileSpec[];
  readonly directories: readonly AccessoryDirectorySpec[];
  /** Home-relative folder of its host files and data: `.mrsk/<app>/accessories/<name>`. */
  readonly hostDir: string;
  /** Whether docker health-checks it (a `health-cmd` option): then starting it waits for healthy. */
  readonly healthcheck: boolean;
  /** The registry its image comes from, when it has its own (a login is that registry's). */
  readonly registryServer?: string;
  readonly specHash: string;
}

/** `.mrsk/<app>/accessories/<name>`: the accessory's files and data on the host (home-relative). */
export function accessoryHostDir(service: string, destination: string | undefined, name: string): string {
  return `${hostPaths(service, destination).root}/accessories/${name}`;
}

/** The container name of an accessory: the config's `service`, else `<service>-<name>` (Kamal's). */
export function accessoryContainerName(service: string, accessory: Pick<AccessoryConfig, 'name' | 'service'>): string {
  return accessory.service ?? `${service}-${accessory.name}`;
}

/** A host folder for a `directories` entry: absolute as written, else under the accessory's data folder. */
function directoryHostPath(hostDir: string, local: string | undefined, remote: string): string {
  const name = local ?? remote.replace(/^\/+/, '');
  if (name.startsWith('/')) return name.replace(/\/+$/, '') || '/';
  return `${hostDir}/data/${name.replace(/^\.\/+/, '').replace(/\/+$/, '')}`;
}

/** The spec of one accessory on one host (the same on every host it runs on). */
export function accessorySpecFor(config: Config, accessory: AccessoryConfig): AccessorySpec {
  const { service, destination } = config;
  const hostDir = accessoryHostDir(service, destination, accessory.name);
  const logging = config.logging.driver === undefined && Object.keys(config.logging.options).length === 0 ? DEFAULT_LOGGING : config.logging;
  const options = expandDockerOptions(accessory.options);
  const secretEnv = { ...accessory.env.secret };
  const env = { ...accessory.env.clear };
  for (const key of Object.keys(secretEnv)) delete env[key];
  const unhashed: Omit<AccessorySpec, 'specHash'> = {
    name: accessory.name,
    service,
    ...(destination ? { destination } : {}),
    containerName: accessoryContainerName(service, accessory),
    image: accessory.image,
    ports: accessory.port === undefined ? [] : [publishArgument(accessory.port)],
    ...(accessory.cmd !== undefined ? { cmd: commandWords(accessory.cmd) } : {}),
    env,
    secretEnv,
    volumes: [...accessory.volumes],
    labels: {
      ...accessory.labels,
      [SERVICE_LABEL]: service,
      ...(destination ? { [DESTINATION_LABEL]: destination } : {}),
      [ACCESSORY_LABEL]: accessory.name,
    },
    options,
    logging: { ...(logging.driver ? { driver: logging.driver } : {}), options: { ...logging.options } },
    network: accessory.network ?? MRSK_NETWORK,
    files: accessory.files.map((file) => ({
      localPath: file.localPath,
      hostPath: `${hostDir}/files/${file.remote.replace(/^\/+/, '')}`,
      remote: file.remote,
      mode: file.mode,
      ...(file.owner !== undefined ? { owner: file.owner } : {}),
      hash: file.hash,
    })),
    directories: accessory.directories.map((dir) => ({ hostPath: directoryHostPath(hostDir, dir.local, dir.remote), remote: dir.remote })),
    hostDir,
    healthcheck: options.includes('--health-cmd'),
    ...(accessory.registry?.server !== undefined ? { registryServer: accessory.registry.server } : {}),
  };
  return finishAccessorySpec(unhashed);
}

function commandWords(cmd: string): readonly string[] {
  const split = splitShellWords(cmd);
  if (!split.ok) throw new InternalError(`accessory cmd ${JSON.stringify(cmd)} needs a shell (${split.reason}); write it as sh -c '…'`);
  return split.words;
}

/** What the hash and the parts label are made of: secrets as HMACs, files without their local path. */
function hashInput(spec: Omit<AccessorySpec, 'specHash'>): Record<string, unknown> {
  const key = secretDigestKey(spec.service, spec.destination);
  const secrets: Record<string, string> = {};
  for (const [name, secret] of Object.entries(spec.secretEnv)) secrets[name] = hmacHex(key, secret.reveal());
  const labels: Record<string, string> = {};
  for (const [name, value] of Object.entries(spec.labels)) if (name !== SPEC_HASH_LABEL && name !== SPEC_PARTS_LABEL) labels[name] = value;
  const { secretEnv: _secrets, labels: _labels, files, ...rest } = spec;
  return { ...rest, labels, secretEnv: secrets, files: files.map(({ localPath: _local, ...file }) => file) };
}

/** The parts label: image, cmd, ports and clear env verbatim, secrets as short HMACs, files by hash. */
export interface AccessorySpecParts {
  readonly image: string;
  readonly cmd: readonly string[] | null;
  readonly ports: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly secrets: Readonly<Record<string, string>>;
  readonly files: Readonly<Record<string, string>>;
  readonly directories: readonly string[];
  readonly volumes: readonly string[];
  readonly options: string;
  readonly labels: string;
  readonly logging: string;
  readonly network: string;
}

const shortDigest = (value: unknown): string => sha256Hex(canonicalJson(value ?? null)).slice(0, 12);

function specParts(input: Record<string, unknown>, spec: Omit<AccessorySpec, 'specHash'>): AccessorySpecParts {
  const secrets: Record<string, string> = {};
  for (const [name, digest] of Object.entries(input.secretEnv as Record<string, string>)) secrets[name] = digest.slice(0, 16);
  return {
    image: spec.image,
    cmd: spec.cmd ? [...spec.cmd] : null,
    ports: [...spec.ports],
    env: { ...spec.env },
    secrets,
    files: Object.fromEntries(spec.files.map((file) => [file.remote, `${file.hash.slice(0, 19)} ${file.mode}${file.owner ? ` ${file.owner}` : ''}`])),
    directories: spec.directories.map((dir) => `${dir.hostPath}:${dir.remote}`),
    volumes: [...spec.volumes],
    options: shortDigest(spec.options),
    labels: shortDigest(input.labels),
    logging: shortDigest(spec.logging),
    network: spec.network,
  };
}

/** Adds the parts and hash labels and the hash. */
export function finishAccessorySpec(spec: Omit<AccessorySpec, 'specHash'>): AccessorySpec {
  const input = hashInput(spec);
  const specHash = `v1:${sha256Hex(canonicalJson(input))}`;
  const labels = { ...spec.labels, [SPEC_PARTS_LABEL]: canonicalJson(specParts(input, spec)), [SPEC_HASH_LABEL]: specHash };
  return { ...spec, labels, specHash };
}

/** Every accessory of the config by host: the hosts each one runs on, in config order. */
export function accessoriesByHost(config: Config): Map<string, AccessorySpec[]> {
  const byHost = new Map<string, AccessorySpec[]>();
  for (const accessory of config.accessories) {
    const spec = accessorySpecFor(config, accessory);
    for (const host of accessory.hosts) byHost.set(host, [...(byHost.get(host) ?? []), spec]);
  }
  return byHost;
}
