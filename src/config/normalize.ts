// Turns the validated, defaults-filled config object (snake_case, as in the file) into the typed
// Config every other module reads: roles with hosts, effective env per role, secrets resolved,
// durations in seconds. Problems the schema cannot express (an unknown primary role, a missing
// secret) are reported through `report`, positioned by the caller.
import { Secret } from '../secret.ts';
import type { AccessoryConfig, Config, DockerOptions, EnvSpec, Role, SshConfig } from './types.ts';
import type { KeyPath } from './source.ts';
import { lookupSecret, missingSecretMessage, type SecretSource } from './secrets.ts';

/** What normalize needs besides the config object. */
export interface NormalizeContext {
  readonly file: string;
  readonly root: string;
  readonly destination?: string;
  readonly secretSources: readonly SecretSource[];
  /** Whether the file set primary_role (else a missing primary role is reported at servers). */
  readonly primaryRoleExplicit: boolean;
  /** Records a problem at a key path of the merged config. */
  readonly report: (path: KeyPath, message: string, atKey?: boolean) => void;
}

// The schema has checked the shape; this module only reads it.
type Raw = Record<string, any>;

/** Builds the Config from a schema-valid object. Returns undefined if it reported any problem. */
export function normalizeConfig(raw: Raw, context: NormalizeContext): Config | undefined {
  let failed = false;
  const report = (path: KeyPath, message: string, atKey = false) => {
    failed = true;
    context.report(path, message, atKey);
  };
  const resolved = new Map<string, Secret>();
  const resolveSecret = (name: string, path: KeyPath): Secret | undefined => {
    const known = resolved.get(name);
    if (known) return known;
    const secret = lookupSecret(name, context.secretSources);
    if (!secret) report(path, missingSecretMessage(name, context.secretSources));
    else resolved.set(name, secret);
    return secret;
  };

  const baseEnv = normalizeEnv(raw.env, ['env'], resolveSecret);
  const baseLabels = stringMap(raw.labels);

  // servers: a list means one role, web.
  const serverEntries: [string, unknown][] = Array.isArray(raw.servers) ? [['web', raw.servers]] : Object.entries(raw.servers as Raw);
  const roles: Role[] = serverEntries.map(([name, value]) => {
    const path: KeyPath = Array.isArray(raw.servers) ? ['servers'] : ['servers', name];
    const spec: Raw = Array.isArray(value) ? { hosts: value } : (value as Raw);
    const hosts = spec.hosts as string[];
    const duplicate = hosts.findIndex((host, index) => hosts.indexOf(host) !== index);
    if (duplicate >= 0) report([...path, ...(Array.isArray(value) ? [] : ['hosts']), duplicate], `host ${hosts[duplicate]} is listed twice in role ${name}`);
    const roleEnv = spec.env === undefined ? undefined : normalizeEnv(spec.env, [...path, 'env'], resolveSecret);
    const traefikSetting = spec.traefik as boolean | { enabled?: boolean; labels?: Raw } | undefined;
    const enabled = traefikSetting === undefined ? name === 'web' : typeof traefikSetting === 'boolean' ? traefikSetting : (traefikSetting.enabled ?? true);
    const role: Role = {
      name,
      hosts: [...hosts],
      ...(spec.cmd !== undefined ? { cmd: Array.isArray(spec.cmd) ? [...(spec.cmd as string[])] : (spec.cmd as string) } : {}),
      env: roleEnv ? mergeEnv(baseEnv, roleEnv) : baseEnv,
      labels: { ...baseLabels, ...stringMap(spec.labels) },
      options: dockerOptions(spec.options),
      traefik: { enabled, labels: typeof traefikSetting === 'object' ? stringMap(traefikSetting.labels) : {} },
    };
    return role;
  });

  const primaryRole = raw.primary_role as string;
  const primary = roles.find((role) => role.name === primaryRole);
  if (!primary) {
    const message = `primary role "${primaryRole}" is not one of the roles (${roles.map((r) => r.name).join(', ')}); set primary_role`;
    report(context.primaryRoleExplicit ? ['primary_role'] : ['servers'], message);
  }
  const orderedRoles = primary ? [primary, ...roles.filter((role) => role !== primary)] : roles;
  // Hosts in role order with the primary role first, so the primary host leads.
  const hosts = [...new Set(orderedRoles.flatMap((role) => role.hosts))];

  const registry = raw.registry as Raw | undefined;
  let password: Secret | undefined;
  if (registry?.password !== undefined) {
    if (Array.isArray(registry.password)) password = resolveSecret(registry.password[0] as string, ['registry', 'password', 0]);
    // A password written in the file (usually through ${VAR}) is still a secret.
    else password = new Secret('registry.password', registry.password as string);
  }

  const builder = raw.builder as Raw;
  const builderSecrets: Record<string, Secret> = {};
  (builder.secrets as string[]).forEach((name, index) => {
    const secret = resolveSecret(name, ['builder', 'secrets', index]);
    if (secret) builderSecrets[name] = secret;
  });

  const ssh = raw.ssh as Raw;
  const strict = String(ssh.strict_host_key_checking) as SshConfig['strictHostKeyChecking'];
  // ssh.key_data: a secret's name, or (Kamal-style, through ${VAR}) the key text itself.
  const keyData: Secret[] = [];
  ((ssh.key_data ?? []) as string[]).forEach((entry, index) => {
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(entry)) {
      const secret = resolveSecret(entry, ['ssh', 'key_data', index]);
      if (secret) keyData.push(secret);
    } else keyData.push(new Secret(`ssh.key_data[${index}]`, entry));
  });
  const knownHosts = ssh.known_hosts !== undefined ? resolveSecret(ssh.known_hosts as string, ['ssh', 'known_hosts']) : undefined;

  const accessories: AccessoryConfig[] = Object.entries(raw.accessories as Raw).map(([name, value]) => {
    const spec = value as Raw;
    const path: KeyPath = ['accessories', name];
    const placements = ['host', 'hosts', 'roles'].filter((key) => spec[key] !== undefined);
    if (placements.length !== 1) report(path, placements.length === 0 ? 'needs one of host, hosts or roles' : `give only one of ${placements.join(', ')}`);
    let accessoryHosts: string[] = [];
    if (spec.host !== undefined) accessoryHosts = [spec.host as string];
    else if (spec.hosts !== undefined) accessoryHosts = [...(spec.hosts as string[])];
    else if (spec.roles !== undefined) {
      (spec.roles as string[]).forEach((roleName, index) => {
        const role = roles.find((r) => r.name === roleName);
        if (!role) report([...path, 'roles', index], `unknown role "${roleName}" (roles: ${roles.map((r) => r.name).join(', ')})`);
        else accessoryHosts.push(...role.hosts);
      });
      accessoryHosts = [...new Set(accessoryHosts)];
    }
    return {
      name,
      image: spec.image as string,
      hosts: accessoryHosts,
      ...(spec.port !== undefined ? { port: String(spec.port) } : {}),
      ...(spec.cmd !== undefined ? { cmd: spec.cmd as string } : {}),
      env: spec.env === undefined ? { clear: {}, secret: {} } : normalizeEnv(spec.env, [...path, 'env'], resolveSecret),
      volumes: [...((spec.volumes as string[] | undefined) ?? [])],
      labels: stringMap(spec.labels),
      options: dockerOptions(spec.options),
    };
  });

  if (failed || !primary) return undefined;
  const healthcheck = raw.healthcheck as Raw;
  const traefik = raw.traefik as Raw;
  const logging = raw.logging as Raw;
  const boot = raw.boot as Raw;
  const arch = builder.arch as string | string[];
  return {
    file: context.file,
    root: context.root,
    ...(context.destination ? { destination: context.destination } : {}),
    service: raw.service as string,
    image: raw.image as string,
    registry: {
      ...(registry?.server !== undefined ? { server: registry.server as string } : {}),
      ...(registry?.username !== undefined ? { username: registry.username as string } : {}),
      ...(password ? { password } : {}),
    },
    roles: orderedRoles,
    primaryRole,
    primaryHost: primary.hosts[0]!,
    hosts,
    env: baseEnv,
    healthcheck: {
      path: healthcheck.path as string,
      port: healthcheck.port as number,
      interval: seconds(healthcheck.interval),
      timeout: seconds(healthcheck.timeout),
      maxAttempts: healthcheck.max_attempts as number,
      ...(healthcheck.cmd !== undefined ? { cmd: healthcheck.cmd as string } : {}),
    },
    traefik: {
      image: traefik.image as string,
      args: { ...(traefik.args as Record<string, string | number | boolean>) },
      labels: stringMap(traefik.labels),
      options: dockerOptions(traefik.options),
      hostPort: traefik.host_port as number,
      apiPort: traefik.api_port as number,
    },
    ssh: {
      user: ssh.user as string,
      port: ssh.port as number,
      ...(ssh.proxy !== undefined ? { proxy: ssh.proxy as string } : {}),
      keys: [...(ssh.keys as string[])],
      strictHostKeyChecking: strict,
      maxConcurrent: ssh.max_concurrent as number,
      connectTimeout: seconds(ssh.connect_timeout),
      commandTimeout: seconds(ssh.command_timeout),
      keepaliveInterval: seconds(ssh.keepalive_interval),
      keyData,
      ...(knownHosts ? { knownHosts } : {}),
      ...(ssh.known_hosts_file !== undefined ? { knownHostsFile: ssh.known_hosts_file as string } : {}),
      ...(ssh.config_file !== undefined ? { configFile: ssh.config_file as string } : {}),
    },
    builder: {
      multiarch: builder.multiarch as boolean,
      arch: kamal1Arches(builder, typeof arch === 'string' ? [arch] : [...arch]),
      ...(builder.context !== undefined ? { context: builder.context as string } : {}),
      dockerfile: builder.dockerfile as string,
      args: stringMap(builder.args),
      secrets: builderSecrets,
      ...builderPlacement(builder),
      ...(builder.driver !== undefined ? { driver: builder.driver as string } : {}),
      ...(builder.target !== undefined ? { target: builder.target as string } : {}),
      ...(builder.ssh !== undefined ? { ssh: builder.ssh as string } : {}),
      ...(builder.provenance !== undefined ? { provenance: builder.provenance as string | boolean } : {}),
      ...(builder.sbom !== undefined ? { sbom: builder.sbom as string | boolean } : {}),
      ...(builder.cache !== undefined ? { cache: { ...(builder.cache as { type: string; options?: string; image?: string }) } } : {}),
    },
    volumes: [...(raw.volumes as string[])],
    labels: baseLabels,
    logging: { ...(logging.driver !== undefined ? { driver: logging.driver as string } : {}), options: stringMap(logging.options) },
    retainContainers: raw.retain_containers as number,
    readinessDelay: seconds(raw.readiness_delay),
    deployTimeout: seconds(raw.deploy_timeout),
    drainTimeout: seconds(raw.drain_timeout),
    boot: { ...(boot.limit !== undefined ? { limit: boot.limit as number | string } : {}), wait: seconds(boot.wait) },
    accessories,
    aliases: { ...(raw.aliases as Record<string, string>) },
    ...(raw.minimum_version !== undefined ? { minimumVersion: raw.minimum_version as string } : {}),
    secrets: [
      ...resolved.values(),
      ...(password && !resolved.has(password.name) ? [password] : []),
      ...keyData.filter((key) => !resolved.has(key.name)),
    ],
  };
}

