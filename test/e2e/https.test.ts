// HTTPS and host routing (issue 13) on the test bed, with Let's Encrypt's test CA (Pebble) and
// its DNS (challtestsrv): certificates really issued over HTTP-01 through mrsk's Traefik, every
// HTTPS request verified against Pebble's root (or the test's own certificate) and nothing else.
// Traefik reaches Pebble the way a user of a private ACME CA (step-ca) would: traefik.args
// caserver and cacertificates, the CA's root mounted through traefik.options (docs/configuration.md).
//
// Host use (a bed of 3): host 1 carries `hs` (app.test, Let's Encrypt) and, with host 2, `hsc`
// (www.test, a certificate from secrets); host 2 `hsp` (p.test, path prefix, a role without
// route); host 3 the two apps `alpha` (a.test) and `beta` (b.test). Each scenario runs its
// requests at >= 20 HTTPS requests/s per host and prints its numbers (`https: …`).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import {
  type Bed,
  type HttpsLoadResult,
  type HttpsTarget,
  type ProcessResult,
  addDnsRecord,
  bringUp,
  httpsGet,
  httpsLoad,
  pebbleOf,
  pebbleOrderCount,
  pebbleRoot,
  runOk,
  repoRoot,
  waitFor,
} from './harness.ts';

/** Sent per host; at least MIN_RPS_PER_HOST must be achieved (the machine may be busy). */
const RPS_PER_HOST = 25;
const MIN_RPS_PER_HOST = 20;
let bed: Bed;
let dir: string;
/** Pebble's issuing root: what every HTTPS request to an ACME name is verified against. */
let root: string;

