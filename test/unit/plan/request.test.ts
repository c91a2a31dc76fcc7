// The planner's intents (src/plan/request.ts): what each day-two command plans, as golden text
// and JSON (fixtures/plans/intent-<name>.*; UPDATE_GOLDEN=1 rewrites them), plus the rules each
// intent must keep whatever the snapshot: idempotence, never a foreign container, prune never
// touches a running one, restore-release never pulls, remove leaves shared parts to other apps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveDesired } from '../../../src/desired/desired.ts';
import { diff } from '../../../src/plan/diff.ts';
import { planToJson, renderPlan } from '../../../src/views/plan.ts';
import { simulate } from '../../../src/plan/simulate.ts';
import type { Plan } from '../../../src/plan/types.ts';
import type { ReachableHost } from '../../../src/probe/types.ts';
import { H1, H2, intentScenarios, type IntentScenario } from '../helpers/intent-scenarios.ts';
import { editHost } from '../helpers/scenarios.ts';
import { golden } from '../helpers/golden.ts';


const planOf = (s: IntentScenario): Plan => diff(deriveDesired(s.config, s.version), s.snapshot, s.request);
const scenario = (name: string): IntentScenario => intentScenarios().find((s) => s.name === name)!;
const kinds = (plan: Plan, host?: string) => plan.steps.filter((s) => !host || s.host === host).map((s) => s.action.kind);
const containerOf = (s: IntentScenario, host: string, id: string | undefined) => (s.snapshot.hosts[host] as ReachableHost).containers.find((c) => c.id === id);

for (const s of intentScenarios()) {
  test(`intent ${s.name}: ${s.title}`, () => {
    const plan = planOf(s);
    golden(`intent-${s.name}.txt`, renderPlan(plan, { color: false, verbose: true }));
    golden(`intent-${s.name}.json`, `${JSON.stringify(planToJson(plan), null, 2)}\n`);
    // every container a step names by id is this app's or the managed Traefik
    for (const step of plan.steps) {
      const id = step.precondition.containerId;
      if (!id) continue;
      const container = containerOf(s, step.host, id);
      assert.ok(container, `${step.id} names a container the host does not have`);
      assert.ok(container.labels['mrsk.service'] === 'app' || container.labels['mrsk.traefik'] === 'true', `${step.id} touches a foreign container`);
    }
    if (s.idempotent) {
      const after = diff(deriveDesired(s.config, s.version), simulate(s.snapshot, plan), s.request);
      assert.deepEqual(after.steps.map((step) => step.id), [], 'planning the same intent again after it ran plans nothing');
    }
  });
}

test('redeploy never plans a Traefik step, even when Traefik differs', () => {
  const plan = planOf(scenario('redeploy-skips-traefik'));
  assert.ok(plan.steps.some((s) => s.action.kind === 'container-run'));
  assert.deepEqual(plan.steps.filter((s) => s.address.endsWith('/traefik')), []);
  assert.ok(plan.steps.every((s) => s.dependsOn.every((d) => plan.steps.some((o) => o.id === d))), 'no step waits for a step that is not planned');
});

test('prune removes only stopped containers beyond retention, never a running one, and nothing is started or pulled', () => {
  const s = scenario('prune');
  const plan = planOf(s);
  const removed = plan.steps.filter((st) => st.action.kind === 'container-remove').map((st) => containerOf(s, st.host, st.precondition.containerId)!);
  assert.ok(removed.length > 0);
  assert.ok(removed.every((c) => c.state !== 'running'));
  assert.deepEqual([...new Set(kinds(plan))].sort(), ['container-remove', 'image-remove']);
  // one retained stopped container per role is kept: v3 of web on each host
  assert.ok(!removed.some((c) => c.name === 'app-web-v3'));
  assert.ok(plan.steps.some((st) => st.action.kind === 'image-remove' && (st.action as { image: string }).image.endsWith(':v0')));
});

test('prune images removes no container and keeps every image a container uses', () => {
  const plan = planOf(scenario('prune-images'));
  assert.deepEqual(kinds(plan), ['image-remove']);
  assert.deepEqual(plan.steps.map((st) => (st.action as { image: string }).image), ['registry.example.com/acme/app:v0']);
});