/** Converts a duration (seconds as a number, or "30s" / "2m" / "1h") to seconds. */
/**
 * Where the image builds. Kamal 2: remote is an endpoint string and local a boolean. Kamal 1:
 * remote: {arch, host} and local: {arch, host} (a multiarch build split between the two machines).
 */
function builderPlacement(builder: Raw): { remote?: string; local?: boolean; localHost?: string } {
  const remote = builder.remote as string | { host: string } | undefined;
  const local = builder.local as boolean | { host?: string } | undefined;
  return {
    ...(typeof remote === 'string' ? { remote } : remote ? { remote: remote.host } : {}),
    ...(typeof local === 'boolean' ? { local } : {}),
    ...(typeof local === 'object' && local.host !== undefined ? { localHost: local.host } : {}),
  };
}

/** builder.arch, else Kamal 1's local.arch and remote.arch (in that order). */
function kamal1Arches(builder: Raw, arch: string[]): string[] {
  if (arch.length > 0) return arch;
  const fromKamal1 = [builder.local, builder.remote]
    .map((side) => (typeof side === 'object' && side !== null ? ((side as Raw).arch as string | undefined) : undefined))
    .filter((value): value is string => value !== undefined);
  return [...new Set(fromKamal1)];
}

export function seconds(value: unknown): number {
  if (typeof value === 'number') return value;
  const match = /^([0-9]+(?:\.[0-9]+)?)(s|m|h)?$/.exec(String(value));
  if (!match) throw new TypeError(`not a duration: ${String(value)}`);
  const factor = { s: 1, m: 60, h: 3600 }[(match[2] ?? 's') as 's' | 'm' | 'h'];
  return Number(match[1]) * factor;
}

