// accessories: with Kamal's meaning for every key (host/hosts/role/roles/tag/tags, port, cmd, env,
// labels, options, volumes, files, directories, registry, service, network), read from the
// schema-valid config object. What the schema cannot say is reported here, at the key:
// - a placement that names a role no host has, or a tag no host carries (it would run nowhere);
//   a host named directly may be any host, as in Kamal (a database usually has its own server);
// - a published host port Traefik needs (HTTP, HTTPS, its API) on a host that runs Traefik;
// - a `files` entry whose local file is missing (the plan would fail half-way at upload).
// A file's content is read once here for its hash (it is part of the accessory's spec hash); the
// executor reads it again at upload and refuses a file that changed since the plan.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { Secret } from '../secret.ts';
import type { AccessoryConfig, AccessoryDirectory, AccessoryFile, DockerOptions, EnvSpec, RegistryConfig, Role } from './types.ts';
import type { KeyPath } from './source.ts';

type Raw = Record<string, any>;

/** The host ports Traefik publishes, and whether HTTP/HTTPS are published at all. */
export interface TraefikPorts {
  readonly http: number;
  readonly https: number;
  readonly api: number;
  readonly publish: boolean;
}

/** What reading accessories needs from the rest of the config. */
export interface AccessoryContext {
  /** The project root: `files` local paths are relative to it. */
  readonly root: string;
  /** Roles with hosts (and their host tags). */
  readonly roles: readonly Role[];
  readonly traefik: TraefikPorts;
  readonly report: (path: KeyPath, message: string) => void;
  readonly env: (value: unknown, path: KeyPath) => EnvSpec;
  readonly resolveSecret: (name: string, path: KeyPath) => Secret | undefined;
  readonly stringMap: (value: unknown) => Record<string, string>;
  readonly dockerOptions: (value: unknown) => DockerOptions;
}

/** Kamal's default mode of an uploaded file when none is given: readable by the container's user. */
export const DEFAULT_FILE_MODE = '0644';

const PLACEMENT_KEYS = ['host', 'hosts', 'role', 'roles', 'tag', 'tags'] as const;

/** The host side of a port setting: `6379`, `6379:6379`, `127.0.0.1:6379:6379` (and `/udp`). */
export function publishedHostPort(port: string): number {
  const parts = port.replace(/\/(tcp|udp)$/, '').split(':');
  return Number(parts.length === 1 ? parts[0] : parts[parts.length - 2]);
}

/** docker's -p value for a port setting: a bare port publishes the same port on the host. */
export function publishArgument(port: string): string {
  return /^[0-9]+(\/(tcp|udp))?$/.test(port) ? `${port.replace(/\/(tcp|udp)$/, '')}:${port}` : port;
}

/** Reads every accessory; problems are reported (the caller then refuses the config). */
export function normalizeAccessories(raw: Raw | undefined, context: AccessoryContext): AccessoryConfig[] {
  return Object.entries(raw ?? {}).map(([name, value]) => normalizeAccessory(name, value as Raw, context));
}

function normalizeAccessory(name: string, spec: Raw, context: AccessoryContext): AccessoryConfig {
  const path: KeyPath = ['accessories', name];
  const { report } = context;
  const hosts = placementHosts(spec, path, context);

  const port = spec.port === undefined ? undefined : String(spec.port);
  if (port !== undefined) {
    const hostPort = publishedHostPort(port);
    const { traefik } = context;
    const traefikHosts = new Set(context.roles.filter((role) => role.traefik.enabled).flatMap((role) => role.hosts));
    const taken = [...(traefik.publish ? [[traefik.http, 'HTTP'], [traefik.https, 'HTTPS']] : []), [traefik.api, 'API']] as const;
    const clash = taken.find(([used]) => used === hostPort);
    const on = hosts.filter((host) => traefikHosts.has(host));
    if (clash && on.length > 0) {
      report([...path, 'port'], `host port ${hostPort} is Traefik's ${clash[1]} port on ${on.join(', ')}; publish the accessory on another host port (e.g. "${hostPort + 10000}:${port.split(':').pop()}")`);
    }
  }

  const files: AccessoryFile[] = ((spec.files ?? []) as (string | Raw)[]).flatMap((entry, index) => {
    const entryPath: KeyPath = [...path, 'files', index];
    const form = typeof entry === 'string' ? splitPair(entry) : { local: entry.local as string, remote: entry.remote as string };
    if (!form) {
      report(entryPath, 'must be "local:remote" (a file of the project, and its path in the container)');
      return [];
    }
    const localPath = isAbsolute(form.local) ? form.local : resolve(context.root, form.local);
    let content: Buffer;
    try {
      if (!statSync(localPath).isFile()) throw new Error('not a file');
      content = readFileSync(localPath);
    } catch {
      report(entryPath, `local file ${form.local} is missing (${isAbsolute(form.local) ? 'an absolute path' : 'relative to the project root: the folder mrsk runs in'})`);
      return [];
    }
    const mode = typeof entry === 'object' && entry.mode !== undefined ? normalizeMode(entry.mode) : DEFAULT_FILE_MODE;
    const owner = typeof entry === 'object' && entry.owner !== undefined ? String(entry.owner) : undefined;
    const file: AccessoryFile = {
      local: form.local,
      localPath,
      remote: form.remote,
      mode,
      ...(owner !== undefined ? { owner } : {}),
      hash: `sha256:${createHash('sha256').update(content).digest('hex')}`,
    };
    return [file];
  });

  const directories: AccessoryDirectory[] = ((spec.directories ?? []) as (string | Raw)[]).flatMap((entry, index) => {
    const form = typeof entry === 'string' ? splitPair(entry) : { local: entry.local as string | undefined, remote: entry.remote as string };
    if (!form) {
      report([...path, 'directories', index], 'must be "host_dir:container_dir" (host_dir relative to the accessory\'s data folder unless absolute)');
      return [];
    }
    return [{ ...(form.local !== undefined ? { local: form.local } : {}), remote: form.remote }];
  });

  const registry = accessoryRegistry(spec.registry as Raw | undefined, [...path, 'registry'], context);
  const image = registry?.server !== undefined && !String(spec.image).startsWith(`${registry.server}/`) ? `${registry.server}/${spec.image}` : (spec.image as string);

  return {
    name,
    image,
    hosts,
    ...(port !== undefined ? { port } : {}),
    ...(spec.cmd !== undefined ? { cmd: spec.cmd as string } : {}),
    env: spec.env === undefined ? { clear: {}, secret: {} } : context.env(spec.env, [...path, 'env']),
    volumes: [...((spec.volumes as string[] | undefined) ?? [])],
    labels: context.stringMap(spec.labels),
    options: context.dockerOptions(spec.options),
    files,
    directories,
    ...(registry ? { registry } : {}),
    ...(spec.service !== undefined ? { service: spec.service as string } : {}),
    ...(spec.network !== undefined ? { network: spec.network as string } : {}),
  };
}

