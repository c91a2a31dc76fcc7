// The test bed's own health checks, run before any deploy scenario relies on it: real SSH, each
// host's own dockerd, a registry that insists on a login, the real Traefik routing to the app,
// no route off the test net, `mrsk plan` on fresh hosts, and, last, `down` leaving nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { type Bed, bringUp, load, mrskHasCommand, run } from './harness.ts';

let bed: Bed;
before(async () => {
  bed = await bringUp(2);
});
after(async () => {
  await bed?.tearDown();
});

const prefix = () => bed.env.MRSK_TESTBED_PREFIX ?? 'mrsk';
const bedDir = () => bed.env.MRSK_TESTBED_DIR ?? '/tmp/mrsk-testbed';

/** Shell lines that log in to the bed's registry with a throwaway DOCKER_CONFIG (password on stdin). */
const loginFromStdin = (registry: string) => `set -e
export DOCKER_CONFIG=$(mktemp -d); trap 'rm -rf "$DOCKER_CONFIG"' EXIT
docker login -u mrsk --password-stdin ${registry} >/dev/null 2>&1
`;

test('every host answers SSH with its own name, and its plain `docker` is that host\'s own daemon', async () => {
  assert.equal(bed.hosts.length, 2);
  for (const [index, address] of bed.hosts.entries()) {
    const hostIndex = index + 1;
    const result = await bed.ssh(hostIndex, `hostname; docker info --format '{{.Name}} {{.DockerRootDir}}'; ip -4 -o addr show eth0`);
    assert.equal(result.code, 0, result.stderr);
    const [hostname, info, addr] = result.stdout.trim().split('\n');
    assert.equal(hostname, `${prefix()}-h${hostIndex}`);
    assert.equal(info, `${prefix()}-h${hostIndex} ${bedDir()}/h${hostIndex}/docker`);
    assert.match(addr ?? '', new RegExp(`inet ${address.replaceAll('.', '\\.')}/24`));
  }
});

test('a host pulls from the registry with the bed login; no login or a wrong password is refused', async () => {
  const image = `${bed.registry}/demo-app:v1`;
  const withLogin = await bed.ssh(1, `${loginFromStdin(bed.registry)}docker pull -q ${image}`, {
    input: bed.env.MRSK_REGISTRY_PASSWORD ?? '',
  });
  assert.equal(withLogin.code, 0, withLogin.stderr);
  assert.equal(withLogin.stdout.trim(), image);

  // the image is now local, yet a pull still asks the registry, which wants a login
  const anonymous = await bed.ssh(1, `DOCKER_CONFIG=$(mktemp -d) docker pull -q ${image}`);
  assert.notEqual(anonymous.code, 0);
  assert.match(anonymous.stderr, /no basic auth credentials|unauthorized/i);

  const wrongPassword = await bed.ssh(1, `DOCKER_CONFIG=$(mktemp -d) docker login -u mrsk --password-stdin ${bed.registry}`, {
    input: 'not-the-password',
  });
  assert.notEqual(wrongPassword.code, 0);
  assert.match(wrongPassword.stderr, /unauthorized|incorrect username or password/i);

  const cleanup = await bed.ssh(1, `docker rmi -f ${image} >/dev/null`);
  assert.equal(cleanup.code, 0, cleanup.stderr);
});

test('no host can send traffic beyond the test net: the kernel has no route (no packet is sent)', async () => {
  for (const hostIndex of [1, 2]) {
    const offNet = await bed.ssh(hostIndex, 'ip route get 198.51.100.1');
    assert.notEqual(offNet.code, 0);
    assert.match(offNet.stderr, /unreachable/i);
    const registryRoute = await bed.ssh(hostIndex, `ip route get ${bed.registry.split(':')[0]}`);
    assert.equal(registryRoute.code, 0, registryRoute.stderr);
    assert.match(registryRoute.stdout, /dev eth0/);
  }
});

