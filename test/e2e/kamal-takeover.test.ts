// Hosts that Kamal 1 already runs: a `traefik` container started the Kamal 1 way (catch-all
// labels, --providers.docker, port 80) and app containers with Kamal's labels only (service,
// role, Kamal's Traefik labels, its cord healthcheck). `mrsk plan` names the takeover, and
// `mrsk deploy` refuses without --takeover (nothing changed); with it, it replaces Kamal's
// Traefik stop-first and Kamal's containers start-first under load. What docs/configuration.md ("Coming from Kamal") promises is asserted: requests fail only
// in one short window around the Traefik swap, Kamal's app keeps serving until then, and
// afterwards only mrsk's containers serve and `plan --detailed-exitcode` is 0.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bringUp, curl, load, waitFor, type Bed, type LoadResult } from './harness.ts';

let bed: Bed;
const urls = () => bed.hosts.map((h) => `http://${h}/`);

/** The longest outage the docs allow for the Traefik swap on a host (Kamal's stop → mrsk's app routed). */
const MAX_OUTAGE_MS = 15_000;

function assertOk(result: { code: number; stdout: string; stderr: string }, what: string): void {
  assert.equal(result.code, 0, `${what} exited ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
}

async function sshOk(host: number, command: string, input?: string): Promise<string> {
  const result = await bed.ssh(host, command, { timeoutMs: 120_000, ...(input !== undefined ? { input } : {}) });
  assert.equal(result.code, 0, `on host ${host}: ${command}\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}


const q = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

/** Kamal 1.9's app-container Traefik labels for router/service `demo-web`. */
function kamalTraefikLabels(router: string): string[] {
  return [
    `traefik.http.services.${router}.loadbalancer.server.scheme=http`,
    `traefik.http.routers.${router}.rule=PathPrefix(\`/\`)`,
    `traefik.http.routers.${router}.priority=2`,
    `traefik.http.middlewares.${router}-retry.retry.attempts=5`,
    `traefik.http.middlewares.${router}-retry.retry.initialinterval=500ms`,
    `traefik.http.routers.${router}.middlewares=${router}-retry@docker`,
  ];
}

/** Starts what `kamal deploy` (1.x) leaves on host i: its Traefik and the app containers given. */
async function startKamal(host: number, apps: readonly { name: string; role: string; cmd?: string }[]): Promise<void> {
  const registry = bed.registry;
  await sshOk(host, `docker login -u ${q(bed.env.MRSK_TESTBED_REGISTRY_USER ?? 'mrsk')} --password-stdin ${q(registry)} >/dev/null`, bed.env.MRSK_REGISTRY_PASSWORD);
  const traefik = [
    'docker run --name traefik --detach --restart unless-stopped --publish 80:80',
    '--volume /var/run/docker.sock:/var/run/docker.sock --log-opt max-size=10m',
    ...[
      'traefik.http.routers.catchall.entryPoints=http',
      'traefik.http.routers.catchall.rule=PathPrefix(`/`)',
      'traefik.http.routers.catchall.service=unavailable',
      'traefik.http.routers.catchall.priority=1',
      'traefik.http.services.unavailable.loadbalancer.server.port=0',
    ].map((label) => `--label ${q(label)}`),
    q(`${registry}/traefik:v3.6`),
    '--providers.docker --log.level=DEBUG',
  ].join(' ');
  await sshOk(host, traefik);
  for (const app of apps) {
    const cord = `/root/.kamal/cords/${app.name}`;
    const web = app.role === 'web';
    const run = [
      `mkdir -p ${cord} && touch ${cord}/cord &&`,
      `docker run --detach --restart unless-stopped --name ${app.name} --hostname kamal-${app.role}`,
      `--env KAMAL_CONTAINER_NAME=${app.name} --env APP_SECRET=kamal-secret --log-opt max-size=10m`,
      `--label service=demo --label role=${app.role}`,
      ...(web
        ? [
            ...kamalTraefikLabels('demo-web').map((label) => `--label ${q(label)}`),
            `--health-cmd ${q('(wget -q -O /dev/null http://localhost:3000/up || exit 1) && (stat /tmp/kamal-cord/cord > /dev/null || exit 1)')}`,
            '--health-interval 1s',
            `--volume ${cord}:/tmp/kamal-cord`,
          ]
        : []),
      q(`${registry}/demo-app:v1`),
      app.cmd ?? '',
    ].join(' ');
    await sshOk(host, run);
  }
}

/** Names of the running containers on host i with their mrsk.service label (empty for Kamal's). */
async function runningOn(host: number): Promise<string[]> {
  const out = await sshOk(host, `docker ps --format '{{.Names}} {{.Label "mrsk.service"}}{{.Label "mrsk.traefik"}}'`);
  return out.split('\n').map((line) => line.trim()).filter(Boolean).sort();
}

/** The one contiguous stretch of failures per host, in ms since the load started. */
function failureWindows(traffic: LoadResult): Record<string, { first: number; last: number; count: number }> {
  const windows: Record<string, { first: number; last: number; count: number }> = {};
  for (const failure of traffic.failures) {
    const window = (windows[failure.url] ??= { first: failure.at, last: failure.at, count: 0 });
    window.last = failure.at;
    window.count += 1;
  }
  return windows;
}

describe('taking over hosts that Kamal runs', { timeout: 900_000 }, () => {
  before(async () => {
    bed = await bringUp(2);
    await bed.mrsk(['remove', '-y']);
    for (const host of [1, 2]) {
      // a clean slate: Kamal's containers and Traefik from an interrupted earlier run
      await sshOk(host, 'ids=$(docker ps -aq --filter label=service=demo; docker ps -aq --filter name=^traefik$); [ -z "$ids" ] || docker rm -f $ids >/dev/null; rm -rf /root/.kamal');
    }
    // host 1: Kamal runs web at its own version; host 2: Kamal deployed v1 itself (web holds the
    // name mrsk's v1 needs) and the job.
    await startKamal(1, [{ name: 'demo-web-kamal1', role: 'web' }]);
    await startKamal(2, [
      { name: 'demo-web-v1', role: 'web' },
      { name: 'demo-job-kamal1', role: 'job', cmd: '/worker.sh --queue default' },
    ]);
    for (const url of urls()) {
      await waitFor(() => `Kamal's app answering on ${url}`, 60_000, async () => {
        const answer = await curl(url);
        return answer.status === 200 && answer.body.includes('kamal-web') ? true : undefined;
      });
    }
  });
  after(async () => {
    await bed?.tearDown();
  });

  test('plan names the takeover of Kamal containers and of its Traefik', async () => {
    const plan = await bed.mrsk(['plan', '--version', 'v1']);
    assertOk(plan, 'plan');
    assert.match(plan.stdout, /takeover of Kamal container traefik: HTTP on this\s+host fails from its stop until mrsk's container is\s+routed/);
    assert.match(plan.stdout, /takeover of Kamal container demo-web-kamal1/);
    assert.match(plan.stdout, /takeover of Kamal container demo-web-v1/);
    assert.match(plan.stdout, /takeover of Kamal container demo-job-kamal1/);
    const detailed = await bed.mrsk(['plan', '--version', 'v1', '--verbose']);
    assertOk(detailed, 'plan --verbose');
    assert.match(detailed.stdout, /rename the running demo-web-v1 to\s+demo-web-v1_replaced_/);
  });

  test('deploy without --takeover stops before anything changes (exit 64) and Kamal keeps serving', async () => {
    const before = [await runningOn(1), await runningOn(2)];
    const refused = await bed.mrsk(['deploy', '--skip-push', '--version', 'v1'], { timeoutMs: 120_000 });
    assert.equal(refused.code, 64, refused.stdout + refused.stderr);
    assert.match(refused.stderr, /Kamal runs demo on .*taking them over replaces Kamal's traefik stop-first/s);
    assert.match(refused.stderr, /Nothing was changed\..*mrsk deploy --takeover/s);
    assert.deepEqual([await runningOn(1), await runningOn(2)], before);
    for (const url of urls()) assert.match((await curl(url)).body, /kamal-web/);
  });

  test('deploy under load: Kamal serves until the Traefik swap, failures only in that short window, then only mrsk serves', async () => {
    const stop = new AbortController();
    const loadStarted = performance.now();
    const traffic = load({ urls: urls(), rps: 50, durationMs: 240_000, signal: stop.signal });
    await new Promise((r) => setTimeout(r, 1000));
    let deploy;
    let deployEnded = Infinity;
    try {
      deploy = await bed.mrsk(['deploy', '--skip-push', '--version', 'v1', '--takeover'], { timeoutMs: 300_000 });
      deployEnded = performance.now() - loadStarted;
      await new Promise((r) => setTimeout(r, 1000));
    } finally {
      stop.abort();
    }
    const result = await traffic;
    assertOk(deploy, 'deploy');
    const windows = failureWindows(result);
    console.log(`takeover: ${result.sent} requests, ${result.failed} failed; deploy ended at ${Math.round(deployEnded)} ms; windows ${JSON.stringify(windows)}; served ${JSON.stringify(result.bodies)}`);
    const kinds: Record<string, number> = {};
    for (const f of result.failures) kinds[f.status === 0 ? (f.error ?? 'no answer') : `HTTP ${f.status}`] = (kinds[f.status === 0 ? (f.error ?? 'no answer') : `HTTP ${f.status}`] ?? 0) + 1;
    console.log(`failures by kind: ${JSON.stringify(kinds)}`);
    console.log(deploy.stdout.split('\n').filter((line) => /traefik|kamal|routes/i.test(line)).join('\n'));
    assert.ok(result.sent >= 100, `the load generator sent only ${result.sent} requests`);
    // Kamal's app served before the swap, mrsk's after it
    assert.ok(Object.keys(result.bodies).some((body) => body.endsWith('kamal-web')), "Kamal's container never answered");
    assert.ok(Object.keys(result.bodies).some((body) => body.startsWith('v1 ') && !body.endsWith('kamal-web')), "mrsk's container never answered");
    for (const [url, window] of Object.entries(windows)) {
      assert.ok(window.last - window.first <= MAX_OUTAGE_MS, `${url} failed for ${window.last - window.first} ms (more than ${MAX_OUTAGE_MS})`);
      // within the window every request failed or was answered; none failed outside it (one window)
      const between = result.failures.filter((f) => f.url === url && (f.at < window.first || f.at > window.last));
      assert.equal(between.length, 0);
    }
    // no request sent after the deploy finished failed
    const late = result.failures.filter((f) => f.at >= deployEnded);
    assert.deepEqual(late, [], 'requests failed after the deploy finished');

    // afterwards: mrsk's Traefik and containers run, Kamal's are stopped (kept, like Kamal's own old versions)
    assert.deepEqual(await runningOn(1), ['demo-web-v1 demo', 'traefik true']);
    assert.deepEqual(await runningOn(2), ['demo-job-v1 demo', 'demo-web-v1 demo', 'traefik true']);
    const stopped = await sshOk(2, `docker ps -a --filter status=exited --filter label=service=demo --format '{{.Names}}'`);
    assert.match(stopped, /demo-job-kamal1/);
    for (const url of urls()) {
      const answer = await curl(url);
      assert.equal(answer.status, 200);
      assert.match(answer.body, /^v1 /);
      assert.doesNotMatch(answer.body, /kamal-web/);
    }
    const plan = await bed.mrsk(['plan', '--detailed-exitcode']);
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
    assert.match(plan.stdout, /No changes\. Hosts match the configuration\./);
  });
});
