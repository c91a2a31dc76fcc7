// A host left serving two versions (a network cut or a dockerd restart in the middle of a
// deploy): the plan shows the old one leaving, and when Traefik is down too, the old one is
// drained only once the Traefik this plan starts again runs (seen on the fault bed: the drain ran
// beside Traefik's restart and failed on the missing Traefik).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveDesired } from '../../../src/desired/desired.ts';
import { diff } from '../../../src/plan/diff.ts';
import { makeConfig } from '../helpers/config.ts';
import { deployedSnapshot } from '../helpers/snapshot.ts';
import { editContainer } from '../helpers/scenarios.ts';

const H1 = 'h1.example.com';
const config = makeConfig();
const v2 = deployedSnapshot(config, 'v2', deployedSnapshot(config, 'v1'));
const twoServing = editContainer(v2, H1, 'app-web-v1', (c) => ({ ...c, state: 'running', health: 'healthy' }));

test('v2 and the old v1 both running: the plan drains and stops v1, naming why', () => {
  const steps = diff(deriveDesired(config, 'v2'), twoServing).steps.filter((s) => s.host === H1);
  const drain = steps.find((s) => s.action.kind === 'container-drain');
  assert.equal(drain?.cause, 'another running container of role web (version v1)');
  assert.equal(drain?.symbol, '-');
  assert.ok(steps.some((s) => s.action.kind === 'container-stop' && s.action.name === 'app-web-v1'));
  assert.ok(!steps.some((s) => s.action.kind === 'container-run'), 'v2 already serves: nothing new starts');
});

test('two versions and Traefik exited: the drain of the old one waits for the Traefik this plan starts', () => {
  const snapshot = editContainer(twoServing, H1, 'traefik', (c) => ({ ...c, state: 'exited', exitCode: 137 }));
  const steps = diff(deriveDesired(config, 'v2'), snapshot).steps.filter((s) => s.host === H1);
  const traefik = steps.find((s) => s.action.kind === 'traefik-run');
  const drain = steps.find((s) => s.action.kind === 'container-drain');
  assert.ok(traefik && drain, steps.map((s) => s.id).join(', '));
  assert.ok(drain.dependsOn.includes(traefik.id), `drain depends on ${drain.dependsOn.join(', ')}`);
});

test('the new version still starting beside the old one (a killed deploy): the old one leaves only once the new one is healthy and routed', () => {
  const starting = editContainer(twoServing, H1, 'app-web-v2', (c) => ({ ...c, state: 'running', health: 'starting' }));
  const steps = diff(deriveDesired(config, 'v2'), starting).steps.filter((s) => s.host === H1);
  const wait = steps.find((s) => s.action.kind === 'container-wait-healthy');
  const routed = steps.find((s) => s.action.kind === 'traefik-wait-up');
  const drain = steps.find((s) => s.action.kind === 'container-drain');
  assert.ok(wait && routed && drain, steps.map((s) => s.id).join(', '));
  assert.equal(wait.action.kind === 'container-wait-healthy' && wait.action.existing, 'running', 'put back as it was on failure: left running');
  assert.ok(routed.dependsOn.includes(wait.id));
  assert.ok(drain.dependsOn.includes(routed.id), `drain depends on ${drain.dependsOn.join(', ')}`);
  assert.equal(wait.cause, 'container still starting (an interrupted run started it): the other versions leave once it serves');
  assert.ok(!steps.some((s) => s.action.kind === 'container-run' || s.action.kind === 'container-start'), 'nothing new starts');
  // alone (nothing else serves the role), a starting container is left to finish on its own
  const alone = editContainer(editContainer(twoServing, H1, 'app-web-v1', (c) => ({ ...c, state: 'exited', health: undefined })), H1, 'app-web-v2', (c) => ({ ...c, health: 'starting' }));
  assert.ok(!diff(deriveDesired(config, 'v2'), alone).steps.some((s) => s.host === H1 && s.action.kind === 'container-wait-healthy'));
});
