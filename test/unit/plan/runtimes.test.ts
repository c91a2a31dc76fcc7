// Plans and Podman hosts: a plan with a host that does not run Docker names every host's runtime
// (text header and --json), an all-Docker plan names none; on a Podman host Traefik waits for
// Podman's API service (the keeper without systemd, podman.socket with it), and remove of the
// last app stops the keeper.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveDesired } from '../../../src/desired/desired.ts';
import { diff } from '../../../src/plan/diff.ts';
import { renderPlan, planToJson } from '../../../src/views/plan.ts';
import { KEEPER_VERSION_LINE } from '../../../src/runtime/podman-service.ts';
import type { ReachableHost } from '../../../src/probe/types.ts';
import { makeConfig } from '../helpers/config.ts';
import { deployedSnapshot, emptySnapshot } from '../helpers/snapshot.ts';
import { editHost } from '../helpers/scenarios.ts';

const config = makeConfig();
const [H1, H2] = ['h1.example.com', 'h2.example.com'];
const podman = (host: ReachableHost, service: ReachableHost['podmanService'] = { socket: false, systemd: false }): ReachableHost => ({ ...host, runtime: 'podman', podmanService: service });

test('all Docker: the plan names no runtime (text and JSON as before runtimes)', () => {
  const plan = diff(deriveDesired(config, 'v1'), emptySnapshot(config));
  assert.equal(plan.runtimes, undefined);
  assert.equal(planToJson(plan).runtimes, undefined);
  assert.doesNotMatch(renderPlan(plan, { color: false }), /Docker\)|Podman\)/);
});

test('one Podman host: every host is named with its runtime, in the header and in --json', () => {
  const snapshot = editHost(emptySnapshot(config), H2, (h) => podman(h));
  const plan = diff(deriveDesired(config, 'v1'), snapshot);
  assert.deepEqual(plan.runtimes, { [H1]: 'docker', [H2]: 'podman' });
  assert.deepEqual(planToJson(plan).runtimes, { [H1]: 'docker', [H2]: 'podman' });
  const text = renderPlan(plan, { color: false });
  assert.match(text, new RegExp(`^${H1}  \\(batch \\d+, Docker\\)$`, 'm'));
  assert.match(text, new RegExp(`^${H2}  \\(batch \\d+, Podman\\)$`, 'm'));
});

test("a Podman host without systemd: mrsk's keeper starts before Traefik; one of this version that runs is left alone", () => {
  const fresh = diff(deriveDesired(config, 'v1'), editHost(emptySnapshot(config), H1, (h) => podman(h))).steps.filter((s) => s.host === H1);
  const service = fresh.find((s) => s.action.kind === 'podman-service-start');
  const traefik = fresh.find((s) => s.action.kind === 'traefik-run');
  assert.ok(service && traefik, fresh.map((s) => s.id).join(', '));
  assert.deepEqual(service.action, { kind: 'podman-service-start', how: 'keeper' });
  assert.equal(service.cause, "Podman's API socket is missing (Traefik reads the containers through it)");
  assert.ok(traefik.dependsOn.includes(service.id));
  // deployed, socket served, keeper of this version: nothing to do; another version: replaced, Traefik untouched
  const deployed = deployedSnapshot(config, 'v1');
  const running = editHost(deployed, H1, (h) => podman(h, { socket: true, keeper: KEEPER_VERSION_LINE, systemd: false }));
  assert.ok(!diff(deriveDesired(config, 'v1'), running).steps.some((s) => s.host === H1));
  const older = editHost(deployed, H1, (h) => podman(h, { socket: true, keeper: '# mrsk podman keeper v0', systemd: false }));
  const steps = diff(deriveDesired(config, 'v1'), older).steps.filter((s) => s.host === H1);
  assert.deepEqual(steps.map((s) => s.action.kind), ['podman-service-start']);
  assert.match(steps[0]!.cause, /another version \(# mrsk podman keeper v0\)/);
  // the keeper died but the socket is still there: the keeper is started again
  const dead = editHost(deployed, H1, (h) => podman(h, { socket: true, systemd: false }));
  assert.deepEqual(diff(deriveDesired(config, 'v1'), dead).steps.filter((s) => s.host === H1).map((s) => s.action.kind), ['podman-service-start']);
});

test('a Podman host with systemd: podman.socket is enabled when its socket is missing, and no keeper is asked for', () => {
  const deployed = deployedSnapshot(config, 'v1');
  const missing = editHost(deployed, H1, (h) => podman(h, { socket: false, systemd: true }));
  const steps = diff(deriveDesired(config, 'v1'), missing).steps.filter((s) => s.host === H1);
  assert.deepEqual(steps.map((s) => s.action), [{ kind: 'podman-service-start', how: 'systemd' }]);
  const served = editHost(deployed, H1, (h) => podman(h, { socket: true, systemd: true }));
  assert.ok(!diff(deriveDesired(config, 'v1'), served).steps.some((s) => s.host === H1));
});

test('remove of the last app on a Podman host stops the keeper after Traefik; with another app there it stays', () => {
  const deployed = editHost(deployedSnapshot(config, 'v1'), H1, (h) => ({ ...podman(h, { socket: true, keeper: KEEPER_VERSION_LINE, systemd: false }), otherApps: [] }));
  const steps = diff(deriveDesired(config, 'v1'), deployed, { mode: 'destroy' }).steps.filter((s) => s.host === H1);
  const stop = steps.find((s) => s.action.kind === 'podman-service-stop');
  const traefikRemove = steps.find((s) => s.action.kind === 'container-remove' && s.action.name === 'traefik');
  assert.ok(stop && traefikRemove, steps.map((s) => s.id).join(', '));
  assert.ok(stop.dependsOn.includes(traefikRemove.id));
  const shared = editHost(deployed, H1, (h) => ({ ...h, otherApps: ['shop'] }));
  assert.ok(!diff(deriveDesired(config, 'v1'), shared, { mode: 'destroy' }).steps.some((s) => s.host === H1 && s.action.kind === 'podman-service-stop'));
});
