// The bed's ACME CA: Pebble (Let's Encrypt's test CA) with pebble-challtestsrv as its DNS, as the
// HTTPS scenarios of issue 13 rely on them: the directory answers over HTTPS verified with
// Pebble's minica root (and with nothing else), the management API gives the issuing root, DNS
// records added for app host names resolve to bed hosts and nothing else resolves, and the real
// Traefik gets a certificate through a real HTTP-01 challenge on port 80, counted as one order.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Bed,
  type Pebble,
  addDnsRecord,
  bringUp,
  httpsGet,
  pebbleOf,
  pebbleOrderCount,
  pebbleRoot,
  testbed,
  waitFor,
} from './harness.ts';

// The issuance probe runs Traefik on host 3, a host of its own: port 80 must be free for HTTP-01,
// and a Traefik that another e2e file left on hosts 1-2 of a shared bed would hold it.
const PROBE_HOST = 3;
let bed: Bed;
let pebble: Pebble;
before(async () => {
  bed = await bringUp(PROBE_HOST);
  pebble = pebbleOf(bed.env); // throws (the suite fails) when the bed recorded no Pebble
});
after(async () => {
  await bed?.tearDown();
});

const minica = () => readFileSync(pebble.caCertPath, 'utf8');

/** A resolver that asks only the bed's challtestsrv. */
function bedResolver(): Resolver {
  const resolver = new Resolver({ timeout: 2000, tries: 1 });
  resolver.setServers([pebble.dns]);
  return resolver;
}


test("the ACME directory answers over HTTPS verified with Pebble's minica root, and only with it", async () => {
  const answer = await httpsGet(pebble.directory, { ca: minica() });
  assert.equal(answer.status, 200, answer.error);
  const directory = JSON.parse(answer.body) as Record<string, unknown>;
  const origin = new URL(pebble.directory).origin;
  for (const key of ['newNonce', 'newAccount', 'newOrder', 'revokeCert', 'keyChange']) {
    assert.ok(String(directory[key]).startsWith(`${origin}/`), `${key}: ${String(directory[key])}`);
  }
  // Node's public roots do not know Pebble: verification really happens
  const untrusted = await httpsGet(pebble.directory);
  assert.equal(untrusted.status, 0);
  assert.match(untrusted.error ?? '', /CERT|SIGNATURE|ISSUER/);
  // the log the order count reads is Pebble's, with the settings the bed gives it
  const log = readFileSync(pebble.logPath, 'utf8');
  assert.match(log, new RegExp(`ACME directory available at: ${pebble.directory.replaceAll('.', '\\.')}`));
  assert.match(log, /Disabling random VA sleeps/);
  assert.match(log, /Configured to reject 0% of good nonces/);
  assert.match(log, new RegExp(`Using custom DNS resolver for ACME challenges: ${pebble.dns.replaceAll('.', '\\.')}`));
});

test('the management API gives the root of issued certificates: a self-signed CA, not the minica root', async () => {
  const pem = await pebbleRoot(bed.env);
  const root = new X509Certificate(pem);
  assert.equal(root.ca, true);
  assert.match(root.subject, /CN=Pebble Root CA/);
  assert.ok(root.checkIssued(root) && root.verify(root.publicKey), 'self-signed');
  assert.ok(new Date(root.validTo).getTime() > Date.now());
  assert.notEqual(root.fingerprint256, new X509Certificate(minica()).fingerprint256);
});

test('DNS records added for app host names resolve to bed hosts through challtestsrv; nothing else resolves', async () => {
  const [host1] = bed.hosts as [string];
  const resolver = bedResolver();
  await addDnsRecord('app.test', host1);
  assert.deepEqual(await resolver.resolve4('app.test'), [host1]);
  // adding again replaces (challtestsrv's /add-a alone would append)
  const other = `${host1.split('.').slice(0, 3).join('.')}.99`;
  await addDnsRecord('b.test', host1, other);
  await addDnsRecord('b.test', other);
  assert.deepEqual(await resolver.resolve4('b.test'), [other]);
  // no default answers: challtestsrv's own defaults (127.0.0.1, ::1) would send Pebble to loopback
  await assert.rejects(resolver.resolve4('unknown.test'), { code: /ENODATA|ENOTFOUND/ });
  await assert.rejects(resolver.resolve6('app.test'), { code: /ENODATA|ENOTFOUND/ });
  // only bed addresses: Pebble's validation requests go to them
  const outside = await testbed(['dns-add', 'app.test', '192.0.2.1']);
  assert.notEqual(outside.code, 0);
  assert.match(outside.stderr, /not an address of the bed/);
  assert.deepEqual(await resolver.resolve4('app.test'), [host1]);
});

