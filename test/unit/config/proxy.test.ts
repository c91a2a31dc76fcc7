// Kamal 2's `proxy:` keys: what each one loads as (Kamal's defaults and merge), and the exact
// message (exit 78, file:line:col key.path) for each refusal. Certificates are made by the real
// openssl for each run; a broken or mismatched one is refused at load without its value in the message.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certificateProblem } from '../../../src/config/proxy.ts';
import { presentConfig } from '../../../src/config/present.ts';
import { Secret } from '../../../src/secret.ts';
import { loadYaml, refusalOf } from '../helpers/load-yaml.ts';

const BASE = 'service: app\nimage: acme/app\n';

const load = loadYaml;
const refusal = refusalOf;

/** A self-signed certificate and its key from openssl (a missing openssl fails the test, it is part of the set-up). */
async function certificate(t: TestContext, host = 'app.test', days = 3650): Promise<{ cert: string; key: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'mrsk-cert-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', String(days), '-subj', `/CN=${host}`, '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { encoding: 'utf8' });
  assert.equal(made.status, 0, `openssl failed: ${made.error?.message ?? made.stderr}`);
  return { cert: await readFile(join(dir, 'cert.pem'), 'utf8'), key: await readFile(join(dir, 'key.pem'), 'utf8') };
}

test('a Kamal 2 proxy with host and ssl: the primary role routes app.test on port 80 with Let\'s Encrypt and a redirect; /up on port 80', async (t) => {
  const config = await load(t, `${BASE}servers: [10.0.0.1]\nproxy:\n  host: App.Test\n  ssl: true\n`);
  const web = config.roles[0]!;
  assert.deepEqual(web.proxy, { hosts: ['app.test'], appPort: 80, ssl: { kind: 'acme' }, sslRedirect: true, pathPrefixes: [], stripPathPrefix: true });
  assert.deepEqual(web.healthcheck, { path: '/up', port: 80, interval: 1, timeout: 5, maxAttempts: 3 });
  assert.equal(config.traefik.hostPort, 80);
  assert.equal(config.traefik.httpsPort, undefined);
  assert.equal(config.traefik.acmeEmail, undefined);
});

test('without proxy: nothing changes (no proxy settings, the health check keeps healthcheck.port 3000)', async (t) => {
  const config = await load(t, `${BASE}servers: [10.0.0.1]\n`);
  assert.equal(config.roles[0]!.proxy, undefined);
  assert.equal(config.roles[0]!.healthcheck, undefined);
  assert.equal(config.healthcheck.port, 3000);
});

test('a role\'s proxy merges over the top level key by key; proxy: true routes another role; proxy: false stops the primary', async (t) => {
  const config = await load(
    t,
    `${BASE}servers:\n  web:\n    hosts: [10.0.0.1]\n    proxy:\n      response_timeout: 20s\n      healthcheck: {interval: 3}\n  api:\n    hosts: [10.0.0.2]\n    proxy: true\n  admin:\n    hosts: [10.0.0.3]\n    proxy:\n      host: admin.test\n` +
      'proxy:\n  host: app.test\n  app_port: 3000\n  healthcheck: {path: /health, timeout: 2}\n',
  );
  const [web, api, admin] = config.roles;
  assert.deepEqual(web!.proxy, { hosts: ['app.test'], appPort: 3000, sslRedirect: true, responseTimeout: 20, pathPrefixes: [], stripPathPrefix: true });
  assert.deepEqual(web!.healthcheck, { path: '/health', port: 3000, interval: 3, timeout: 2, maxAttempts: 3 });
  assert.equal(api!.traefik.enabled, true);
  assert.deepEqual(api!.proxy?.hosts, ['app.test']);
  assert.deepEqual(api!.healthcheck, { path: '/health', port: 3000, interval: 1, timeout: 2, maxAttempts: 3 });
  assert.deepEqual(admin!.proxy?.hosts, ['admin.test']);
  const off = await load(t, `${BASE}servers:\n  web:\n    hosts: [10.0.0.1]\n    proxy: false\nproxy:\n  host: app.test\n`);
  assert.equal(off.roles[0]!.traefik.enabled, false);
  assert.equal(off.roles[0]!.proxy, undefined);
});

test('host takes Kamal\'s comma list (trimmed, lower-cased, once each); hosts a list; path prefixes lose a trailing slash; strip_path_prefix false keeps them', async (t) => {
  const one = await load(t, `${BASE}servers: [10.0.0.1]\nproxy:\n  host: "a.test, B.test,a.test"\n  path_prefix: /api/\n`);
  assert.deepEqual(one.roles[0]!.proxy?.hosts, ['a.test', 'b.test']);
  assert.deepEqual(one.roles[0]!.proxy?.pathPrefixes, ['/api']);
  assert.equal(one.roles[0]!.proxy?.stripPathPrefix, true);
  const two = await load(t, `${BASE}servers: [10.0.0.1]\nproxy:\n  hosts: [a.test, c.test]\n  path_prefixes: [/x, /y]\n  strip_path_prefix: false\n`);
  assert.deepEqual(two.roles[0]!.proxy?.hosts, ['a.test', 'c.test']);
  assert.deepEqual(two.roles[0]!.proxy?.pathPrefixes, ['/x', '/y']);
  assert.equal(two.roles[0]!.proxy?.stripPathPrefix, false);
  const root = await load(t, `${BASE}servers: [10.0.0.1]\nproxy:\n  path_prefix: /\n`);
  assert.deepEqual(root.roles[0]!.proxy?.pathPrefixes, []);
});