test('the real Traefik image runs on a host, reads that host\'s docker.sock, routes to the app and its API answers', async () => {
  const registry = bed.registry;
  const traefik = `${registry}/traefik:v3.6`;
  const app = `${registry}/demo-app:v1`;
  const version = await bed.ssh(1, `${loginFromStdin(registry)}docker pull -q ${traefik} >/dev/null; docker run --rm ${traefik} version`, {
    input: bed.env.MRSK_REGISTRY_PASSWORD ?? '',
  });
  assert.equal(version.code, 0, version.stderr);
  assert.match(version.stdout, /Version:\s+3\.6\.\d+/);

  const start = await bed.ssh(
    1,
    `${loginFromStdin(registry)}docker pull -q ${app} >/dev/null
docker network create bedcheck >/dev/null
docker run -d --name bedcheck-app --network bedcheck --label traefik.enable=true \\
  --label 'traefik.http.routers.bedcheck.rule=PathPrefix(\`/\`)' \\
  --label traefik.http.services.bedcheck.loadbalancer.server.port=3000 ${app} >/dev/null
docker run -d --name bedcheck-traefik --network bedcheck -v /var/run/docker.sock:/var/run/docker.sock:ro \\
  -p 8081:80 ${traefik} --providers.docker=true --providers.docker.exposedbydefault=false \\
  --providers.docker.network=bedcheck --api.insecure=true --entrypoints.web.address=:80 >/dev/null`,
    { input: bed.env.MRSK_REGISTRY_PASSWORD ?? '' },
  );
  try {
    assert.equal(start.code, 0, start.stderr);
    // the way mrsk reads Traefik's API: wget inside the Traefik container
    const api = await bed.ssh(
      1,
      `for i in $(seq 100); do
  out=$(docker exec bedcheck-traefik wget -q -O - http://127.0.0.1:8080/api/http/services/bedcheck@docker 2>/dev/null) &&
    case $out in *'"UP"'*) echo "$out"; exit 0 ;; esac
  sleep 0.1
done
exit 1`,
    );
    assert.equal(api.code, 0, `Traefik never listed bedcheck@docker as UP: ${api.stderr}`);
    const service = JSON.parse(api.stdout) as { provider: string; serverStatus: Record<string, string> };
    assert.equal(service.provider, 'docker');
    assert.deepEqual(Object.values(service.serverStatus), ['UP']);

    const list = await bed.ssh(1, 'docker exec bedcheck-traefik wget -q -O - http://127.0.0.1:8080/api/http/services');
    assert.equal(list.code, 0, list.stderr);
    const names = (JSON.parse(list.stdout) as { name: string }[]).map((s) => s.name);
    assert.ok(names.includes('bedcheck@docker'), `services: ${names.join(', ')}`);

    // through Traefik from outside the host: the app's "<version> <hostname>"
    const container = await bed.ssh(1, "docker inspect -f '{{.Config.Hostname}}' bedcheck-app");
    const answer = await bed.curl(`http://${bed.hosts[0]}:8081/`);
    assert.equal(answer.status, 200, answer.error);
    assert.equal(answer.body.trim(), `v1 ${container.stdout.trim()}`);

    // the harness's load generator keeps its rate, stops by itself and sees every answer
    const steady = await load({ urls: [`http://${bed.hosts[0]}:8081/`], rps: 25, durationMs: 1000 });
    assert.ok(steady.sent >= 23 && steady.sent <= 26, `sent ${steady.sent} in 1 s at 25 rps`);
    assert.equal(steady.failed, 0, JSON.stringify(steady.failures));
    assert.deepEqual(steady.bodies, { [`v1 ${container.stdout.trim()}`]: steady.sent });
    // ...and counts requests nobody answers (nothing listens on 8082) as failures
    const refused = await load({ urls: [`http://${bed.hosts[0]}:8082/`], rps: 25, durationMs: 200 });
    assert.ok(refused.sent >= 4);
    assert.equal(refused.failed, refused.sent);
    assert.ok(refused.failures.every((f) => f.status === 0 && f.error === 'ECONNREFUSED'), JSON.stringify(refused.failures));
  } finally {
    const cleanup = await bed.ssh(1, 'docker rm -f bedcheck-app bedcheck-traefik; docker network rm bedcheck; docker rmi -f $(docker images -q)');
    assert.equal(cleanup.code, 0, cleanup.stderr);
  }
});

test('mrsk plan against fresh hosts shows a first deploy and changes nothing', async (t) => {
  assert.ok(await mrskHasCommand('plan'), 'mrsk plan is a registered command');
  const plan = await bed.mrsk(['plan', '--version', 'v1', '--detailed-exitcode']);
  const output = plan.stdout + plan.stderr;
  assert.equal(plan.code, 2, `plan with changes must exit 2:\n${output}`);
  assert.match(plan.stdout, /Plan: [1-9]\d* to add, 0 to change, 0 to replace, 0 to destroy\./);
  for (const address of bed.hosts) assert.ok(plan.stdout.includes(address), `plan names ${address}:\n${plan.stdout}`);
  assert.match(plan.stdout, /demo-web/);
  assert.match(plan.stdout, /demo-job/);
  assert.match(plan.stdout, /traefik/);
  // secrets are references in the plan, never values
  assert.ok(!output.includes(bed.appSecret), 'the app secret leaked into plan output');
  assert.ok(!output.includes(bed.env.MRSK_REGISTRY_PASSWORD ?? '\0'), 'the registry password leaked into plan output');

  // plan is read-only: the hosts still run nothing
  for (const hostIndex of [1, 2]) {
    const containers = await bed.ssh(hostIndex, 'docker ps -aq');
    assert.equal(containers.code, 0, containers.stderr);
    assert.equal(containers.stdout.trim(), '', `host ${hostIndex} has containers after plan`);
  }
});

