// The hand-made plan fixtures: each is a config, a target version and a snapshot of the hosts.
// Golden tests render their plans (fixtures/plans/<name>.{txt,json}); the property test replays
// them to check convergence.
import type { Config, ProxyConfig, ProxySsl } from '../../../src/config/types.ts';
import { Secret } from '../../../src/secret.ts';
import { deriveDesired } from '../../../src/desired/desired.ts';
import type { DiffOptions } from '../../../src/plan/diff.ts';
import type { ObservedContainer, ReachableHost, Snapshot } from '../../../src/probe/types.ts';
import { makeConfig, makeEnv, makeRole, DATABASE_URL_VALUE } from './config.ts';
import {
  deployedSnapshot,
  emptySnapshot,
  foreignContainer,
  observedFromSpec,
  reachableHost,
  snapshotOf,
  unreachableHost,
} from './snapshot.ts';

/** One hand-made plan fixture. */
export interface Scenario {
  readonly name: string;
  /** What the fixture shows, for the test title. */
  readonly title: string;
  readonly config: Config;
  readonly version: string;
  readonly snapshot: Snapshot;
  readonly options?: DiffOptions;
}

/** Returns a copy of the snapshot with one reachable host changed. */
export function editHost(snapshot: Snapshot, host: string, edit: (host: ReachableHost) => ReachableHost): Snapshot {
  const current = snapshot.hosts[host];
  if (!current || current.status !== 'ok') throw new Error(`editHost: ${host} is not a reachable host in the snapshot`);
  return { ...snapshot, hosts: { ...snapshot.hosts, [host]: edit(current) } };
}

/** Returns a copy of the snapshot with one container (by name) changed on a host. */
export function editContainer(snapshot: Snapshot, host: string, name: string, edit: (c: ObservedContainer) => ObservedContainer): Snapshot {
  return editHost(snapshot, host, (h) => {
    if (!h.containers.some((c) => c.name === name)) throw new Error(`editContainer: no ${name} on ${host}`);
    return { ...h, containers: h.containers.map((c) => (c.name === name ? edit(c) : c)) };
  });
}

const H1 = 'h1.example.com';
const H2 = 'h2.example.com';

function withRoles(base: Config, edit: (roles: Config['roles']) => Config['roles']): Config {
  const roles = edit(base.roles);
  return makeConfig({ ...base, roles, hosts: [...new Set(roles.flatMap((r) => r.hosts))] });
}