function normalizeEnv(value: unknown, path: KeyPath, resolveSecret: (name: string, path: KeyPath) => Secret | undefined): EnvSpec {
  const raw = (value ?? {}) as Raw;
  const structured = 'clear' in raw || 'secret' in raw;
  const clear = stringMap(structured ? raw.clear : raw);
  const secret: Record<string, Secret> = {};
  if (structured) {
    ((raw.secret as string[] | undefined) ?? []).forEach((name, index) => {
      const resolvedSecret = resolveSecret(name, [...path, 'secret', index]);
      if (resolvedSecret) secret[name] = resolvedSecret;
    });
  }
  return { clear, secret };
}

function mergeEnv(base: EnvSpec, over: EnvSpec): EnvSpec {
  // A name moves between clear and secret if the role says so: the role's kind wins.
  const clear: Record<string, string> = { ...base.clear };
  const secret: Record<string, Secret> = { ...base.secret };
  for (const name of Object.keys(over.secret)) delete clear[name];
  for (const name of Object.keys(over.clear)) delete secret[name];
  return { clear: { ...clear, ...over.clear }, secret: { ...secret, ...over.secret } };
}

function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries((value ?? {}) as Raw)) out[key] = String(item);
  return out;
}

function dockerOptions(value: unknown): DockerOptions {
  const out: Record<string, string | number | boolean | readonly string[]> = {};
  for (const [key, item] of Object.entries((value ?? {}) as Raw)) out[key] = Array.isArray(item) ? item.map(String) : (item as string | number | boolean);
  return out;
}