test('remove: everything of the app; Traefik and the network only where no other app runs', () => {
  const alone = planOf(scenario('remove-alone'));
  for (const host of [H1, H2]) {
    const k = kinds(alone, host);
    assert.ok(k.includes('state-remove') && k.includes('network-remove') && k.includes('registry-logout'), `${host}: ${k.join(', ')}`);
    assert.ok(alone.steps.some((st) => st.host === host && st.address === `${host}/traefik`));
    // the state folder goes last
    assert.equal(alone.steps.filter((st) => st.host === host).at(-1)!.action.kind, 'state-remove');
  }
  const shared = planOf(scenario('remove-shared'));
  assert.deepEqual(shared.steps.filter((st) => st.address.endsWith('/traefik') || st.action.kind === 'network-remove'), []);
  assert.ok(kinds(shared).includes('container-remove'));
});

/** Step ids in an order where each comes after every step it waits for; fails on a cycle. */
function dependencyOrder(plan: Plan): string[] {
  const done = new Set<string>();
  const order: string[] = [];
  let left = [...plan.steps];
  while (left.length > 0) {
    const ready = left.filter((st) => st.dependsOn.every((d) => done.has(d)));
    assert.ok(ready.length > 0, `steps that wait for each other (a cycle): ${left.map((st) => `${st.id} after [${st.dependsOn.join(', ')}]`).join('; ')}`);
    for (const st of ready) done.add(st.id), order.push(st.id);
    left = left.filter((st) => !done.has(st.id));
  }
  return order;
}

test('remove of an app with one container per host: Traefik waits for the app, never for its own removal (every step can run)', () => {
  const s = scenario('remove-alone');
  // one container of the app on each host (it was two): the list of removes held one step
  const single = (h: ReachableHost): ReachableHost => ({ ...h, containers: h.containers.filter((c) => c.labels['mrsk.service'] !== 'app' || c.name === 'app-web-v2') });
  const plan = planOf({ ...s, snapshot: editHost(editHost(s.snapshot, H1, single), H2, single) });
  for (const host of [H1, H2]) {
    const byId = new Map(plan.steps.filter((st) => st.host === host).map((st) => [st.id, st]));
    const stop = byId.get(`${host}:container:traefik:stop`);
    assert.ok(stop, `${host}: Traefik is stopped (no other app runs there)`);
    assert.deepEqual(stop.dependsOn, [`${host}:container:app-web-v2:remove`]);
    assert.equal(kinds(plan, host).filter((k) => k === 'container-remove').length, 2, 'the app container and Traefik');
  }
  const order = dependencyOrder(plan);
  assert.equal(order.length, plan.steps.length);
  for (const host of [H1, H2]) assert.equal(order.filter((id) => id.startsWith(`${host}:`)).at(-1), `${host}:state:remove`);
});

test('every intent plans steps that can all run: no step waits, even through others, for itself', () => {
  for (const s of intentScenarios()) assert.equal(dependencyOrder(planOf(s)).length, planOf(s).steps.length, s.name);
});

test('remove keeps the registry login where another app runs (docker has one login per registry for all apps on a host)', () => {
  const s = scenario('remove-shared');
  const request = { ...s.request, registryLogout: { server: 'registry.example.com' } };
  assert.deepEqual(kinds(planOf({ ...s, request })).filter((k) => k === 'registry-logout'), []);
  assert.equal(kinds(planOf(scenario('remove-alone'))).filter((k) => k === 'registry-logout').length, 2);
});

