// Hosts that Kamal (1.x) already runs: which containers count as Kamal-made containers of this
// service, what the probe keeps of them, and what the planner does with them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deriveDesired } from '../../../src/desired/desired.ts';
import { diff } from '../../../src/plan/diff.ts';
import { simulate } from '../../../src/plan/simulate.ts';
import { isKamalContainerOf, isKamalHost, isUnmanagedTraefik } from '../../../src/probe/kamal.ts';
import { parseProbeOutput } from '../../../src/probe/parse.ts';
import { probeScript } from '../../../src/probe/script.ts';
import type { ReachableHost } from '../../../src/probe/types.ts';
import { makeConfig } from '../helpers/config.ts';
import { StandInRoot, runtimeStandIn } from './stand-in.ts';
import { kamalContainer, kamalTraefik } from '../helpers/scenarios.ts';
import { deployedSnapshot, foreignContainer, reachableHost, snapshotOf } from '../helpers/snapshot.ts';

const H1 = 'h1.example.com';
const H2 = 'h2.example.com';
const labelled = (labels: Record<string, string>) => ({ labels });

describe('a Kamal-made container of this service (observed-state rule)', () => {
  it('has service=<service>, a role and no mrsk.* label', () => {
    assert.equal(isKamalContainerOf(labelled({ service: 'app', role: 'web' }), 'app', undefined), true);
    assert.equal(isKamalContainerOf(labelled({ service: 'app', role: 'job', destination: '' }), 'app', undefined), true);
  });

  it("is not mrsk's own container, though mrsk's carry Kamal's labels too", () => {
    const mrsk = { service: 'app', role: 'web', 'mrsk.service': 'app', 'mrsk.role': 'web', 'mrsk.version': 'v1' };
    assert.equal(isKamalContainerOf(labelled(mrsk), 'app', undefined), false);
    // any mrsk.* label marks a container mrsk made
    assert.equal(isKamalContainerOf(labelled({ service: 'app', role: 'web', 'mrsk.traefik': 'true' }), 'app', undefined), false);
  });

  it('belongs to the same service and destination only', () => {
    assert.equal(isKamalContainerOf(labelled({ service: 'blog', role: 'web' }), 'app', undefined), false);
    assert.equal(isKamalContainerOf(labelled({ service: 'app', role: 'web', destination: 'staging' }), 'app', undefined), false);
    assert.equal(isKamalContainerOf(labelled({ service: 'app', role: 'web', destination: 'staging' }), 'app', 'staging'), true);
    assert.equal(isKamalContainerOf(labelled({ service: 'app', role: 'web' }), 'app', 'staging'), false);
  });

  it('needs a role (a `service` label alone is anybody\'s, e.g. a Kamal-built image\'s leftover)', () => {
    assert.equal(isKamalContainerOf(labelled({ service: 'app' }), 'app', undefined), false);
    assert.equal(isKamalContainerOf(labelled({ service: 'app', role: '' }), 'app', undefined), false);
  });

  it("Kamal's Traefik is a `traefik` without mrsk.traefik=true; a host counts as Kamal's by its app containers", () => {
    assert.equal(isUnmanagedTraefik(kamalTraefik()), true);
    assert.equal(isUnmanagedTraefik({ name: 'traefik', labels: { 'mrsk.traefik': 'true' } }), false);
    assert.equal(isKamalHost([kamalTraefik()], 'app', undefined), false);
    assert.equal(isKamalHost([kamalTraefik(), kamalContainer('app-web-k1', 'web', { state: 'exited' })], 'app', undefined), true);
  });
});

