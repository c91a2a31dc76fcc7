// ACME beyond the defaults: Kamal's one-server rule for `ssl: true` (each server's Traefik has its
// own acme.json and answers only its own HTTP-01 challenges), and a private ACME CA (step-ca, the
// test bed's Pebble) set through traefik.args and traefik.options, as docs/configuration.md shows.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config/load.ts';
import { traefikSpecFor } from '../../../src/desired/desired.ts';
import { runTraefik } from '../../../src/runtime/traefik.ts';
import { loadYaml, refusalOf } from '../helpers/load-yaml.ts';

const BASE = 'service: app\nimage: acme/app\n';

const load = loadYaml;
const refusal = refusalOf;

const ALTERNATIVE = 'use one server per name, or a certificate from secrets (ssl: {certificate_pem, private_key_pem}), which any number of servers can serve';

test('ssl: true on a role with two servers is refused (Kamal\'s one-server rule), naming the servers and what to do instead', async (t) => {
  const message = await refusal(t, `${BASE}servers: [10.0.0.1, 10.0.0.2]\nproxy:\n  host: app.test\n  ssl: true\n`);
  assert.equal(
    message,
    `config/deploy.yml:3:10 servers.proxy: ssl: true serves role web from 2 servers (10.0.0.1, 10.0.0.2): each server's Traefik orders its own Let's Encrypt certificate, and the HTTP-01 challenge reaches only the server DNS answers with, so issuing and renewing fail on the others (Kamal's rule: one server); ${ALTERNATIVE}`,
  );
  // a role's own ssl: true is judged the same way, at that role
  const roleMessage = await refusal(t, `${BASE}servers:\n  web:\n    hosts: [10.0.0.1]\n  api:\n    hosts: [10.0.0.2, 10.0.0.3]\n    proxy:\n      host: api.test\n      ssl: true\n`);
  assert.match(roleMessage, /^config\/deploy\.yml:\d+:\d+ servers\.api\.proxy: ssl: true serves role api from 2 servers \(10\.0\.0\.2, 10\.0\.0\.3\)/);
});

