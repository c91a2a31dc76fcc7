// Kamal 2's proxy settings as Traefik labels (exact, golden-style), the per-app file for Traefik,
// and Traefik's own container staying the same whichever app derives it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import type { Config, ProxyConfig, Role } from '../../../src/config/types.ts';
import { deriveDesired } from '../../../src/desired/desired.ts';
import { proxyLabels, renderTraefikFile, routeRule, traefikFileFor, traefikFileHashOf } from '../../../src/desired/proxy-routing.ts';
import { Secret } from '../../../src/secret.ts';
import { makeConfig, makeRole } from '../helpers/config.ts';

const H1 = 'h1.example.com';
const PLAIN: ProxyConfig = { hosts: ['app.test'], appPort: 80, sslRedirect: true, pathPrefixes: [], stripPathPrefix: true };

function routed(proxy: ProxyConfig, overrides: Partial<Config> = {}, role = 'web'): { config: Config; role: Role } {
  const withProxy: Role = { ...makeRole(role, { hosts: [H1], traefik: { enabled: true, labels: {} } }), proxy };
  return { config: makeConfig({ roles: [withProxy], primaryRole: role, ...overrides }), role: withProxy };
}

const labelsOf = (proxy: ProxyConfig, overrides: Partial<Config> = {}) => {
  const { config, role } = routed(proxy, overrides);
  return proxyLabels(config, role, proxy);
};

test('host, no ssl: one router on web for Host(app.test) with the retry middleware; the service on app_port', () => {
  assert.deepEqual(labelsOf(PLAIN), {
    'traefik.enable': 'true',
    'traefik.docker.network': 'mrsk',
    'traefik.http.services.app-web.loadbalancer.server.port': '80',
    'traefik.http.middlewares.app-web-retry.retry.attempts': '5',
    'traefik.http.middlewares.app-web-retry.retry.initialinterval': '500ms',
    'traefik.http.routers.app-web.rule': 'Host(`app.test`)',
    'traefik.http.routers.app-web.priority': '20016',
    'traefik.http.routers.app-web.entrypoints': 'web',
    'traefik.http.routers.app-web.service': 'app-web',
    'traefik.http.routers.app-web.middlewares': 'app-web-retry@docker',
  });
});

test('ssl: true: a websecure router with the letsencrypt resolver, and web redirecting to https', () => {
  assert.deepEqual(labelsOf({ ...PLAIN, hosts: ['app.test', 'www.app.test'], ssl: { kind: 'acme' } }), {
    'traefik.enable': 'true',
    'traefik.docker.network': 'mrsk',
    'traefik.http.services.app-web.loadbalancer.server.port': '80',
    'traefik.http.middlewares.app-web-retry.retry.attempts': '5',
    'traefik.http.middlewares.app-web-retry.retry.initialinterval': '500ms',
    'traefik.http.routers.app-web-secure.rule': 'Host(`app.test`) || Host(`www.app.test`)',
    'traefik.http.routers.app-web-secure.priority': '20040',
    'traefik.http.routers.app-web-secure.entrypoints': 'websecure',
    'traefik.http.routers.app-web-secure.service': 'app-web',
    'traefik.http.routers.app-web-secure.middlewares': 'app-web-retry@docker',
    'traefik.http.routers.app-web-secure.tls': 'true',
    'traefik.http.routers.app-web-secure.tls.certresolver': 'letsencrypt',
    'traefik.http.middlewares.app-web-redirect.redirectscheme.scheme': 'https',
    'traefik.http.middlewares.app-web-redirect.redirectscheme.permanent': 'true',
    'traefik.http.routers.app-web.rule': 'Host(`app.test`) || Host(`www.app.test`)',
    'traefik.http.routers.app-web.priority': '20040',
    'traefik.http.routers.app-web.entrypoints': 'web',
    'traefik.http.routers.app-web.service': 'app-web',
    'traefik.http.routers.app-web.middlewares': 'app-web-redirect@docker',
  });
});