/** Every hand-made scenario. */
export function scenarios(): Scenario[] {
  const config = makeConfig();
  const v1 = deployedSnapshot(config, 'v1');
  const list: Scenario[] = [];

  list.push({ name: 'first-deploy', title: 'empty hosts: network, traefik, pull, run, wait, release', config, version: 'v1', snapshot: emptySnapshot(config) });

  list.push({ name: 'no-changes', title: 'deployed hosts that match: no changes', config, version: 'v1', snapshot: v1 });

  list.push({ name: 'new-version', title: 'new version: start-first replace of web, then job', config, version: 'v2', snapshot: v1 });

  const secretChanged = withRoles(config, (roles) =>
    roles.map((r) => makeRole(r.name, { ...r, env: makeEnv({ ...r.env.clear }, { DATABASE_URL: `${DATABASE_URL_VALUE}-rotated` }) })),
  );
  list.push({ name: 'env-secret-change', title: 'same version, a secret value changed: replace, value hidden', config: secretChanged, version: 'v1', snapshot: v1 });

  const clearChanged = withRoles(config, (roles) =>
    roles.map((r) => makeRole(r.name, { ...r, env: makeEnv({ ...r.env.clear, RAILS_LOG_LEVEL: 'debug', FEATURE_X: 'on' }, { DATABASE_URL: DATABASE_URL_VALUE }) })),
  );
  list.push({ name: 'env-clear-change', title: 'same version, clear env changed: replace, old → new shown', config: clearChanged, version: 'v1', snapshot: v1 });

  const cmdChanged = withRoles(config, (roles) => roles.map((r) => (r.name === 'job' ? makeRole('job', { ...r, cmd: 'bin/jobs --queue critical' }) : r)));
  list.push({ name: 'job-cmd-change', title: 'cmd of the job role changed: only job replaced', config: cmdChanged, version: 'v1', snapshot: v1 });

  list.push({
    name: 'drift-exited',
    title: 'the web container exited outside mrsk: start it again',
    config,
    version: 'v1',
    snapshot: editContainer(v1, H1, 'app-web-v1', (c) => {
      const { health: _health, startedAt: _startedAt, ...rest } = c;
      return { ...rest, state: 'exited', exitCode: 1 };
    }),
  });

  list.push({
    name: 'drift-unhealthy',
    title: 'the web container runs but is unhealthy (its cord was removed): restore and verify it',
    config,
    version: 'v1',
    snapshot: editContainer(v1, H1, 'app-web-v1', (c) => ({ ...c, health: 'unhealthy' })),
  });

  // v2 deployed, but v1 of web still runs on h1 (someone started it by hand).
  const v2 = deployedSnapshot(config, 'v2', v1);
  list.push({
    name: 'two-running-versions',
    title: 'two running versions of web: stop the extra one',
    config,
    version: 'v2',
    snapshot: editContainer(v2, H1, 'app-web-v1', (c) => ({ ...c, state: 'running', exitCode: 0 })),
  });

  const webOnly = withRoles(config, (roles) => roles.filter((r) => r.name === 'web'));
  list.push({ name: 'role-removed', title: 'job role removed from the config: stop its container', config: webOnly, version: 'v1', snapshot: v1 });

  const h1Only = withRoles(config, (roles) => roles.map((r) => makeRole(r.name, { ...r, hosts: [H1] })));
  list.push({ name: 'host-removed', title: 'h2 removed from the config: its containers and images destroyed', config: h1Only, version: 'v1', snapshot: v1 });

  list.push({
    name: 'traefik-missing',
    title: 'traefik container gone: run it',
    config,
    version: 'v1',
    snapshot: editHost(v1, H1, (h) => ({ ...h, containers: h.containers.filter((c) => c.name !== 'traefik') })),
  });
  list.push({
    name: 'traefik-stopped',
    title: 'traefik exited: replace stop-first',
    config,
    version: 'v1',
    snapshot: editContainer(v1, H1, 'traefik', (c) => ({ ...c, state: 'exited', exitCode: 0 })),
  });
  const oldTraefik = makeConfig({ ...config, traefik: { ...config.traefik, image: 'traefik:v3.5', args: { 'log.level': 'DEBUG' } } });
  list.push({
    name: 'traefik-changed',
    title: 'traefik runs another image and args: replace stop-first, cause names them',
    config: makeConfig({ ...config, traefik: { ...config.traefik, args: { accesslog: true } } }),
    version: 'v1',
    snapshot: deployedSnapshot(oldTraefik, 'v1'),
  });

  list.push({
    name: 'network-missing',
    title: 'the mrsk network is missing: create it',
    config,
    version: 'v1',
    snapshot: editHost(v1, H2, (h) => ({ ...h, networks: h.networks.filter((n) => n !== 'mrsk') })),
  });

  // Seven versions deployed while retain was 10; now retain is 5.
  const keepTen = makeConfig({ ...config, retainContainers: 10 });
  let history = emptySnapshot(keepTen);
  for (let n = 1; n <= 7; n += 1) history = deployedSnapshot(keepTen, `v${n}`, history);
  list.push({ name: 'retention', title: 'more stopped containers than retain_containers: remove the oldest, then their images', config, version: 'v7', snapshot: history });

  list.push({
    name: 'host-unreachable',
    title: 'h2 unreachable: it is blocked, h1 is still planned',
    config,
    version: 'v2',
    snapshot: { ...v1, hosts: { ...v1.hosts, [H2]: unreachableHost(H2) } },
  });

  list.push({ name: 'filter-hosts', title: '--hosts h2: only h2 is planned', config, version: 'v2', snapshot: v1, options: { hosts: [H2] } });
  list.push({ name: 'filter-roles', title: '--roles job: only the job role is planned', config, version: 'v2', snapshot: v1, options: { roles: ['job'] } });

  const fleet = makeConfig({
    roles: [makeRole('web', { hosts: ['h1.example.com', 'h2.example.com', 'h3.example.com', 'h4.example.com', 'h5.example.com'] })],
    boot: { limit: '40%', wait: 10, parallelRoles: false },
  });
  list.push({ name: 'batches', title: 'boot.limit 40% of 5 hosts: batches of 2, 2, 1', config: fleet, version: 'v2', snapshot: deployedSnapshot(fleet, 'v1') });

  // A failed earlier attempt left a stopped app-web-v2 with another spec.
  const earlier = withRoles(config, (roles) => roles.map((r) => makeRole(r.name, { ...r, env: makeEnv({ ...r.env.clear, RAILS_LOG_LEVEL: 'warn' }, { DATABASE_URL: DATABASE_URL_VALUE }) })));
  const leftover = deriveDesired(earlier, 'v2').hosts[H1]!.containers[0]!;
  list.push({
    name: 'stale-same-name',
    title: 'a stopped container of the target name with another spec: remove it, then run',
    config,
    version: 'v2',
    snapshot: editHost(v1, H1, (h) => ({ ...h, containers: [...h.containers, observedFromSpec(leftover, { state: 'exited', exitCode: 1, createdAt: '2026-11-20T12:30:00.000Z', host: H1 })] })),
  });

  list.push({
    name: 'foreign-containers',
    title: 'containers of other services and destinations are never touched',
    config,
    version: 'v2',
    snapshot: editHost(v1, H1, (h) => ({
      ...h,
      containers: [
        ...h.containers,
        foreignContainer('other-web-v9', { 'mrsk.service': 'other', 'mrsk.role': 'web', 'mrsk.version': 'v9' }),
        foreignContainer('app-web-staging-v1', { 'mrsk.service': 'app', 'mrsk.role': 'web', 'mrsk.destination': 'staging', 'mrsk.version': 'v1' }),
        foreignContainer('postgres', {}, { state: 'exited', exitCode: 0 }),
      ],
    })),
  });

  list.push({
    name: 'traefik-squatter',
    title: 'a container named traefik that mrsk does not manage blocks the host',
    config,
    version: 'v1',
    snapshot: snapshotOf(reachableHost(H1, { containers: [foreignContainer('traefik', {})] }), reachableHost(H2)),
  });

  // A host Kamal 1 runs: its traefik (no mrsk label), app containers with Kamal's labels only.
  // h1: web and job of Kamal's version k1 run, an older k0 is stopped; h2: Kamal deployed v1
  // itself, so its running container holds the name mrsk's v1 needs.
  const kamalHosts = snapshotOf(
    reachableHost(H1, {
      containers: [
        kamalTraefik(),
        kamalContainer('app-web-k1', 'web', { createdAt: '2026-11-19T11:00:00.000Z' }),
        kamalContainer('app-web-k0', 'web', { state: 'exited', exitCode: 0, createdAt: '2026-11-18T11:00:00.000Z' }),
        kamalContainer('app-job-k1', 'job', { createdAt: '2026-11-19T11:00:00.000Z' }),
      ],
    }),
    reachableHost(H2, { containers: [kamalTraefik(), kamalContainer('app-web-v1', 'web', { host: H2 })] }),
  );
  list.push({
    name: 'kamal-takeover',
    title: "hosts Kamal runs: its traefik replaced stop-first, its app containers stopped once mrsk's serve",
    config,
    version: 'v1',
    snapshot: kamalHosts,
  });

  const staging = makeConfig({ ...config, destination: 'staging' });
  list.push({ name: 'destination-first-deploy', title: 'with a destination: names, labels and router carry it', config: staging, version: 'v1', snapshot: emptySnapshot(staging) });

  // asset_path on web, one retained version: v1 serves, v0 is retained; v2 bridges v1's assets, v0 is pruned with its folder.
  const assets = makeConfig({
    ...config,
    retainContainers: 1,
    roles: config.roles.map((r) => (r.name === 'web' ? { ...r, assetPath: '/app/public/assets' } : r)),
  });
  list.push({
    name: 'asset-bridging',
    title: 'asset_path: the new version\'s assets prepared and merged with the serving version\'s before it runs; a pruned version\'s folder removed',
    config: assets,
    version: 'v2',
    snapshot: deployedSnapshot(assets, 'v1', deployedSnapshot(assets, 'v0')),
  });

  // HTTPS under proxy: a certificate from secrets and response_timeout live in the app's Traefik file.
  const https = httpsConfig();
  list.push({
    name: 'https-first-deploy',
    title: "proxy with a certificate from secrets and response_timeout: the app's Traefik file is written before web runs",
    config: https,
    version: 'v1',
    snapshot: emptySnapshot(https),
  });
  const httpsV1 = deployedSnapshot(https, 'v1');
  list.push({
    name: 'https-certificate-changed',
    title: "a new certificate from secrets: only the app's Traefik file is rewritten, no container changes, no value shown",
    config: httpsConfig({ certificate: TLS_CERTIFICATE_B }),
    version: 'v1',
    snapshot: httpsV1,
  });
  list.push({
    name: 'https-response-timeout-changed',
    title: "response_timeout 30 → 60: the Traefik file is rewritten; the labels already name its transport",
    config: httpsConfig({ responseTimeout: 60 }),
    version: 'v1',
    snapshot: httpsV1,
  });
  list.push({
    name: 'https-file-no-longer-needed',
    title: "ssl: true without response_timeout: web is replaced, then the Traefik file is removed once the old one stopped",
    // Let's Encrypt certifies a role on one server only (Kamal's rule, refused at load otherwise)
    config: httpsConfig({ acme: true, responseTimeout: undefined, webHosts: [H1] }),
    version: 'v1',
    snapshot: deployedSnapshot(httpsConfig({ webHosts: [H1] }), 'v1'),
  });

  return list;
}