test('two single-server roles getting a certificate for the same name on different servers are refused; on one server they are not', async (t) => {
  const yml = (apiHost: string) => `${BASE}servers:\n  web:\n    hosts: [10.0.0.1]\n  api:\n    hosts: [${apiHost}]\n    proxy:\n      path_prefix: /api\nproxy:\n  host: app.test\n  ssl: true\n`;
  assert.match(await refusal(t, yml('10.0.0.2')), /servers\.api\.proxy: roles web \(10\.0\.0\.1\) and api \(10\.0\.0\.2\) both get a Let's Encrypt certificate for app\.test on different servers: the HTTP-01 challenge reaches only one of them; /);
  // one server: one Traefik, one acme.json, one order for the name
  const same = await load(t, yml('10.0.0.1'));
  assert.deepEqual(same.roles.map((role) => role.proxy?.ssl?.kind), ['acme', 'acme']);
  // other names on other servers are fine
  await load(t, `${BASE}servers:\n  web:\n    hosts: [10.0.0.1]\n  api:\n    hosts: [10.0.0.2]\n    proxy:\n      host: api.test\n      ssl: true\nproxy:\n  host: app.test\n  ssl: true\n`);
});

test('no limit without ACME: plain HTTP routes, and a certificate from secrets, on any number of servers', async (t) => {
  await load(t, `${BASE}servers: [10.0.0.1, 10.0.0.2, 10.0.0.3]\nproxy:\n  host: app.test\n`);
  const dir = await mkdtemp(join(tmpdir(), 'mrsk-cert-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '30', '-subj', '/CN=app.test', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { encoding: 'utf8' });
  assert.equal(made.status, 0, `openssl failed: ${made.error?.message ?? made.stderr}`);
  const env = { CERT_PEM: await readFile(join(dir, 'cert.pem'), 'utf8'), KEY_PEM: await readFile(join(dir, 'key.pem'), 'utf8') };
  const config = await load(t, `${BASE}servers: [10.0.0.1, 10.0.0.2]\nproxy:\n  host: app.test\n  ssl:\n    certificate_pem: CERT_PEM\n    private_key_pem: KEY_PEM\n`, env);
  assert.equal(config.roles[0]!.proxy?.ssl?.kind, 'custom');
  // a role that is not routed has no certificate to get
  await load(t, `${BASE}servers:\n  web:\n    hosts: [10.0.0.1]\n  job:\n    hosts: [10.0.0.2, 10.0.0.3]\n    cmd: bin/jobs\nproxy:\n  host: app.test\n  ssl: true\n`);
});

test('a private ACME CA: caserver and cacertificates through traefik.args, the root mounted through traefik.options', async (t) => {
  const yml =
    `${BASE}servers: [10.0.0.1]\nproxy:\n  host: app.internal\n  ssl: true\ntraefik:\n  args:\n` +
    `    certificatesresolvers.letsencrypt.acme.caserver: https://ca.internal:9000/acme/acme/directory\n` +
    `    certificatesresolvers.letsencrypt.acme.cacertificates: /etc/traefik/acme-ca.pem\n` +
    `  options:\n    volume: /etc/ssl/private-ca/root_ca.crt:/etc/traefik/acme-ca.pem:ro\n`;
  const config = await load(t, yml);
  const spec = traefikSpecFor(config);
  // added to mrsk's arguments, the resolver's storage and challenge unchanged
  for (const arg of [
    '--certificatesresolvers.letsencrypt.acme.caserver=https://ca.internal:9000/acme/acme/directory',
    '--certificatesresolvers.letsencrypt.acme.cacertificates=/etc/traefik/acme-ca.pem',
    '--certificatesresolvers.letsencrypt.acme.storage=/etc/traefik/acme/acme.json',
    '--certificatesresolvers.letsencrypt.acme.httpchallenge.entrypoint=web',
  ]) {
    assert.equal(spec.args.filter((given) => given === arg).length, 1, `${arg} in ${spec.args.join(' ')}`);
  }
  assert.deepEqual(spec.options, ['--volume', '/etc/ssl/private-ca/root_ca.crt:/etc/traefik/acme-ca.pem:ro']);
  // docker run gets the root read-only beside the state folders, before the image
  const script = runTraefik('docker', spec).script;
  const image = script.lastIndexOf(` ${spec.image} `);
  assert.ok(image > 0, script);
  assert.ok(script.lastIndexOf('--volume /etc/ssl/private-ca/root_ca.crt:/etc/traefik/acme-ca.pem:ro') < image, script);
  assert.ok(script.endsWith(` ${spec.image} ${spec.args.join(' ')}`), script);
  // the same settings in another app give the same Traefik: apps sharing a host keep one container
  const other = await load(t, yml.replace('service: app', 'service: other').replace('app.internal', 'other.internal'));
  assert.equal(traefikSpecFor(other).specHash, spec.specHash);
});

test('examples/https/deploy.yml (what `npm run demo` deploys over HTTPS) loads with the bed\'s exports: one server, Let\'s Encrypt pointed at Pebble', async () => {
  const bed = {
    MRSK_TESTBED_REGISTRY: '10.231.7.1:5000',
    MRSK_TESTBED_HOST3: '10.231.7.13',
    MRSK_TESTBED_PEBBLE_DIRECTORY: 'https://10.231.7.1:14000/dir',
    MRSK_TESTBED_PEBBLE_CA: '/tmp/mrsk-testbed/pebble/pebble.minica.pem',
    MRSK_TESTBED_KEY: '/tmp/mrsk-testbed/id_ed25519',
    MRSK_TESTBED_KNOWN_HOSTS: '/tmp/mrsk-testbed/known_hosts',
    MRSK_REGISTRY_PASSWORD: 'registry-password',
  };
  const config = await loadConfig({ file: 'examples/https/deploy.yml', cwd: new URL('../../../', import.meta.url).pathname, env: bed });
  assert.deepEqual(config.hosts, ['10.231.7.13']);
  assert.deepEqual(config.roles[0]!.proxy, { hosts: ['app.test'], appPort: 3000, ssl: { kind: 'acme' }, sslRedirect: true, pathPrefixes: [], stripPathPrefix: true });
  const spec = traefikSpecFor(config);
  assert.ok(spec.args.includes('--certificatesresolvers.letsencrypt.acme.caserver=https://10.231.7.1:14000/dir'), spec.args.join(' '));
  assert.ok(spec.args.includes('--certificatesresolvers.letsencrypt.acme.cacertificates=/etc/traefik/acme-ca.pem'), spec.args.join(' '));
  assert.deepEqual(spec.options, ['--volume', '/tmp/mrsk-testbed/pebble/pebble.minica.pem:/etc/traefik/acme-ca.pem:ro']);
});