test('buffering: Kamal\'s defaults (1 GB requests, no response limit, 1 MB in memory), its 40_000_000 notation, and off when both switches are off', async (t) => {
  const on = await load(t, `${BASE}servers: [10.0.0.1]\nproxy:\n  buffering: {}\n`);
  assert.deepEqual(on.roles[0]!.proxy?.buffering, { maxRequestBody: 1_000_000_000, maxResponseBody: 0, memory: 1_000_000 });
  const sized = await load(t, `${BASE}servers: [10.0.0.1]\nproxy:\n  buffering:\n    max_request_body: 40_000_000\n    max_response_body: 5000\n    memory: 2_000_000\n`);
  assert.deepEqual(sized.roles[0]!.proxy?.buffering, { maxRequestBody: 40_000_000, maxResponseBody: 5000, memory: 2_000_000 });
  const off = await load(t, `${BASE}servers: [10.0.0.1]\nproxy:\n  buffering: {requests: false, responses: false}\n`);
  assert.equal(off.roles[0]!.proxy?.buffering, undefined);
  const none = await load(t, `${BASE}servers: [10.0.0.1]\nproxy:\n  host: a.test\n`);
  assert.equal(none.roles[0]!.proxy?.buffering, undefined);
});

test('proxy.run ports and publish, and acme_email, describe the shared Traefik', async (t) => {
  const config = await load(t, `${BASE}servers: [10.0.0.1]\ntraefik:\n  host_port: 81\nproxy:\n  acme_email: ops@example.com\n  run:\n    http_port: 8080\n    https_port: 8443\n    publish: false\n`);
  assert.equal(config.traefik.hostPort, 8080);
  assert.equal(config.traefik.httpsPort, 8443);
  assert.equal(config.traefik.publish, false);
  assert.equal(config.traefik.acmeEmail, 'ops@example.com');
  const kept = await load(t, `${BASE}servers: [10.0.0.1]\ntraefik:\n  host_port: 81\nproxy:\n  host: a.test\n`);
  assert.equal(kept.traefik.hostPort, 81);
});

test('refusals name the place and say what to do (exit 78)', async (t) => {
  const cases: [string, string][] = [
    [`${BASE}servers: [10.0.0.1]\nproxy:\n  ssl: true\n`, 'config/deploy.yml:5:8 proxy.ssl: ssl needs host or hosts: a certificate names the hosts it is for (Kamal\'s rule)'],
    [`${BASE}servers: [10.0.0.1]\nproxy:\n  host: a.test\n  hosts: [b.test]\n`, 'config/deploy.yml:5:3 proxy: give host or hosts, not both'],
    [`${BASE}servers: [10.0.0.1]\nproxy:\n  path_prefix: /a\n  path_prefixes: [/b]\n`, 'config/deploy.yml:5:3 proxy: give path_prefix or path_prefixes, not both'],
    [`${BASE}servers: [10.0.0.1]\nproxy:\n  host: a.test:8080\n`, 'config/deploy.yml:5:9 proxy.host: "a.test:8080" is not a host name'],
    [`${BASE}servers:\n  web:\n    hosts: [10.0.0.1]\n    traefik: true\n    proxy: true\n`, 'config/deploy.yml:7:12 servers.web.proxy: give proxy or traefik for a role, not both (proxy is Kamal 2\'s form of traefik\'s enabled)'],
    [`${BASE}servers: [10.0.0.1]\nproxy:\n  run:\n    debug: true\n`, 'config/deploy.yml:6:5 proxy.run.debug: a kamal-proxy setting with no Traefik equivalent: set traefik.args log.level: DEBUG'],
    [`${BASE}servers: [10.0.0.1]\nproxy:\n  hots: a.test\n`, 'config/deploy.yml:5:3 proxy.hots: unknown key, did you mean "hosts"?'],
    [`${BASE}servers: [10.0.0.1]\nproxy:\n  acme_email: ops\n`, 'config/deploy.yml:5:15 proxy.acme_email: must be an e-mail address'],
    [`${BASE}servers: [10.0.0.1]\nproxy:\n  path_prefix: api\n`, 'config/deploy.yml:5:16 proxy.path_prefix: must be a path starting with "/" (no spaces or backquotes)'],
    [`${BASE}servers: [10.0.0.1]\nproxy:\n  buffering: {memory: 1M}\n`, 'config/deploy.yml:5:23 proxy.buffering.memory: must be a number of bytes, like 40000000 or 40_000_000'],
  ];
  for (const [yml, message] of cases) assert.equal(await refusal(t, yml), message);
  const roleRun = await refusal(t, `${BASE}servers:\n  web:\n    hosts: [10.0.0.1]\n    proxy:\n      run: {http_port: 81}\n`);
  assert.equal(roleRun, 'config/deploy.yml:7:7 servers.web.proxy.run: unknown key, proxy.run describes the shared Traefik of each host: set it in the top-level proxy');
});