/** A certificate and key standing in for PEM secrets; tests check that no output carries them. */
export const TLS_CERTIFICATE_A = '-----BEGIN CERTIFICATE-----\nMIIcertA-secret-certificate-a\n-----END CERTIFICATE-----';
export const TLS_CERTIFICATE_B = '-----BEGIN CERTIFICATE-----\nMIIcertB-secret-certificate-b\n-----END CERTIFICATE-----';
export const TLS_PRIVATE_KEY = '-----BEGIN PRIVATE KEY-----\nMIIkey-secret-private-key\n-----END PRIVATE KEY-----';

/**
 * The default app with Kamal 2's proxy on web (host app.test): a certificate from secrets (the
 * secrets TLS_CERTIFICATE and TLS_PRIVATE_KEY) or Let's Encrypt (`acme`), and response_timeout
 * (30 unless given; undefined for none).
 */
export function httpsConfig(options: { certificate?: string; acme?: boolean; responseTimeout?: number | undefined; webHosts?: readonly string[] } = {}): Config {
  const base = makeConfig();
  const ssl: ProxySsl = options.acme
    ? { kind: 'acme' }
    : { kind: 'custom', certificate: new Secret('TLS_CERTIFICATE', options.certificate ?? TLS_CERTIFICATE_A), privateKey: new Secret('TLS_PRIVATE_KEY', TLS_PRIVATE_KEY) };
  const responseTimeout = 'responseTimeout' in options ? options.responseTimeout : 30;
  const proxy: ProxyConfig = {
    hosts: ['app.test'],
    appPort: 3000,
    ssl,
    sslRedirect: true,
    pathPrefixes: [],
    stripPathPrefix: true,
    ...(responseTimeout !== undefined ? { responseTimeout } : {}),
  };
  const roles = base.roles.map((role) => (role.name === 'web' ? { ...role, proxy, ...(options.webHosts ? { hosts: options.webHosts } : {}) } : role));
  const secrets = [...base.secrets, ...(ssl.kind === 'custom' ? [ssl.certificate, ssl.privateKey] : [])];
  return makeConfig({ ...base, roles, hosts: [...new Set(roles.flatMap((role) => role.hosts))], secrets });
}