test('a certificate from secrets and ssl_redirect: false: tls without a resolver, and web serves the app too', () => {
  const ssl = { kind: 'custom' as const, certificate: new Secret('CERT', 'c'), privateKey: new Secret('KEY', 'k') };
  const labels = labelsOf({ ...PLAIN, ssl, sslRedirect: false });
  assert.equal(labels['traefik.http.routers.app-web-secure.tls'], 'true');
  assert.equal(labels['traefik.http.routers.app-web-secure.tls.certresolver'], undefined);
  assert.equal(labels['traefik.http.routers.app-web.middlewares'], 'app-web-retry@docker');
  assert.equal(Object.keys(labels).some((key) => key.includes('redirect')), false);
  assert.ok(!JSON.stringify(labels).includes('"c"') && !JSON.stringify(labels).includes('"k"'));
});

test('a redirect to a non-standard HTTPS port (proxy.run.https_port) names that port', () => {
  const labels = labelsOf({ ...PLAIN, ssl: { kind: 'acme' } }, { traefik: { image: 'traefik:v3.6', args: {}, labels: {}, options: {}, hostPort: 8080, apiPort: 8081, httpsPort: 8443 } });
  assert.equal(labels['traefik.http.middlewares.app-web-redirect.redirectscheme.port'], '8443');
});

test('path prefixes with strip, buffering and response_timeout: rule, middleware chain in order, transport from the file', () => {
  const labels = labelsOf({ ...PLAIN, pathPrefixes: ['/api', '/v2'], responseTimeout: 20, buffering: { maxRequestBody: 40_000_000, maxResponseBody: 0, memory: 2_000_000 } });
  assert.equal(labels['traefik.http.routers.app-web.rule'], '(Host(`app.test`)) && (Path(`/api`) || PathPrefix(`/api/`) || Path(`/v2`) || PathPrefix(`/v2/`))');
  assert.equal(labels['traefik.http.routers.app-web.middlewares'], 'app-web-retry@docker,app-web-buffering@docker,app-web-strip@docker');
  assert.equal(labels['traefik.http.middlewares.app-web-strip.stripprefix.prefixes'], '/api,/v2');
  assert.deepEqual(
    Object.fromEntries(Object.entries(labels).filter(([key]) => key.includes('buffering.'))),
    {
      'traefik.http.middlewares.app-web-buffering.buffering.maxRequestBodyBytes': '40000000',
      'traefik.http.middlewares.app-web-buffering.buffering.memRequestBodyBytes': '2000000',
      'traefik.http.middlewares.app-web-buffering.buffering.maxResponseBodyBytes': '0',
      'traefik.http.middlewares.app-web-buffering.buffering.memResponseBodyBytes': '2000000',
    },
  );
  assert.equal(labels['traefik.http.services.app-web.loadbalancer.serverstransport'], 'app-web@file');
  const kept = labelsOf({ ...PLAIN, pathPrefixes: ['/api'], stripPathPrefix: false });
  assert.equal(kept['traefik.http.routers.app-web.middlewares'], 'app-web-retry@docker');
});

test('rules and priorities: a named host outranks any host-less route, a longer rule the shorter one', () => {
  const anyHost = { ...PLAIN, hosts: [] };
  assert.equal(routeRule(anyHost), 'PathPrefix(`/`)');
  assert.equal(routeRule({ ...anyHost, pathPrefixes: ['/api'] }), 'Path(`/api`) || PathPrefix(`/api/`)');
  const priority = (proxy: ProxyConfig) => Number(labelsOf(proxy)['traefik.http.routers.app-web.priority']);
  assert.equal(priority(anyHost), 10015);
  assert.ok(priority({ ...PLAIN, hosts: ['a.b'] }) > priority({ ...anyHost, pathPrefixes: ['/a/very/long/prefix/here'] }));
  assert.ok(priority({ ...PLAIN, pathPrefixes: ['/api'] }) > priority(PLAIN));
});

test('two apps on one host: no router, middleware or service name in common', () => {
  const one = labelsOf({ ...PLAIN, ssl: { kind: 'acme' }, pathPrefixes: ['/x'], buffering: { maxRequestBody: 1, maxResponseBody: 0, memory: 1 } });
  const { role } = routed(PLAIN);
  const other = makeConfig({ service: 'blog', roles: [role], primaryRole: 'web' });
  const two = proxyLabels(other, role, { ...PLAIN, hosts: ['blog.test'], ssl: { kind: 'acme' }, pathPrefixes: ['/x'], buffering: { maxRequestBody: 1, maxResponseBody: 0, memory: 1 } });
  const names = (labels: Record<string, string>) => new Set(Object.keys(labels).map((key) => /^traefik\.http\.(routers|middlewares|services)\.([^.]+)\./.exec(key)?.[2]).filter(Boolean));
  const shared = [...names(one)].filter((name) => names(two).has(name));
  assert.deepEqual(shared, []);
});