test("remove and prune untag only the app's own tags of an image another app shares (same id, another repository)", () => {
  const blog = 'registry.example.com/acme/blog:v9';
  // the other app's tag first: the one a step naming tags[0] would have removed
  const share = (h: ReachableHost): ReachableHost => ({ ...h, images: h.images.map((image) => (image.tags.some((t) => t.endsWith('/app:v1') || t.endsWith('/app:v0')) ? { ...image, tags: [blog, ...image.tags] } : image)) });
  for (const name of ['remove-shared', 'prune-images']) {
    const s = scenario(name);
    const plan = planOf({ ...s, snapshot: editHost(s.snapshot, H1, share) });
    const images = plan.steps.filter((st) => st.host === H1 && st.action.kind === 'image-remove').map((st) => (st.action as { image: string }).image);
    assert.ok(images.length > 0, `${name}: some image of the app goes`);
    assert.ok(images.every((image) => image.startsWith('registry.example.com/acme/app')), `${name}: ${images.join(', ')}`);
  }
});

test('remove keeps Traefik when the probe could not say which apps the host has', () => {
  const s = scenario('remove-alone');
  const unknown = { ...s, snapshot: { ...s.snapshot, hosts: Object.fromEntries(Object.entries(s.snapshot.hosts).map(([k, h]) => { const { otherApps: _o, ...rest } = h as ReachableHost; return [k, rest]; })) } };
  assert.deepEqual(planOf(unknown).steps.filter((st) => st.address.endsWith('/traefik')), []);
});

test('traefik reboot replaces each host in a batch of its own, waiting until it routes the app before the next', () => {
  const plan = planOf(scenario('traefik-reboot'));
  assert.deepEqual([...new Set(plan.steps.map((st) => `${st.host}:${st.batch}`))], [`${H1}:0`, `${H2}:1`]);
  assert.equal(plan.batchWait, 0);
  for (const host of [H1, H2]) {
    const k = kinds(plan, host);
    assert.deepEqual(k.filter((kind) => kind !== 'image-pull').slice(0, 3), ['container-stop', 'container-remove', 'traefik-run']);
    assert.ok(k.includes('traefik-wait-ready') && k.includes('traefik-wait-up'), k.join(', '));
  }
  assert.ok(plan.steps.every((st) => st.address.endsWith('/traefik') && st.symbol === '-/+'));
});

test('traefik boot and reboot plan no app container step', () => {
  for (const name of ['traefik-boot', 'traefik-reboot', 'traefik-stop', 'traefik-start', 'traefik-restart', 'traefik-remove']) {
    const plan = planOf(scenario(name));
    assert.ok(plan.steps.length > 0, name);
    assert.ok(plan.steps.every((st) => st.address.endsWith('/traefik') || st.address.includes('/network/') || st.address.includes('/image/traefik')), `${name}: ${plan.steps.map((st) => st.address).join(', ')}`);
  }
});

test('app stop drains a routed container before it stops, and touches no Traefik', () => {
  const plan = planOf(scenario('app-stop'));
  const web = plan.steps.filter((st) => st.host === H1 && st.address === `${H1}/container/app-web-v1`).map((st) => st.action.kind);
  assert.deepEqual(web, ['container-drain', 'container-stop']);
  assert.ok(plan.steps.every((st) => !st.address.endsWith('/traefik')));
});

test('app start waits until the started container is healthy and routed', () => {
  const plan = planOf(scenario('app-start'));
  assert.deepEqual(kinds(plan, H1).filter((k) => k !== 'container-start').sort(), ['container-wait-healthy', 'container-wait-healthy', 'traefik-wait-up']);
});

test('app start of a version that is not there blocks the hosts instead of deploying', () => {
  const plan = planOf(scenario('app-start-missing'));
  assert.deepEqual(plan.steps, []);
  assert.deepEqual(plan.blockedHosts.map((b) => b.host), [H1, H2]);
  assert.match(plan.blockedHosts[0]!.message, /no container of version v9 .*mrsk deploy/);
});

test('restore-release never pulls: a host without the image is blocked', () => {
  const ok = planOf(scenario('restore-release'));
  assert.ok(!kinds(ok).includes('image-pull'));
  assert.ok(kinds(ok).includes('container-start'));
  const gone = planOf(scenario('restore-release-image-gone'));
  assert.ok(!kinds(gone).includes('image-pull'));
  assert.deepEqual(gone.blockedHosts.map((b) => b.host), [H2]);
  assert.match(gone.blockedHosts[0]!.message, /no longer on the host/);
});
