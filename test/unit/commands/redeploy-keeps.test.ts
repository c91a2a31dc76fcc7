// redeploy leaves Traefik alone: with a changed Traefik spec the plan replaces it stop-first
// (pull, stop, remove, run); redeploy must drop all of those, not only the run, or a host would
// be left with its Traefik stopped and removed and none started.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { desired } from '../../../src/desired/desired.ts';
import { diff } from '../../../src/plan/diff.ts';
import { redeployKeeps } from '../../../src/commands/deploy.ts';
import { scenarios } from '../helpers/scenarios.ts';

function scenario(name: string) {
  const found = scenarios().find((s) => s.name === name);
  assert.ok(found, `scenario ${name}`);
  return found;
}

test('redeploy drops every Traefik step of a stop-first Traefik replacement', () => {
  const s = scenario('traefik-changed');
  const plan = diff(desired(s.config, s.version), s.snapshot, s.options);
  const traefikKinds = plan.steps.filter((step) => step.address.endsWith('/traefik')).map((step) => step.action.kind);
  assert.ok(traefikKinds.includes('container-stop') && traefikKinds.includes('traefik-run'), `the plan replaces Traefik: ${traefikKinds.join(', ')}`);
  const kept = plan.steps.filter(redeployKeeps);
  assert.deepEqual(kept.filter((step) => step.address.endsWith('/traefik')), []);
});

test('redeploy keeps the app steps of a new version', () => {
  const s = scenario('new-version');
  const plan = diff(desired(s.config, 'v2'), s.snapshot, s.options);
  assert.ok(plan.steps.length > 0);
  assert.deepEqual(plan.steps.filter(redeployKeeps).map((step) => step.id), plan.steps.map((step) => step.id));
});