/** Kamal 1's Traefik as `kamal traefik boot` runs it: named traefik, Kamal's catch-all labels, no mrsk label. */
export function kamalTraefik(options: Parameters<typeof foreignContainer>[2] = {}): ObservedContainer {
  return {
    ...foreignContainer(
      'traefik',
      {
        'traefik.http.routers.catchall.entryPoints': 'http',
        'traefik.http.routers.catchall.rule': 'PathPrefix(`/`)',
        'traefik.http.routers.catchall.service': 'unavailable',
        'traefik.http.routers.catchall.priority': '1',
        'traefik.http.services.unavailable.loadbalancer.server.port': '0',
      },
      options,
    ),
    image: 'traefik:v2.11',
  };
}

/** An app container Kamal 1 made: its service/role labels and, for web, its Traefik labels. */
export function kamalContainer(name: string, role: string, options: Parameters<typeof foreignContainer>[2] = {}): ObservedContainer {
  const router = `app-${role}`;
  const traefik: Record<string, string> =
    role === 'web'
      ? {
          [`traefik.http.services.${router}.loadbalancer.server.scheme`]: 'http',
          [`traefik.http.routers.${router}.rule`]: 'PathPrefix(`/`)',
          [`traefik.http.routers.${router}.priority`]: '2',
          [`traefik.http.middlewares.${router}-retry.retry.attempts`]: '5',
          [`traefik.http.middlewares.${router}-retry.retry.initialinterval`]: '500ms',
          [`traefik.http.routers.${router}.middlewares`]: `${router}-retry@docker`,
        }
      : {};
  const version = name.slice(name.lastIndexOf('-') + 1);
  return {
    ...foreignContainer(name, { service: 'app', role, ...traefik }, options),
    image: `registry.example.com/acme/app:${version}`,
    ...((options.state ?? 'running') === 'running' && role === 'web' ? { health: 'healthy' as const } : {}),
  };
}