describe("the probe reads Kamal's containers of the service", () => {
  it("inspects containers by Kamal's labels as well (service, and destination when there is one)", () => {
    const root = new StandInRoot();
    try {
      const containers = [
        { id: 'k1', kamalService: 'app', name: 'app-web-k1' },
        { id: 'k2', kamalService: 'app', kamalDestination: 'prod', name: 'app-web-prod-k1' },
        { id: 'k3', kamalService: 'blog', name: 'blog-web-k1' },
      ];
      const inspected = (destination: string | undefined) => {
        const bin = root.bin(runtimeStandIn('docker', { containers }));
        root.run(probeScript('app', destination), bin.path);
        return bin.calls().filter((call) => call[1] === 'inspect').flatMap((call) => call.slice(call.indexOf('--format') + 2));
      };
      assert.deepEqual(inspected(undefined), ['k1', 'k2']);
      assert.deepEqual(inspected('prod'), ['k2']);
      assert.deepEqual(inspected('staging'), []);
    } finally {
      root.remove();
    }
  });

  it("keeps Kamal-made containers of this service and drops other services' containers", () => {
    const container = (name: string, labels: Record<string, string>) =>
      JSON.stringify({
        Id: `${name}-id`.padEnd(64, '0'),
        Name: `/${name}`,
        Image: `sha256:${'1'.repeat(64)}`,
        Created: '2026-11-19T10:00:00.000Z',
        RestartCount: 0,
        Config: { Image: 'acme/app:k1', Labels: labels },
        State: { Status: 'running', ExitCode: 0 },
      });
    const output = [
      '@@mrsk-probe home@@',
      '/root',
      '@@mrsk-probe version@@',
      '27.3.1',
      '@@mrsk-probe containers@@',
      container('app-web-k1', { service: 'app', role: 'web' }),
      container('blog-web-k1', { service: 'blog', role: 'web' }),
      container('app-web-staging-k1', { service: 'app', role: 'web', destination: 'staging' }),
      container('traefik', {}),
      '@@mrsk-probe end@@',
    ].join('\n');
    const host = parseProbeOutput('h1', output, 'app') as ReachableHost;
    assert.equal(host.status, 'ok');
    assert.deepEqual(host.containers.map((c) => c.name), ['app-web-k1', 'traefik']);
  });
});