test('two routed roles on one server claiming the same host and path are refused at the later role', async (t) => {
  const yml = `${BASE}servers:\n  web:\n    hosts: [10.0.0.1, 10.0.0.2]\n  api:\n    hosts: [10.0.0.2]\n    proxy: true\nproxy:\n  host: a.test\n`;
  assert.equal(await refusal(t, yml), 'config/deploy.yml:8:12 servers.api.proxy: roles web and api both route host a.test path / on 10.0.0.2: give one of them another host or path_prefix');
  // Another path, or another server, is no conflict.
  await load(t, `${BASE}servers:\n  web:\n    hosts: [10.0.0.1]\n  api:\n    hosts: [10.0.0.1]\n    proxy: {path_prefix: /api}\nproxy:\n  host: a.test\n`);
  await load(t, `${BASE}servers:\n  web:\n    hosts: [10.0.0.1]\n  api:\n    hosts: [10.0.0.2]\n    proxy: true\nproxy:\n  host: a.test\n`);
});

test('a certificate and key from secrets load as secrets: the config shows neither value', async (t) => {
  const { cert, key } = await certificate(t);
  const config = await load(t, `${BASE}servers: [10.0.0.1]\nproxy:\n  host: app.test\n  ssl:\n    certificate_pem: CERT_PEM\n    private_key_pem: KEY_PEM\n`, { CERT_PEM: cert, KEY_PEM: key });
  const ssl = config.roles[0]!.proxy?.ssl;
  assert.ok(ssl?.kind === 'custom');
  assert.equal(ssl.certificate.reveal(), cert);
  assert.equal(ssl.privateKey.reveal(), key);
  const shown = JSON.stringify(presentConfig(config));
  assert.ok(!shown.includes('BEGIN'), shown);
  assert.ok(config.secrets.some((secret) => secret.name === 'KEY_PEM'), 'the key is redacted from host output like every secret');
});

test('a certificate or key that does not parse, or a key of another certificate, is refused at load without its value', async (t) => {
  const { cert, key } = await certificate(t);
  const other = await certificate(t, 'other.test');
  const yml = `${BASE}servers: [10.0.0.1]\nproxy:\n  host: app.test\n  ssl:\n    certificate_pem: CERT_PEM\n    private_key_pem: KEY_PEM\n`;
  const broken = cert.replace(/\n[A-Za-z0-9+/]{20}/, '\nBROKENBROKENBROKEN!!');
  const cases: [Record<string, string>, string][] = [
    [{ CERT_PEM: broken, KEY_PEM: key }, 'config/deploy.yml:7:22 proxy.ssl.certificate_pem: secret CERT_PEM does not hold a PEM certificate that parses (expected -----BEGIN CERTIFICATE----- …)'],
    [{ CERT_PEM: 'hunter2-not-a-cert', KEY_PEM: key }, 'config/deploy.yml:7:22 proxy.ssl.certificate_pem: secret CERT_PEM does not hold a PEM certificate that parses (expected -----BEGIN CERTIFICATE----- …)'],
    [{ CERT_PEM: cert, KEY_PEM: cert }, 'config/deploy.yml:8:22 proxy.ssl.private_key_pem: secret KEY_PEM does not hold an unencrypted PEM private key that parses (expected -----BEGIN PRIVATE KEY----- …)'],
    [{ CERT_PEM: cert, KEY_PEM: other.key }, 'config/deploy.yml:8:22 proxy.ssl.private_key_pem: the private key in secret KEY_PEM does not belong to the certificate in secret CERT_PEM'],
    [{ KEY_PEM: key }, 'config/deploy.yml:7:22 proxy.ssl.certificate_pem: secret CERT_PEM is not set'],
  ];
  for (const [env, message] of cases) {
    const text = await refusal(t, yml, env);
    assert.ok(text.startsWith(message), `${text}\n  expected to start with\n${message}`);
    for (const value of Object.values(env)) if (value.length > 60) assert.ok(!text.includes(value.slice(30, 60)), 'a secret value in the message');
    assert.ok(!text.includes('hunter2'));
  }
});

test('an expired certificate is refused, naming the day it expired', async (t) => {
  const { cert, key } = await certificate(t, 'app.test', 1);
  const later = new Date(Date.now() + 3 * 24 * 3600 * 1000);
  const problem = certificateProblem(new Secret('CERT_PEM', cert), new Secret('KEY_PEM', key), later);
  assert.equal(problem?.key, 'certificate_pem');
  assert.match(problem?.message ?? '', /^the certificate in secret CERT_PEM expired on \d{4}-\d{2}-\d{2}$/);
  assert.equal(certificateProblem(new Secret('CERT_PEM', cert), new Secret('KEY_PEM', key)), undefined);
});