test("Traefik's own container is the same for an app with proxy, one with ssl and one without proxy", () => {
  const withSsl = routed({ ...PLAIN, ssl: { kind: 'acme' }, responseTimeout: 5 }).config;
  const plain = routed(PLAIN).config;
  const noProxy = makeConfig({ roles: [makeRole('web', { hosts: [H1] })] });
  const hashes = [withSsl, plain, noProxy].map((config) => deriveDesired(config, 'v1').hosts[H1]!.traefik!.specHash);
  assert.equal(new Set(hashes).size, 1, hashes.join(' '));
  const email = makeConfig({ roles: [makeRole('web', { hosts: [H1] })], traefik: { image: 'traefik:v3.6', args: {}, labels: {}, options: {}, hostPort: 80, apiPort: 8080, acmeEmail: 'ops@example.com' } });
  assert.ok(deriveDesired(email, 'v1').hosts[H1]!.traefik!.args.includes('--certificatesresolvers.letsencrypt.acme.email=ops@example.com'));
});

test('the per-app file: none without response_timeout or a certificate; else transports and certificates, hashed without the secrets', () => {
  assert.equal(deriveDesired(routed(PLAIN).config, 'v1').hosts[H1]!.traefikFile, undefined);
  const cert = new Secret('CERT_PEM', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
  const key = new Secret('KEY_PEM', '-----BEGIN PRIVATE KEY-----\nBBBB\n-----END PRIVATE KEY-----\n');
  const { config } = routed({ ...PLAIN, responseTimeout: 20, ssl: { kind: 'custom', certificate: cert, privateKey: key } });
  const state = deriveDesired(config, 'v1');
  const file = state.hosts[H1]!.traefikFile!;
  assert.equal(file.name, 'app.yml');
  assert.deepEqual(file.transports, { 'app-web': { responseHeaderTimeout: 20 } });
  assert.match(file.hash, /^v1:[0-9a-f]{64}$/);
  assert.ok(!JSON.stringify(state).includes('AAAA') && !JSON.stringify(state).includes('BBBB'), 'no secret in the desired state as JSON');
  const text = renderTraefikFile(file);
  assert.equal(traefikFileHashOf(text.split('\n')[0]!), file.hash);
  assert.deepEqual(parse(text), {
    http: { serversTransports: { 'app-web': { forwardingTimeouts: { responseHeaderTimeout: '20s' } } } },
    tls: { certificates: [{ certFile: cert.reveal(), keyFile: key.reveal() }] },
  });
  // Another key value gives another hash (the file on the host must be rewritten).
  const changed = routed({ ...PLAIN, responseTimeout: 20, ssl: { kind: 'custom', certificate: cert, privateKey: new Secret('KEY_PEM', 'other') } }).config;
  assert.notEqual(deriveDesired(changed, 'v1').hosts[H1]!.traefikFile!.hash, file.hash);
  // A destination gets its own file name.
  assert.equal(traefikFileFor(makeConfig({ ...config, destination: 'staging' }), config.roles)!.name, 'app-staging.yml');
});

test('the health check of a proxied role follows its app_port and proxy path (set by the loader in role.healthcheck)', () => {
  const { config, role } = routed({ ...PLAIN, appPort: 8080 });
  const withCheck: Role = { ...role, healthcheck: { path: '/health', port: 8080, interval: 2, timeout: 3, maxAttempts: 3 } };
  const spec = deriveDesired({ ...config, roles: [withCheck] }, 'v1').hosts[H1]!.containers[0]!;
  assert.match(spec.healthcheck!.cmd, /http:\/\/127\.0\.0\.1:8080\/health/);
  assert.equal(spec.healthcheck!.interval, 2);
  assert.equal(spec.labels['traefik.http.services.app-web.loadbalancer.server.port'], '8080');
});