/** The hosts of one placement key (exactly one of them is given). */
function placementHosts(spec: Raw, path: KeyPath, context: AccessoryContext): string[] {
  const { report, roles } = context;
  const given = PLACEMENT_KEYS.filter((key) => spec[key] !== undefined);
  if (given.length !== 1) {
    report(path, given.length === 0 ? 'needs one of host, hosts, role, roles, tag or tags' : `give only one of ${given.join(', ')}`);
    return [];
  }
  const key = given[0]!;
  const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : [String(value)]);
  const hosts: string[] = [];
  if (key === 'host' || key === 'hosts') hosts.push(...list(spec[key]));
  else if (key === 'role' || key === 'roles') {
    list(spec[key]).forEach((roleName, index) => {
      const role = roles.find((r) => r.name === roleName);
      const at: KeyPath = key === 'roles' ? [...path, 'roles', index] : [...path, 'role'];
      if (!role) report(at, `unknown role "${roleName}" (roles: ${roles.map((r) => r.name).join(', ')})`);
      else hosts.push(...role.hosts);
    });
  } else {
    list(spec[key]).forEach((tag, index) => {
      const tagged = roles.flatMap((role) => role.hosts.filter((host) => (role.hostTags && Object.hasOwn(role.hostTags, host) ? role.hostTags[host]! : []).includes(tag)));
      const at: KeyPath = key === 'tags' ? [...path, 'tags', index] : [...path, 'tag'];
      if (tagged.length === 0) report(at, `no host of any role carries tag "${tag}", so the accessory would run nowhere (tag hosts in servers: - 10.0.0.1: ${tag})`);
      hosts.push(...tagged);
    });
  }
  return [...new Set(hosts)];
}

/** `a:b` split at the first colon; undefined unless both sides are non-empty. */
function splitPair(entry: string): { local: string; remote: string } | undefined {
  const at = entry.indexOf(':');
  if (at <= 0 || at === entry.length - 1) return undefined;
  return { local: entry.slice(0, at), remote: entry.slice(at + 1) };
}

/** A file mode as four octal digits: `640`, `"0640"` and `0o640` all give `0640`. */
function normalizeMode(mode: unknown): string {
  const text = typeof mode === 'number' ? mode.toString(8) : String(mode).replace(/^0o/, '');
  // YAML reads 0640 as the decimal number 640 when written without quotes: the digits are meant.
  const digits = typeof mode === 'number' && /^[0-7]{3,4}$/.test(String(mode)) ? String(mode) : text;
  return digits.padStart(4, '0');
}

/** An accessory's own registry (its image's server and login), in the top level's forms. */
function accessoryRegistry(raw: Raw | undefined, path: KeyPath, context: AccessoryContext): RegistryConfig | undefined {
  if (raw === undefined) return undefined;
  let username: string | undefined;
  let usernameSecret: string | undefined;
  if (Array.isArray(raw.username)) {
    const secret = context.resolveSecret(raw.username[0] as string, [...path, 'username', 0]);
    username = secret?.reveal();
    usernameSecret = secret?.name;
  } else if (raw.username !== undefined) username = String(raw.username);
  const password = Array.isArray(raw.password) ? context.resolveSecret(raw.password[0] as string, [...path, 'password', 0]) : undefined;
  return {
    ...(raw.server !== undefined ? { server: raw.server as string } : {}),
    ...(username !== undefined ? { username } : {}),
    ...(usernameSecret !== undefined ? { usernameSecret } : {}),
    ...(password ? { password } : {}),
  };
}