test('Traefik gets a certificate from Pebble over HTTP-01 on port 80: verified by the root, one order', async () => {
  const probeHost = bed.hosts[PROBE_HOST - 1] as string;
  const name = 'pebble-probe.test';
  const container = 'mrsk-pebble-probe';
  const dir = join(bed.env.MRSK_TESTBED_DIR ?? '/tmp/mrsk-testbed', 'pebble-probe'); // the host sees it at the same path
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'dynamic.yml'),
    `http:\n  routers:\n    probe:\n      rule: Host(\`${name}\`)\n      entryPoints: [websecure]\n` +
      `      service: noop@internal\n      tls: {certResolver: pebble}\n`,
  );
  await addDnsRecord(name, probeHost);
  const ordersBefore = await pebbleOrderCount(bed.env);
  // The settings the HTTPS scenarios need: caServer, the :80 entrypoint for HTTP-01, and trust in
  // Pebble's HTTPS certificate through LEGO_CA_CERTIFICATES (the image has no other roots anyway).
  const start = await bed.ssh(
    PROBE_HOST,
    `set -e
export DOCKER_CONFIG=$(mktemp -d); trap 'rm -rf "$DOCKER_CONFIG"' EXIT
docker login -u mrsk --password-stdin ${bed.registry} >/dev/null 2>&1
docker rm -f ${container} >/dev/null 2>&1 || true
docker run -d --name ${container} -p 80:80 -p 443:443 \\
  -e LEGO_CA_CERTIFICATES=/pebble-ca.pem -v ${pebble.caCertPath}:/pebble-ca.pem:ro -v ${dir}:/probe \\
  ${bed.registry}/traefik:v3.6 --entrypoints.web.address=:80 --entrypoints.websecure.address=:443 \\
  --providers.file.filename=/probe/dynamic.yml \\
  --certificatesresolvers.pebble.acme.caserver=${pebble.directory} \\
  --certificatesresolvers.pebble.acme.email=ops@example.test \\
  --certificatesresolvers.pebble.acme.storage=/probe/acme.json \\
  --certificatesresolvers.pebble.acme.httpchallenge.entrypoint=web >/dev/null`,
    { input: bed.env.MRSK_REGISTRY_PASSWORD ?? '' },
  );
  let passed = false;
  try {
    assert.equal(start.code, 0, start.stderr);
    const ca = await pebbleRoot(bed.env);
    const url = `https://${name}/`;
    // noop@internal answers 418: any status means TLS verified against Pebble's root
    let last = '';
    const served = await waitFor(() => `${url} served with a certificate from Pebble (last: ${last})`, 60_000, async () => {
      const answer = await httpsGet(url, { ca, address: probeHost });
      last = answer.error ?? String(answer.status);
      return answer.status > 0 ? answer : undefined;
    });
    assert.equal(served.status, 418);
    assert.equal(await pebbleOrderCount(bed.env), ordersBefore + 1);
    const issued = readFileSync(pebble.logPath, 'utf8');
    assert.match(issued, /Attempting to validate w\/ HTTP: http:\/\/pebble-probe\.test:80\/\.well-known\/acme-challenge\//);
    // served again from Traefik's store: no new order
    assert.equal((await httpsGet(url, { ca, address: probeHost })).status, 418);
    assert.equal(await pebbleOrderCount(bed.env), ordersBefore + 1);
    passed = true;
  } finally {
    // Traefik's own words when it failed; the container goes either way
    const logs = await bed.ssh(PROBE_HOST, `docker logs ${container} 2>&1 | tail -30; docker rm -f ${container} >/dev/null`);
    if (!passed) console.log(logs.stdout);
    rmSync(dir, { recursive: true, force: true });
  }
});