before(async () => {
  bed = await bringUp(3);
  pebbleOf(bed.env); // throws (the suite fails) when the bed has no Pebble
  root = await pebbleRoot(bed.env);
  dir = await mkdtemp(join(tmpdir(), 'mrsk-https-'));
  for (const version of ['v1', 'v2']) await runOk('bash', [join(repoRoot, 'test', 'bed', 'build-app.sh'), version], { timeoutMs: 180_000 });
  // a clean slate on hosts an interrupted earlier run may have left apps on
  for (const host of [1, 2, 3]) await bed.ssh(host, 'docker rm -f $(docker ps -aq) >/dev/null 2>&1; rm -rf ~/.mrsk; true');
});
after(async () => {
  await bed?.tearDown();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const host = (index: number) => bed.hosts[index - 1] as string;

interface RoleSpec {
  readonly hosts: readonly number[];
  readonly proxy?: Record<string, unknown> | boolean;
  readonly cmd?: string;
}

/**
 * A deploy.yml for the example app (port 3000) on the bed, with Traefik pointed at Pebble. Every
 * app gives the same traefik section: apps sharing a host share one Traefik.
 */
async function writeConfig(service: string, roles: Record<string, RoleSpec>, proxy: Record<string, unknown> | undefined, file = `${service}.yml`): Promise<string> {
  const pebble = pebbleOf(bed.env);
  const config = {
    service,
    image: `${bed.registry}/demo-app`,
    servers: Object.fromEntries(
      Object.entries(roles).map(([name, role]) => [
        name,
        { hosts: role.hosts.map(host), ...(role.proxy !== undefined ? { proxy: role.proxy } : {}), ...(role.cmd ? { cmd: role.cmd } : {}) },
      ]),
    ),
    ...(proxy ? { proxy: { app_port: 3000, ...proxy } } : {}),
    registry: { server: bed.registry, username: 'mrsk', password: ['MRSK_REGISTRY_PASSWORD'] },
    traefik: {
      image: `${bed.registry}/traefik:v3.6`,
      args: {
        'certificatesresolvers.letsencrypt.acme.caserver': pebble.directory,
        'certificatesresolvers.letsencrypt.acme.cacertificates': '/etc/traefik/acme-ca.pem',
      },
      options: { volume: `${pebble.caCertPath}:/etc/traefik/acme-ca.pem:ro` },
    },
    ssh: {
      user: 'root',
      keys: [bed.env.MRSK_TESTBED_KEY],
      known_hosts_file: bed.env.MRSK_TESTBED_KNOWN_HOSTS,
      strict_host_key_checking: 'true',
      connect_timeout: 5,
    },
    healthcheck: { path: '/up', interval: 1, max_attempts: 2 },
    readiness_delay: 1,
    deploy_timeout: 20,
    drain_timeout: 3,
    retain_containers: 3,
  };
  const path = join(dir, file);
  await writeFile(path, stringify(config));
  return path;
}

function assertOk(result: ProcessResult, what: string): void {
  assert.equal(result.code, 0, `${what} exited ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
}

function report(scenario: string, traffic: HttpsLoadResult): void {
  console.log(`https: ${scenario}: ${traffic.sent} requests in ${traffic.seconds}s, ${traffic.failed} failed, ${traffic.fellBack} to the other host, slowest ${traffic.slowestMs} ms; answers ${JSON.stringify(traffic.bodies)}`);
}

function assertNoFailures(scenario: string, traffic: HttpsLoadResult, minSeconds: number, hosts = 1): void {
  report(scenario, traffic);
  assert.deepEqual(traffic.failures.slice(0, 10), [], `${scenario}: ${traffic.failed} of ${traffic.sent} requests failed`);
  assert.ok(traffic.seconds >= minSeconds, `${scenario}: the load ran ${traffic.seconds}s`);
  const rate = traffic.sent / traffic.seconds / hosts;
  assert.ok(rate >= MIN_RPS_PER_HOST, `${scenario}: ${rate.toFixed(1)} requests/s per host, below ${MIN_RPS_PER_HOST}`);
}

/** Waits until every target answers 200 over verified HTTPS on every address (a new certificate may take seconds). */
async function waitServed(targets: readonly HttpsTarget[], ca: string, ms = 60_000): Promise<void> {
  for (const target of targets) {
    for (const address of target.addresses) {
      let last = '';
      await waitFor(() => `${target.url} on ${address} over HTTPS verified by the CA (last: ${last})`, ms, async () => {
        const answer = await httpsGet(target.url, { ca, address });
        last = answer.error ?? `${answer.status} ${answer.body.slice(0, 80)}`;
        return answer.status === 200 ? true : undefined;
      });
    }
  }
}

/** Runs FN under HTTPS load (RPS_PER_HOST per distinct host of the targets) and returns both. */
async function underLoad<T>(targets: readonly HttpsTarget[], ca: string, fn: () => Promise<T>, retry: 'refused' | 'any' = 'refused'): Promise<{ result: T; traffic: HttpsLoadResult }> {
  await waitServed(targets, ca);
  const hosts = new Set(targets.flatMap((target) => target.addresses)).size;
  const stop = new AbortController();
  const traffic = httpsLoad({ targets, ca, rps: RPS_PER_HOST * hosts, durationMs: 600_000, retry, signal: stop.signal });
  try {
    // a second of traffic before the command: the load is steady when it starts
    await new Promise((r) => setTimeout(r, 1000));
    const result = await fn();
    await new Promise((r) => setTimeout(r, 1000));
    stop.abort();
    return { result, traffic: await traffic };
  } finally {
    stop.abort();
    await traffic;
  }
}

/** What a host runs and keeps, to show that a refused command changed nothing. */
async function hostState(index: number): Promise<string> {
  const state = await bed.ssh(
    index,
    "docker ps -a --no-trunc --format '{{.ID}} {{.Names}} {{.State}}' | sort; docker network ls --format '{{.Name}}' | sort; " +
      'ls -la --time-style=full-iso ~/.mrsk/traefik/dynamic 2>/dev/null; find ~/.mrsk -type f 2>/dev/null | sort | xargs -r sha256sum',
  );
  assert.equal(state.code, 0, state.stderr);
  return state.stdout;
}

/** Container id and start time of NAMES (and Traefik) on a host: what "never touched" compares. */
async function startedAt(index: number, filter: string): Promise<string> {
  const out = await bed.ssh(index, `docker ps -q ${filter} | xargs -r docker inspect -f '{{.Name}} {{.Id}} {{.State.StartedAt}}' | sort`);
  assert.equal(out.code, 0, out.stderr);
  assert.notEqual(out.stdout.trim(), '', `no container matches ${filter}`);
  return out.stdout;
}

/** A certificate for NAME with its key, made by openssl now (self-signed, SAN = NAME). */
async function makeCertificate(name: string): Promise<{ cert: string; key: string }> {
  const made = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '30', '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`, '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.crt`)],
    { encoding: 'utf8' },
  );
  assert.equal(made.status, 0, `openssl failed: ${made.error?.message ?? made.stderr}`);
  return { cert: await readFile(join(dir, `${name}.crt`), 'utf8'), key: await readFile(join(dir, `${name}.key`), 'utf8') };
}

/** The lines of a PEM's body (base64), any of which in an output would be a leak. */
function pemBodyLines(pem: string): string[] {
  return pem.split('\n').filter((line) => line.length >= 40 && !line.startsWith('-----'));
}

describe('HTTPS and host routing on the test bed', { timeout: 1_800_000 }, () => {
  let hsConfig: string;
  const appTest = (): HttpsTarget => ({ url: 'https://app.test/', addresses: [host(1)] });

  test('1. first deploy with proxy {host: app.test, ssl: true}: a certificate from Pebble, HTTPS answers, HTTP redirects', async () => {
    await addDnsRecord('app.test', host(1));
    hsConfig = await writeConfig('hs', { web: { hosts: [1] } }, { host: 'app.test', ssl: true });
    const orders = await pebbleOrderCount(bed.env);
    const started = Date.now();
    const deploy = await bed.mrsk(['deploy', '--version', 'v1', '--skip-push', '-c', hsConfig]);
    assertOk(deploy, 'deploy v1');
    await waitServed([appTest()], root);
    const issuedIn = (Date.now() - started) / 1000;
    assert.equal(await pebbleOrderCount(bed.env), orders + 1, 'one ACME order');
    const served = await httpsGet('https://app.test/', { ca: root, address: host(1) });
    assert.match(served.body, /^v1 /);
    // the certificate is Pebble's: Node's own roots refuse it
    assert.equal((await httpsGet('https://app.test/', { address: host(1) })).status, 0);
    // plain HTTP: a permanent redirect to the same path over HTTPS
    const redirect = await httpsGet('http://app.test/some/path?q=1', { address: host(1) });
    assert.equal(redirect.status, 301);
    assert.equal(redirect.location, 'https://app.test/some/path?q=1');
    const traffic = await httpsLoad({ targets: [appTest()], ca: root, rps: RPS_PER_HOST, durationMs: 5000 });
    console.log(`https: 1: deploy ${(deploy.ms / 1000).toFixed(1)}s, certificate served ${issuedIn.toFixed(1)}s after the deploy started`);
    assertNoFailures('1 first deploy (after)', traffic, 4);
  });

  test('2. v1 → v2 and rollback to v1 under HTTPS load: zero failed requests, no new order', async () => {
    const orders = await pebbleOrderCount(bed.env);
    const { result: deploy, traffic } = await underLoad([appTest()], root, () => bed.mrsk(['deploy', '--version', 'v2', '--skip-push', '-c', hsConfig]));
    assertOk(deploy, 'deploy v2');
    assertNoFailures('2 deploy v1 → v2', traffic, 3);
    assert.ok(Object.keys(traffic.bodies).some((body) => body.startsWith('v2 ')), 'v2 served');
    const { result: rollback, traffic: back } = await underLoad([appTest()], root, () => bed.mrsk(['rollback', 'v1', '-c', hsConfig]));
    assertOk(rollback, 'rollback v1');
    assertNoFailures('2 rollback v2 → v1', back, 3);
    assert.match((await httpsGet('https://app.test/', { ca: root, address: host(1) })).body, /^v1 /);
    assert.equal(await pebbleOrderCount(bed.env), orders, 'the certificate was kept');
  });

  let hscConfig: string;
  let wwwCert: { cert: string; key: string };
  const wwwTest = (): HttpsTarget => ({ url: 'https://www.test/', addresses: [host(1), host(2)] });

  test('5. a certificate from secrets is served; its file on the host is 0600; the PEM appears in no output', async () => {
    wwwCert = await makeCertificate('www.test');
    const secrets = { env: { WWW_CERT_PEM: wwwCert.cert, WWW_KEY_PEM: wwwCert.key } };
    hscConfig = await writeConfig('hsc', { web: { hosts: [1, 2] } }, { host: 'www.test', ssl: { certificate_pem: 'WWW_CERT_PEM', private_key_pem: 'WWW_KEY_PEM' } });
    const outputs: ProcessResult[] = [];
    const plan = await bed.mrsk(['plan', '--version', 'v1', '-c', hscConfig], secrets);
    outputs.push(plan, await bed.mrsk(['plan', '--version', 'v1', '--json', '-c', hscConfig], secrets));
    const deploy = await bed.mrsk(['deploy', '--version', 'v1', '--skip-push', '--verbose', '-c', hscConfig], secrets);
    outputs.push(deploy);
    assertOk(deploy, 'deploy hsc v1');
    assert.match(plan.stdout, /hsc\.yml/, 'the plan names the app\'s Traefik file');
    for (const output of outputs) {
      for (const line of [...pemBodyLines(wwwCert.cert), ...pemBodyLines(wwwCert.key)]) {
        assert.ok(!output.stdout.includes(line) && !output.stderr.includes(line), 'a line of the PEM is in the output');
      }
      assert.doesNotMatch(output.stdout + output.stderr, /BEGIN (CERTIFICATE|PRIVATE KEY|EC PRIVATE KEY)/);
    }
    for (const index of [1, 2]) {
      const stat = await bed.ssh(index, 'stat -c "%a %n" ~/.mrsk/traefik/dynamic ~/.mrsk/traefik/dynamic/hsc.yml');
      assert.equal(stat.code, 0, stat.stderr);
      assert.match(stat.stdout, /^700 .*\/dynamic\n600 .*\/hsc\.yml\n$/);
    }
    const fingerprint = new X509Certificate(wwwCert.cert).fingerprint256;
    await waitServed([wwwTest()], wwwCert.cert);
    for (const address of [host(1), host(2)]) {
      const answer = await httpsGet('https://www.test/', { ca: wwwCert.cert, address });
      assert.equal(answer.certificate, fingerprint, `${address} serves the certificate from secrets`);
    }
    const traffic = await httpsLoad({ targets: [wwwTest()], ca: wwwCert.cert, rps: RPS_PER_HOST * 2, durationMs: 5000 });
    assertNoFailures('5 certificate from secrets', traffic, 4, 2);
    // the plan is empty afterwards: the file's hash line matches
    assert.equal((await bed.mrsk(['plan', '--version', 'v1', '--detailed-exitcode', '-c', hscConfig], secrets)).code, 0);
  });

  test('3. traefik reboot across 2 hosts: the Let\'s Encrypt certificate survives (no new order), zero failed requests', async () => {
    // www.test is on hosts 1 and 2; app.test's certificate from Pebble lives in host 1's acme.json.
    // While one host's Traefik is replaced, that host resets or refuses connections and answers 404
    // until its routes load: no single-host client avoids that. What the rolling reboot promises is
    // that the name is always served: the load retries a failed request on the other host, as a
    // load balancer in front of the two does, and counts a request failed when neither answered.
    const secrets = { env: { WWW_CERT_PEM: wwwCert.cert, WWW_KEY_PEM: wwwCert.key } };
    const before = await httpsGet('https://app.test/', { ca: root, address: host(1) });
    assert.equal(before.status, 200);
    const orders = await pebbleOrderCount(bed.env);
    const traefikBefore = await startedAt(1, '--filter name=^traefik$');
    const { result: reboot, traffic } = await underLoad([wwwTest()], wwwCert.cert, () => bed.mrsk(['traefik', 'reboot', '-c', hscConfig], secrets), 'any');
    assertOk(reboot, 'traefik reboot');
    assertNoFailures('3 traefik reboot (www.test on 2 hosts)', traffic, 3, 2);
    assert.ok(reboot.stdout.indexOf(host(1)) < reboot.stdout.lastIndexOf(host(2)), 'host by host');
    assert.notEqual(await startedAt(1, '--filter name=^traefik$'), traefikBefore, 'host 1\'s Traefik was replaced');
    await waitServed([appTest()], root, 20_000);
    const afterReboot = await httpsGet('https://app.test/', { ca: root, address: host(1) });
    assert.equal(afterReboot.certificate, before.certificate, 'the same certificate, from acme.json');
    assert.equal(await pebbleOrderCount(bed.env), orders, 'no new ACME order');
  });

  test('4. two apps on one host (a.test, b.test): each answers its own host; deploying one never touches the other; each plan stays empty', async () => {
    await addDnsRecord('a.test', host(3));
    await addDnsRecord('b.test', host(3));
    const alpha = await writeConfig('alpha', { web: { hosts: [3] } }, { host: 'a.test', ssl: true });
    const beta = await writeConfig('beta', { web: { hosts: [3] } }, { host: 'b.test', ssl: true });
    const aTest: HttpsTarget = { url: 'https://a.test/', addresses: [host(3)] };
    const bTest: HttpsTarget = { url: 'https://b.test/', addresses: [host(3)] };
    assertOk(await bed.mrsk(['deploy', '--version', 'v1', '--skip-push', '-c', alpha]), 'deploy alpha v1');
    await waitServed([aTest], root);
    const alphaBefore = await startedAt(3, '--filter label=mrsk.service=alpha');
    const traefikBefore = await startedAt(3, '--filter name=^traefik$');
    const { result: deployBeta, traffic } = await underLoad([aTest], root, () => bed.mrsk(['deploy', '--version', 'v2', '--skip-push', '-c', beta]));
    assertOk(deployBeta, 'deploy beta v2');
    assertNoFailures('4 alpha while beta deploys', traffic, 3);
    await waitServed([bTest], root);
    assert.equal(await startedAt(3, '--filter label=mrsk.service=alpha'), alphaBefore, 'alpha\'s containers untouched');
    assert.equal(await startedAt(3, '--filter name=^traefik$'), traefikBefore, 'Traefik untouched');
    assert.match((await httpsGet('https://a.test/', { ca: root, address: host(3) })).body, /^v1 /);
    assert.match((await httpsGet('https://b.test/', { ca: root, address: host(3) })).body, /^v2 /);
    const alphaPlan = await bed.mrsk(['plan', '--version', 'v1', '--detailed-exitcode', '-c', alpha]);
    assert.equal(alphaPlan.code, 0, `alpha's plan after beta's deploy:\n${alphaPlan.stdout}${alphaPlan.stderr}`);
    // and the reverse: alpha deploys v2 while beta is under load
    const betaBefore = await startedAt(3, '--filter label=mrsk.service=beta');
    const { result: deployAlpha, traffic: betaTraffic } = await underLoad([bTest, aTest], root, () => bed.mrsk(['deploy', '--version', 'v2', '--skip-push', '-c', alpha]));
    assertOk(deployAlpha, 'deploy alpha v2');
    assertNoFailures('4 both names while alpha deploys v2', betaTraffic, 3);
    assert.equal(await startedAt(3, '--filter label=mrsk.service=beta'), betaBefore, 'beta\'s containers untouched');
    assert.equal(await startedAt(3, '--filter name=^traefik$'), traefikBefore, 'Traefik untouched');
    const betaPlan = await bed.mrsk(['plan', '--version', 'v2', '--detailed-exitcode', '-c', beta]);
    assert.equal(betaPlan.code, 0, `beta's plan after alpha's deploy:\n${betaPlan.stdout}${betaPlan.stderr}`);
    // each name reaches its own app: Traefik's routers name them apart
    const routers = await bed.ssh(3, "docker exec traefik wget -q -O - 'http://127.0.0.1:8080/api/http/routers?per_page=1000'");
    const rules = (JSON.parse(routers.stdout) as { name: string; rule: string }[]).map((router) => `${router.name} ${router.rule}`);
    assert.ok(rules.some((rule) => rule.startsWith('alpha-web-secure@docker') && rule.includes('Host(`a.test`)')), rules.join('\n'));
    assert.ok(rules.some((rule) => rule.startsWith('beta-web-secure@docker') && rule.includes('Host(`b.test`)')), rules.join('\n'));
  });

  test('6. path_prefix with strip_path_prefix; a role with proxy: false gets no route', async () => {
    await addDnsRecord('p.test', host(2));
    const hsp = await writeConfig(
      'hsp',
      { web: { hosts: [2] }, job: { hosts: [2], proxy: false, cmd: '/worker.sh --queue default' } },
      { host: 'p.test', ssl: true, path_prefix: '/app', strip_path_prefix: true },
    );
    assertOk(await bed.mrsk(['deploy', '--version', 'v1', '--skip-push', '-c', hsp]), 'deploy hsp v1');
    const target: HttpsTarget = { url: 'https://p.test/app/', addresses: [host(2)] };
    await waitServed([target], root);
    // /app/ reaches the app as / (its index), /app/up as /up; other paths are not this route
    assert.match((await httpsGet('https://p.test/app/', { ca: root, address: host(2) })).body, /^v1 /);
    assert.equal((await httpsGet('https://p.test/app/up', { ca: root, address: host(2) })).body.trim(), 'OK');
    assert.equal((await httpsGet('https://p.test/up', { ca: root, address: host(2) })).status, 404);
    assert.equal((await httpsGet('https://p.test/apple', { ca: root, address: host(2) })).status, 404);
    const traffic = await httpsLoad({ targets: [target], ca: root, rps: RPS_PER_HOST, durationMs: 5000 });
    assertNoFailures('6 path prefix', traffic, 4);
    // the job role runs, without any traefik label and without a router
    const labels = await bed.ssh(2, "docker inspect -f '{{json .Config.Labels}}' hsp-job-v1");
    assert.equal(labels.code, 0, labels.stderr);
    assert.ok(!Object.keys(JSON.parse(labels.stdout) as Record<string, string>).some((key) => key.startsWith('traefik.')), labels.stdout);
    const routers = await bed.ssh(2, "docker exec traefik wget -q -O - 'http://127.0.0.1:8080/api/http/routers?per_page=1000'");
    const names = (JSON.parse(routers.stdout) as { name: string }[]).map((router) => router.name);
    assert.ok(names.includes('hsp-web-secure@docker'), names.join(' '));
    assert.ok(!names.some((name) => name.startsWith('hsp-job')), names.join(' '));
  });

  test('7. bad input: ssl without host, a host another app on the server routes, a broken PEM: a clear message and exit code, nothing changed', async () => {
    const states = async () => Promise.all([1, 2, 3].map(hostState));
    const before = await states();
    // ssl: true without a host: refused at load (exit 78), before any connection
    const noHost = await writeConfig('hsbad', { web: { hosts: [1] } }, { ssl: true });
    const refusedNoHost = await bed.mrsk(['deploy', '--version', 'v1', '--skip-push', '-c', noHost]);
    assert.equal(refusedNoHost.code, 78, refusedNoHost.stdout + refusedNoHost.stderr);
    assert.match(refusedNoHost.stderr, /proxy\.ssl: ssl needs host or hosts/);
    // a broken PEM: refused at load, naming the secret and not its value
    const broken = await writeConfig('hsbad', { web: { hosts: [1] } }, { host: 'bad.test', ssl: { certificate_pem: 'BAD_CERT_PEM', private_key_pem: 'BAD_KEY_PEM' } });
    const garbage = '-----BEGIN CERTIFICATE-----\nTUlJQnJvS2VuIGNlcnRpZmljYXRlIHRleHQgdGhhdCBkb2VzIG5vdCBwYXJzZQ==\n-----END CERTIFICATE-----\n';
    const refusedPem = await bed.mrsk(['deploy', '--version', 'v1', '--skip-push', '-c', broken], { env: { BAD_CERT_PEM: garbage, BAD_KEY_PEM: wwwCert.key } });
    assert.equal(refusedPem.code, 78, refusedPem.stdout + refusedPem.stderr);
    assert.match(refusedPem.stderr, /secret BAD_CERT_PEM does not hold a PEM certificate that parses/);
    assert.ok(!(refusedPem.stdout + refusedPem.stderr).includes('TUlJQnJvS2Vu'), 'the broken PEM is not echoed');
    for (const line of pemBodyLines(wwwCert.key)) assert.ok(!(refusedPem.stdout + refusedPem.stderr).includes(line), 'the key is not echoed');
    // a.test is alpha's on host 3: another app claiming it there is refused by the plan, naming both
    const thief = await writeConfig('gamma', { web: { hosts: [3] } }, { host: 'a.test', ssl: true });
    for (const command of [['plan', '--version', 'v1'], ['deploy', '--version', 'v1', '--skip-push']]) {
      const refused = await bed.mrsk([...command, '-c', thief]);
      assert.notEqual(refused.code, 0, `${command[0]} was not refused:\n${refused.stdout}`);
      assert.notEqual(refused.code, 2);
      assert.match(refused.stdout + refused.stderr, /a\.test/);
      assert.match(refused.stdout + refused.stderr, /alpha/);
      assert.match(refused.stdout + refused.stderr, /gamma/);
      console.log(`https: 7: ${command[0]} of a duplicate host: exit ${refused.code}: ${(refused.stderr.trim().split('\n').pop() ?? '').slice(0, 300)}`);
    }
    assert.deepEqual(await states(), before, 'the hosts are as they were');
    console.log(`https: 7: no host: exit ${refusedNoHost.code}; broken PEM: exit ${refusedPem.code}`);
  });

  test('8. a Kamal 2 `kamal init` file and a Rails 8 deploy.yml, with our values, deploy over HTTPS and plan nothing afterwards', async () => {
    const bedSettings = parse(await readFile(await writeConfig('settings', { web: { hosts: [1] } }, undefined), 'utf8')) as Record<string, unknown>;
    /** The conformance file with our values: the bed's registry, image, hosts, name and SSH, Traefik pointed at Pebble. */
    const ownValues = async (name: string, edit: (config: Record<string, any>) => void): Promise<string> => {
      const config = parse(await readFile(join(repoRoot, 'test', 'conformance', name, 'config', 'deploy.yml'), 'utf8')) as Record<string, any>;
      config.image = `${bed.registry}/demo-app`;
      config.registry = { ...config.registry, server: bed.registry, username: 'mrsk' };
      // the bed's Traefik and SSH: not in either file (Kamal 2 runs kamal-proxy, and uses ~/.ssh)
      config.traefik = bedSettings.traefik;
      config.ssh = bedSettings.ssh;
      // the example app listens on 3000 (Kamal 2's default app_port is 80)
      config.proxy.app_port = 3000;
      edit(config);
      const path = join(dir, `${name}.yml`);
      await writeFile(path, stringify(config));
      return path;
    };
    const notes = await ownValues('kamal-init-2', (config) => {
      config.servers.web = [host(2)];
      config.servers.job.hosts = [host(2)];
      config.servers.job.cmd = '/worker.sh --queue default'; // the example app's worker, for bin/jobs
      config.proxy.host = 'notes.test';
    });
    const bookshelf = await ownValues('rails-8', (config) => {
      config.servers.web = [host(1)];
      config.proxy.host = 'bookshelf.test';
      config.asset_path = '/www/assets'; // the example app's assets folder, for /rails/public/assets
    });
    const secrets = { env: { KAMAL_REGISTRY_PASSWORD: bed.env.MRSK_REGISTRY_PASSWORD ?? '', RAILS_MASTER_KEY: 'rails-master-key-of-the-e2e' } };
    for (const [config, name, index] of [[notes, 'notes.test', 2], [bookshelf, 'bookshelf.test', 1]] as const) {
      await addDnsRecord(name, host(index));
      const deploy = await bed.mrsk(['deploy', '--version', 'v1', '--skip-push', '-c', config], secrets);
      assertOk(deploy, `deploy ${name}`);
      const target: HttpsTarget = { url: `https://${name}/`, addresses: [host(index)] };
      await waitServed([target], root);
      const traffic = await httpsLoad({ targets: [target], ca: root, rps: RPS_PER_HOST, durationMs: 3000 });
      assertNoFailures(`8 ${name}`, traffic, 2);
      const plan = await bed.mrsk(['plan', '--version', 'v1', '--detailed-exitcode', '-c', config], secrets);
      assert.equal(plan.code, 0, `${name}: plan after the deploy\n${plan.stdout}${plan.stderr}`);
      console.log(`https: 8: ${name}: deploy ${(deploy.ms / 1000).toFixed(1)}s, plan empty`);
    }
  });
});
