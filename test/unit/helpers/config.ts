// Test builder for normalized Config objects, so desired-state and plan tests do not depend on
// the YAML loader. Defaults mirror a realistic two-role app: `web` (proxied) on two hosts and a
// `job` worker on the first one.
import type { Config, EnvSpec, Role } from '../../../src/config/types.ts';
import { Secret } from '../../../src/secret.ts';

/** The secret value used by default; tests assert it never shows up in any output. */
export const DATABASE_URL_VALUE = 'postgres://app:hunter2-very-secret@db.internal/app';

/** Recursively freezes a plain object graph (Secrets are class instances and frozen as objects). */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value as Record<string, unknown>)) deepFreeze(member);
  }
  return value;
}

/** An EnvSpec from clear values and secret values (wrapped in Secret). */
export function makeEnv(clear: Record<string, string> = {}, secret: Record<string, string> = {}): EnvSpec {
  return {
    clear,
    secret: Object.fromEntries(Object.entries(secret).map(([name, value]) => [name, new Secret(name, value)])),
  };
}

const baseEnv = (): EnvSpec => makeEnv({ RAILS_ENV: 'production', RAILS_LOG_LEVEL: 'info' }, { DATABASE_URL: DATABASE_URL_VALUE });

/** A role with defaults: base env, no labels or options; proxied when named `web` unless told. */
export function makeRole(name: string, overrides: Partial<Role> = {}): Role {
  return {
    name,
    hosts: overrides.hosts ?? ['h1.example.com'],
    ...(overrides.cmd !== undefined ? { cmd: overrides.cmd } : {}),
    env: overrides.env ?? baseEnv(),
    labels: overrides.labels ?? {},
    options: overrides.options ?? {},
    traefik: overrides.traefik ?? { enabled: name === 'web', labels: {} },
  };
}

/**
 * A frozen Config with realistic defaults; `overrides` replace top-level keys. hosts, primaryRole,
 * primaryHost and secrets are derived from the roles unless given.
 */
export function makeConfig(overrides: Partial<Config> = {}): Config {
  const roles = overrides.roles ?? [
    makeRole('web', { hosts: ['h1.example.com', 'h2.example.com'] }),
    makeRole('job', { hosts: ['h1.example.com'], cmd: 'bin/jobs' }),
  ];
  const hosts = [...new Set(roles.flatMap((role) => role.hosts))];
  const primaryRole = overrides.primaryRole ?? roles[0]?.name ?? 'web';
  const primary = roles.find((role) => role.name === primaryRole);
  const secrets = roles.flatMap((role) => Object.values(role.env.secret));
  const config: Config = {
    file: 'config/deploy.yml',
    root: '/srv/app',
    service: 'app',
    image: 'registry.example.com/acme/app',
    registry: { server: 'registry.example.com', username: 'deploy' },
    roles,
    primaryRole,
    primaryHost: primary?.hosts[0] ?? hosts[0] ?? 'h1.example.com',
    hosts,
    runtime: overrides.runtime ?? 'docker',
    // Every host of the config (accessory hosts too) asks the top level's runtime unless told.
    hostRuntimes: Object.fromEntries([...hosts, ...(overrides.accessories ?? []).flatMap((accessory) => accessory.hosts)].map((host) => [host, overrides.runtime ?? 'docker'])),
    env: baseEnv(),
    healthcheck: { path: '/up', port: 3000, interval: 1, timeout: 5, maxAttempts: 3 },
    traefik: { image: 'traefik:v3.6', args: {}, labels: {}, options: {}, hostPort: 80, apiPort: 8080 },
    ssh: {
      user: 'deploy',
      port: 22,
      keys: [],
      keyData: [],
      strictHostKeyChecking: 'accept-new',
      maxConcurrent: 30,
      connectTimeout: 10,
      commandTimeout: 300,
      keepaliveInterval: 15,
    },
    builder: { multiarch: false, arch: ['amd64'], context: '.', dockerfile: 'Dockerfile', args: {}, secrets: {} },
    volumes: [],
    labels: {},
    logging: { options: {} },
    retainContainers: 5,
    readinessDelay: 7,
    deployTimeout: 30,
    drainTimeout: 30,
    boot: { wait: 0, parallelRoles: false },
    accessories: [],
    aliases: {},
    secrets,
    ...overrides,
  };
  return deepFreeze(config);
}