/** Everything of the bed that could outlive `down`, as readable strings; empty when clean. */
async function leftovers(bedPrefix: string, dir: string): Promise<string[]> {
  const found: string[] = [];
  const netns = existsSync('/run/netns') ? readdirSync('/run/netns') : [];
  found.push(...netns.filter((n) => n.startsWith(`${bedPrefix}-`)).map((n) => `netns ${n}`));
  const links = readdirSync('/sys/class/net');
  found.push(...links.filter((l) => l === `${bedPrefix}-br0` || l.startsWith(`veth-${bedPrefix}-`)).map((l) => `link ${l}`));
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  found.push(...mounts.filter((m) => m.split(' ')[4]?.startsWith(dir)).map((m) => `mount ${m.split(' ')[4]}`));
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmdline.includes(dir)) found.push(`process ${pid}: ${cmdline.slice(0, 120)}`);
    } catch {
      // the process ended while we looked
    }
  }
  const rules = await run('iptables-save', []);
  found.push(...rules.stdout.split('\n').filter((r) => r.includes(`${bedPrefix}-testbed`)).map((r) => `iptables ${r}`));
  for (const controller of existsSync('/sys/fs/cgroup') ? readdirSync('/sys/fs/cgroup') : []) {
    const groupRoot = `/sys/fs/cgroup/${controller}`;
    try {
      found.push(...readdirSync(groupRoot).filter((g) => g.startsWith(`${bedPrefix}-`)).map((g) => `cgroup ${groupRoot}/${g}`));
    } catch {
      // a file, not a hierarchy
    }
  }
  if (existsSync(dir)) found.push(`folder ${dir}`);
  return found;
}

test('down removes everything: no namespaces, processes, mounts, veths, iptables rules, cgroups or files', async (t) => {
  if (process.env.MRSK_E2E_KEEP_BED === '1') {
    // kept for a person to look around: then the bed must still answer instead
    const alive = await bed.ssh(1, 'true');
    assert.equal(alive.code, 0, `MRSK_E2E_KEEP_BED=1 keeps the bed up, but host 1 does not answer: ${alive.stderr}`);
    return;
  }
  const bedPrefix = prefix();
  const dir = bedDir();
  // running containers with a restart policy, as a deploy leaves them, must not survive down
  for (const hostIndex of [1, 2]) {
    const started = await bed.ssh(
      hostIndex,
      `${loginFromStdin(bed.registry)}docker run -d --restart always --name bedcheck-sleeper ${bed.registry}/busybox:testbed sleep 600`,
      { input: bed.env.MRSK_REGISTRY_PASSWORD ?? '' },
    );
    assert.equal(started.code, 0, started.stderr);
  }
  assert.ok((await leftovers(bedPrefix, dir)).some((l) => l.startsWith('netns')), 'the bed should be visible before down');
  // the kernel identities of the bed's network namespaces: no process may keep one alive
  const bedNetns = new Set(
    readdirSync('/run/netns').filter((n) => n.startsWith(`${bedPrefix}-`)).map((n) => `net:[${statSync(`/run/netns/${n}`).ino}]`),
  );
  assert.equal(bedNetns.size, 3, 'builder + 2 hosts');
  const downStarted = performance.now();
  await bed.tearDown();
  const downMs = Math.round(performance.now() - downStarted);
  assert.deepEqual(await leftovers(bedPrefix, dir), []);
  const inBedNetns = readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((pid) => {
      try {
        return bedNetns.has(readlinkSync(`/proc/${pid}/ns/net`));
      } catch {
        return false;
      }
    });
  assert.deepEqual(inBedNetns, [], 'processes still in a bed network namespace');
  // (no request to the registry address here: without the bridge it would route off the test net)
  console.log(`time: bed down ${(downMs / 1000).toFixed(1)}s`);
});
