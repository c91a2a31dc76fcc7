// Turns the validated, defaults-filled config object (snake_case, as in the file) into the typed
// Config every other module reads: roles with hosts, effective env per role, secrets resolved,
// durations in seconds. Problems the schema cannot express (an unknown primary role, a missing
// secret) are reported through `report`, positioned by the caller.
import { Secret } from '../secret.ts';
import type { AccessoryConfig, Config, DockerOptions, EnvSpec, HealthcheckConfig, LoggingConfig, Role, SshConfig, TraefikArgValue } from './types.ts';
import type { KeyPath } from './source.ts';
import { lookupSecret, missingSecretMessage, type SecretSource } from './secrets.ts';
import { shellListForm, splitShellWords } from './shell-words.ts';
import { normalizeAccessories } from './accessories.ts';
import { proxyConflicts, proxyEnabled, proxyHealthcheck, roleProxy, type ProxyContext } from './proxy.ts';
import { hostRuntimes } from './runtime.ts';

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
  // Keyed by secret name and the variable that gets it (env.secret's NAME:SECRET_NAME alias).
  const resolved = new Map<string, Secret>();
  const resolveSecret = (name: string, path: KeyPath, as: string = name): Secret | undefined => {
    const key = as === name ? name : `${as}:${name}`;
    const known = resolved.get(key);
    if (known) return known;
    const secret = lookupSecret(name, context.secretSources, as);
    if (!secret) report(path, missingSecretMessage(name, context.secretSources));
    else resolved.set(key, secret);
    return secret;
  };

  const baseEnv = normalizeEnv(raw.env, ['env'], resolveSecret);
  const baseLabels = stringMap(raw.labels);
  const envTags: Record<string, EnvSpec> = {};
  const rawEnv = (raw.env ?? {}) as Raw;
  if (isStructuredEnv(rawEnv) && rawEnv.tags !== undefined) {
    for (const [tag, value] of Object.entries(rawEnv.tags as Raw)) envTags[tag] = normalizeEnv(value, ['env', 'tags', tag], resolveSecret);
  }
  const primaryRole = raw.primary_role as string;
  const baseHealthcheck = healthcheckConfig(raw.healthcheck as Raw);
  const baseLogging = raw.logging === undefined ? undefined : loggingConfig(raw.logging as Raw);
  const topStop = raw.stop_timeout ?? raw.stop_wait_time;
  const allowEmptyRoles = raw.allow_empty_roles === true;
  // Kamal 2's proxy: one message per place, though every routed role reads the top level's.
  const proxyReported = new Set<string>();
  const proxyContext: ProxyContext = {
    report: (path, message) => {
      const key = `${path.join('\u0000')}\u0001${message}`;
      if (!proxyReported.has(key)) report(path, message);
      proxyReported.add(key);
    },
    resolveSecret: (name, path) => resolveSecret(name, path),
    seconds,
  };
  const topProxy = raw.proxy as Raw | undefined;

  // servers: a list means one role, web.
  const serverEntries: [string, unknown][] = Array.isArray(raw.servers) ? [['web', raw.servers]] : Object.entries(raw.servers as Raw);
  const allRoles: Role[] = serverEntries.map(([name, value]) => {
    const path: KeyPath = Array.isArray(raw.servers) ? ['servers'] : ['servers', name];
    const spec: Raw = Array.isArray(value) ? { hosts: value } : (value as Raw);
    const hostsPath: KeyPath = Array.isArray(value) ? path : [...path, 'hosts'];
    const hostTags: Record<string, string[]> = {};
    const hosts = ((spec.hosts ?? []) as unknown[]).map((entry) => {
      if (typeof entry === 'string') return entry;
      // `- 10.0.0.1: tag` or `- 10.0.0.1: [a, b]`: a one-key map.
      const [host, tags] = Object.entries(entry as Raw)[0]!;
      hostTags[host] = Array.isArray(tags) ? tags.map(String) : [String(tags)];
      return host;
    });
    const duplicate = hosts.findIndex((host, index) => hosts.indexOf(host) !== index);
    if (duplicate >= 0) report([...hostsPath, duplicate], `host ${hosts[duplicate]} is listed twice in role ${name}`);
    if (hosts.length === 0 && !allowEmptyRoles) report(hostsPath, `role ${name} has no hosts (set allow_empty_roles: true to keep an empty role)`);
    const roleEnv = spec.env === undefined ? undefined : normalizeEnv(spec.env, [...path, 'env'], resolveSecret);
    const traefikSetting = spec.traefik as boolean | { enabled?: boolean; labels?: Raw } | undefined;
    // Kamal's rule: the primary role is the proxied one unless a role says otherwise.
    const traefikEnabled = traefikSetting === undefined ? name === primaryRole : typeof traefikSetting === 'boolean' ? traefikSetting : (traefikSetting.enabled ?? true);
    // Kamal 2 says it with servers.<role>.proxy: true, false or settings.
    if (spec.proxy !== undefined && traefikSetting !== undefined) report([...path, 'proxy'], 'give proxy or traefik for a role, not both (proxy is Kamal 2\'s form of traefik\'s enabled)');
    const enabled = proxyEnabled(spec.proxy) ?? traefikEnabled;
    const proxy = enabled ? roleProxy(topProxy, spec.proxy, path, proxyContext) : undefined;
    const ownHealthcheck = spec.healthcheck !== undefined ? healthcheckConfig({ ...(raw.healthcheck as Raw), ...(spec.healthcheck as Raw) }) : undefined;
    const healthcheck = proxy ? proxyHealthcheck(ownHealthcheck ?? baseHealthcheck, topProxy, spec.proxy, proxy, seconds) : ownHealthcheck;
    const cmd = spec.cmd === undefined ? undefined : commandWords(spec.cmd as string | string[], [...path, 'cmd'], report);
    const stop = spec.stop_timeout ?? spec.stop_wait_time ?? topStop;
    const assetPath = (spec.asset_path ?? raw.asset_path) as string | undefined;
    const logging = spec.logging === undefined ? baseLogging : mergeLogging(baseLogging, loggingConfig(spec.logging as Raw));
    const role: Role = {
      name,
      hosts,
      ...(cmd !== undefined ? { cmd } : {}),
      env: roleEnv ? mergeEnv(baseEnv, roleEnv) : baseEnv,
      labels: { ...baseLabels, ...stringMap(spec.labels) },
      options: dockerOptions(spec.options),
      traefik: { enabled, labels: typeof traefikSetting === 'object' ? stringMap(traefikSetting.labels) : {} },
      ...(Object.keys(hostTags).length > 0 ? { hostTags } : {}),
      ...(logging !== undefined ? { logging } : {}),
      ...(stop !== undefined ? { stopTimeout: seconds(stop) } : {}),
      ...(healthcheck !== undefined ? { healthcheck } : {}),
      ...(assetPath !== undefined ? { assetPath } : {}),
      ...(proxy !== undefined ? { proxy } : {}),
    };
    return role;
  });
  // allow_empty_roles: an empty role stays in the file's meaning but runs nowhere.
  const roles = allRoles.filter((role) => role.hosts.length > 0);
  if (roles.length === 0 && allRoles.length > 0 && allowEmptyRoles) report(['servers'], 'every role is empty: at least one role needs a host');

  const primary = roles.find((role) => role.name === primaryRole);
  if (!primary) {
    const message = `primary role "${primaryRole}" is not one of the roles (${roles.map((r) => r.name).join(', ')}); set primary_role`;
    report(context.primaryRoleExplicit ? ['primary_role'] : ['servers'], message);
  }
  const orderedRoles = primary ? [primary, ...roles.filter((role) => role !== primary)] : roles;
  proxyConflicts(roles, (name) => (Array.isArray(raw.servers) ? ['servers'] : ['servers', name]), report);
  // Hosts in role order with the primary role first, so the primary host leads.
  const hosts = [...new Set(orderedRoles.flatMap((role) => role.hosts))];

  const registry = raw.registry as Raw | undefined;
  let username: string | undefined;
  let usernameSecret: Secret | undefined;
  if (Array.isArray(registry?.username)) {
    // Kamal's secret-list form; a user name is not a password, but it stays out of output like one.
    usernameSecret = resolveSecret(registry.username[0] as string, ['registry', 'username', 0]);
    username = usernameSecret?.reveal();
  } else if (registry?.username !== undefined) username = registry.username as string;
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

  const traefikSettings = raw.traefik as Raw;
  const runSettings = ((topProxy as Raw | undefined)?.run ?? {}) as Raw;
  const accessories: AccessoryConfig[] = normalizeAccessories(raw.accessories as Raw | undefined, {
    root: context.root,
    roles,
    traefik: {
      http: Number(runSettings.http_port ?? traefikSettings.host_port),
      https: Number(runSettings.https_port ?? 443), // Traefik's websecure entrypoint default
      api: Number(traefikSettings.api_port),
      publish: (runSettings.publish ?? traefikSettings.publish) !== false,
    },
    report,
    env: (value, path) => normalizeEnv(value, path, resolveSecret),
    resolveSecret: (name, path) => resolveSecret(name, path),
    stringMap,
    dockerOptions,
  });

  // One runtime per host, accessory-only hosts included.
  const runtimes = hostRuntimes(raw, roles, [...hosts, ...accessories.flatMap((accessory) => accessory.hosts)], report);

  const traefikRaw = raw.traefik as Raw;
  const traefikEnv = traefikRaw.env === undefined ? undefined : normalizeEnv(traefikRaw.env, ['traefik', 'env'], resolveSecret);
  // Traefik runs without an env file: a secret there would have to go on its command line.
  if (traefikEnv && Object.keys(traefikEnv.secret).length > 0) report(['traefik', 'env', 'secret'], 'secrets in traefik.env are not supported by mrsk yet (they would have to be on docker run\'s command line); give Traefik its settings through clear values or traefik.args');
  const image = resolveImage(raw, registry?.server as string | undefined);
  if (!image) report([], 'missing required key "image" (it may be left out only with a local registry, registry.server: localhost:PORT, where it is the service name)');

  if (failed || !primary || !image) return undefined;
  const traefik = raw.traefik as Raw;
  // proxy.run describes the shared Traefik (Kamal 2's proxy container): its ports win over traefik's.
  const proxyRun = (topProxy?.run ?? {}) as Raw;
  const boot = raw.boot as Raw;
  const arch = builder.arch as string | string[];
  return {
    file: context.file,
    root: context.root,
    ...(context.destination ? { destination: context.destination } : {}),
    service: raw.service as string,
    image: image.repository,
    imageRule: image.rule,
    registry: {
      ...(registry?.server !== undefined ? { server: registry.server as string } : {}),
      ...(username !== undefined ? { username } : {}),
      ...(usernameSecret ? { usernameSecret: usernameSecret.name } : {}),
      ...(password ? { password } : {}),
    },
    roles: orderedRoles,
    primaryRole,
    primaryHost: primary.hosts[0]!,
    hosts,
    runtime: runtimes.runtime,
    hostRuntimes: runtimes.hostRuntimes,
    env: baseEnv,
    ...(Object.keys(envTags).length > 0 ? { envTags } : {}),
    healthcheck: baseHealthcheck,
    traefik: {
      image: traefik.image as string,
      args: traefikArgValues(traefik.args as Raw),
      labels: stringMap(traefik.labels),
      options: dockerOptions(traefik.options),
      hostPort: Number(proxyRun.http_port ?? traefik.host_port),
      apiPort: Number(traefik.api_port),
      ...(proxyRun.https_port !== undefined ? { httpsPort: Number(proxyRun.https_port) } : {}),
      ...(topProxy?.acme_email !== undefined ? { acmeEmail: topProxy.acme_email as string } : {}),
      ...(traefikEnv !== undefined ? { env: traefikEnv } : {}),
      publish: (proxyRun.publish ?? traefik.publish) as boolean,
    },
    ssh: {
      user: ssh.user as string,
      port: Number(ssh.port),
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
    ...(raw.hooks_path !== undefined ? { hooksPath: raw.hooks_path as string } : {}),
    ...(raw.asset_path !== undefined ? { assetPath: raw.asset_path as string } : {}),
    volumes: [...(raw.volumes as string[])],
    labels: baseLabels,
    logging: baseLogging ?? { options: {} },
    retainContainers: raw.retain_containers as number,
    readinessDelay: seconds(raw.readiness_delay),
    deployTimeout: seconds(raw.deploy_timeout),
    drainTimeout: seconds(raw.drain_timeout),
    ...(topStop !== undefined ? { stopTimeout: seconds(topStop) } : {}),
    ...(allowEmptyRoles ? { allowEmptyRoles } : {}),
    boot: { ...(boot.limit !== undefined ? { limit: boot.limit as number | string } : {}), wait: seconds(boot.wait), parallelRoles: boot.parallel_roles === true },
    accessories,
    aliases: { ...(raw.aliases as Record<string, string>) },
    ...(raw.minimum_version !== undefined ? { minimumVersion: raw.minimum_version as string } : {}),
    secrets: [
      ...resolved.values(),
      ...(password && !resolved.has(password.name) ? [password] : []),
      ...(usernameSecret && !resolved.has(usernameSecret.name) ? [usernameSecret] : []),
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

function isStructuredEnv(raw: Raw): boolean {
  return 'clear' in raw || 'secret' in raw || 'tags' in raw;
}

function normalizeEnv(value: unknown, path: KeyPath, resolveSecret: (name: string, path: KeyPath, as?: string) => Secret | undefined): EnvSpec {
  const raw = (value ?? {}) as Raw;
  const structured = isStructuredEnv(raw);
  const clear = stringMap(structured ? raw.clear : raw);
  const secret: Record<string, Secret> = {};
  if (structured) {
    ((raw.secret as string[] | undefined) ?? []).forEach((entry, index) => {
      // NAME:SECRET_NAME (Kamal's alias): the container's NAME gets the value of secret SECRET_NAME.
      const [name, source] = entry.includes(':') ? (entry.split(':') as [string, string]) : [entry, entry];
      const resolvedSecret = resolveSecret(source, [...path, 'secret', index], name);
      if (resolvedSecret) secret[name] = resolvedSecret;
    });
  }
  return { clear, secret };
}

/** Merges env specs in order, later over earlier (a role over the top level, host tags over the role). */
export function mergeEnvs(first: EnvSpec, ...rest: readonly EnvSpec[]): EnvSpec {
  return rest.reduce((base, over) => mergeEnv(base, over), first);
}

/** How the image reference was formed: the repository every command uses, and the rule in words. */
export interface ResolvedImage {
  readonly repository: string;
  readonly rule: string;
}

/**
 * The image repository by Kamal's rule: registry.server + '/' + image. An image that already
 * starts with `registry.server/` (how mrsk's first files were written) is used as written, not
 * prefixed twice; without registry.server the image is used as written (Docker Hub unless it names
 * a registry); with a local registry (localhost:PORT) the image may be left out and is the service
 * name, lower-cased. Undefined when the image is missing and the registry is not local.
 */
export function resolveImage(raw: Raw, server: string | undefined): ResolvedImage | undefined {
  const local = server !== undefined && /^localhost(:|$)/.test(server);
  let image = raw.image as string | undefined;
  let defaulted = false;
  if (image === undefined) {
    if (!local) return undefined;
    image = String(raw.service).toLowerCase();
    defaulted = true;
  }
  const from = defaulted ? `image (the service name "${image}", as with a local registry)` : `image "${image}"`;
  if (server === undefined) return { repository: image, rule: `${from} as written: no registry.server` };
  if (image.startsWith(`${server}/`)) return { repository: image, rule: `${from} as written: it already starts with registry.server "${server}/"` };
  return { repository: `${server}/${image}`, rule: `registry.server "${server}" + "/" + ${from} (Kamal's rule)` };
}

/** A cmd as argv: a list as written; a string split into words as sh would, shell syntax refused. */
function commandWords(cmd: string | string[], path: KeyPath, report: (path: KeyPath, message: string) => void): readonly string[] | undefined {
  if (Array.isArray(cmd)) return [...cmd];
  const split = splitShellWords(cmd);
  if (split.ok) return split.words;
  report(
    path,
    `this cmd needs a shell (${split.reason}): a string cmd runs as argv words without a shell, so the app is PID 1 and gets SIGTERM; to keep the shell, write: cmd: ${shellListForm(cmd)}`,
  );
  return undefined;
}

function healthcheckConfig(raw: Raw): HealthcheckConfig {
  return {
    path: raw.path as string,
    port: Number(raw.port),
    interval: seconds(raw.interval),
    timeout: seconds(raw.timeout),
    maxAttempts: raw.max_attempts as number,
    ...(raw.cmd !== undefined ? { cmd: raw.cmd as string } : {}),
  };
}

function loggingConfig(raw: Raw): LoggingConfig {
  return { ...(raw.driver !== undefined ? { driver: raw.driver as string } : {}), options: stringMap(raw.options) };
}

/** A role's logging over the top level: the role's driver wins, options merge key by key (Kamal's merge). */
function mergeLogging(base: LoggingConfig | undefined, over: LoggingConfig): LoggingConfig {
  const driver = over.driver ?? base?.driver;
  return { ...(driver !== undefined ? { driver } : {}), options: { ...(base?.options ?? {}), ...over.options } };
}

function traefikArgValues(raw: Raw | undefined): Record<string, TraefikArgValue> {
  const out: Record<string, TraefikArgValue> = {};
  for (const [key, value] of Object.entries(raw ?? {})) out[key] = Array.isArray(value) ? [...(value as (string | number | boolean)[])] : (value as string | number | boolean);
  return out;
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