describe('planning a host Kamal runs', () => {
  const config = makeConfig();
  const kamalHost = (...extra: ReturnType<typeof kamalContainer>[]) =>
    snapshotOf(
      reachableHost(H1, { containers: [kamalTraefik(), kamalContainer('app-web-k1', 'web'), kamalContainer('app-job-k1', 'job'), ...extra] }),
      reachableHost(H2, { containers: [kamalTraefik(), kamalContainer('app-web-k1', 'web', { host: H2 })] }),
    );

  it("stops Kamal's container only after mrsk's is routed, without a drain (it has no cord, mrsk's Traefik never routes it)", () => {
    const plan = diff(deriveDesired(config, 'v1'), kamalHost());
    const steps = plan.steps.filter((s) => s.host === H1);
    const stop = steps.find((s) => s.id === `${H1}:container:app-web-k1:stop`);
    assert.ok(stop, plan.steps.map((s) => s.id).join('\n'));
    assert.deepEqual(stop.dependsOn, [`${H1}:web:traefik-wait`]);
    assert.equal(stop.cause, 'takeover of Kamal container app-web-k1');
    assert.ok(!steps.some((s) => s.action.kind === 'container-drain'));
    // Kamal's stopped containers are kept (a way back to Kamal), never removed or pruned
    assert.ok(!steps.some((s) => s.action.kind === 'container-remove' && s.action.name.startsWith('app-web-k')));
  });

  it("replaces Kamal's Traefik stop-first, and the plan says HTTP fails until mrsk's container is routed", () => {
    const plan = diff(deriveDesired(config, 'v1'), kamalHost());
    const traefik = plan.steps.filter((s) => s.host === H1 && s.address === `${H1}/traefik`);
    assert.deepEqual(traefik.map((s) => s.action.kind), ['image-pull', 'container-stop', 'container-remove', 'traefik-run']);
    for (const step of traefik) {
      assert.equal(step.symbol, '-/+');
      assert.equal(step.cause, "takeover of Kamal container traefik: HTTP on this host fails from its stop until mrsk's container is routed");
    }
  });

  it('converges: after the takeover the next plan is empty, with Kamal\'s containers stopped beside mrsk\'s', () => {
    const wanted = deriveDesired(config, 'v1');
    const after = simulate(kamalHost(), diff(wanted, kamalHost()));
    const again = diff(wanted, after);
    assert.deepEqual(again.steps, []);
    const h1 = after.hosts[H1] as ReachableHost;
    assert.deepEqual(h1.containers.filter((c) => c.state === 'running').map((c) => c.name).sort(), ['app-job-v1', 'app-web-v1', 'traefik']);
  });

  it("a `traefik` that is not mrsk's still blocks a host where Kamal runs no container of this service", () => {
    const other = snapshotOf(
      reachableHost(H1, { containers: [kamalTraefik(), foreignContainer('blog-web-k1', { service: 'blog', role: 'web' })] }),
      reachableHost(H2),
    );
    const plan = diff(deriveDesired(config, 'v1'), other);
    assert.deepEqual(plan.blockedHosts.map((b) => b.host), [H1]);
    assert.match(plan.blockedHosts[0]!.message, /a container named traefik exists that mrsk does not manage/);
  });

  it("a host where mrsk already took Traefik over stops Kamal's leftover app container without touching Traefik", () => {
    const deployed = deployedSnapshot(config, 'v1');
    const leftover = {
      ...deployed,
      hosts: { ...deployed.hosts, [H2]: { ...(deployed.hosts[H2] as ReachableHost), containers: [...(deployed.hosts[H2] as ReachableHost).containers, kamalContainer('app-web-k1', 'web', { host: H2 })] } },
    };
    const plan = diff(deriveDesired(config, 'v1'), leftover);
    assert.deepEqual(
      plan.steps.map((s) => `${s.symbol} ${s.id}: ${s.cause}`),
      [`- ${H2}:container:app-web-k1:stop: takeover of Kamal container app-web-k1`],
    );
  });
});

describe('consent to take Kamal hosts over (--takeover)', () => {
  const kamalHost = snapshotOf(
    reachableHost(H1, { containers: [kamalTraefik(), kamalContainer('app-web-k1', 'web')] }),
    reachableHost(H2),
  );

  it("names the hosts where Kamal's traefik would be replaced, and only those", async () => {
    const { kamalTraefikHosts } = await import('../../../src/commands/shared/takeover.ts');
    assert.deepEqual(kamalTraefikHosts(kamalHost, [H1, H2], 'app', undefined), [H1]);
    assert.deepEqual(kamalTraefikHosts(kamalHost, [H2], 'app', undefined), []);
    assert.deepEqual(kamalTraefikHosts(kamalHost, [H1], 'blog', undefined), []);
  });

  it('stops without --takeover (exit 64, nothing changed, the flag named) and lets it through with it', async () => {
    const { requireTakeoverConsent } = await import('../../../src/commands/shared/takeover.ts');
    assert.throws(
      () => requireTakeoverConsent(kamalHost, [H1, H2], 'app', undefined, undefined),
      (error: Error & { exitCode?: number }) => {
        assert.equal(error.exitCode, 64);
        assert.match(error.message, /Kamal runs app on h1\.example\.com: taking it over replaces Kamal's traefik stop-first/);
        assert.match(error.message, /Nothing was changed\. `mrsk plan` shows each step; run `mrsk deploy --takeover` to do it/);
        return true;
      },
    );
    assert.doesNotThrow(() => requireTakeoverConsent(kamalHost, [H1, H2], 'app', undefined, true));
    // a host where mrsk already runs Traefik needs no consent: Kamal's app containers go without an outage
    assert.doesNotThrow(() => requireTakeoverConsent(kamalHost, [H2], 'app', undefined, undefined));
  });
});
