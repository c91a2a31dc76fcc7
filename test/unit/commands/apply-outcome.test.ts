// A failed run's message says which hosts it lost half-way through a cutover (they may serve two
// versions), and only those: a verified verdict (never healthy, Traefik not running) says its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeHalfCutover, halfCutovers } from '../../../src/commands/shared/apply-outcome.ts';
import { deriveDesired } from '../../../src/desired/desired.ts';
import { diff } from '../../../src/plan/diff.ts';
import { DeployError, HostError, RemoteCommandError } from '../../../src/errors.ts';
import type { StepStatus } from '../../../src/apply/executor.ts';
import { makeConfig } from '../helpers/config.ts';
import { deployedSnapshot } from '../helpers/snapshot.ts';

const H1 = 'h1.example.com';
const config = makeConfig();
const plan = diff(deriveDesired(config, 'v2'), deployedSnapshot(config, 'v1'));

/** Every step done, except H1's from its web Traefik wait on: that one failed, the rest skipped. */
function lostAtTraefikWait(): { statuses: Record<string, StepStatus>; failed: (typeof plan.steps)[number] } {
  const statuses: Record<string, StepStatus> = Object.fromEntries(plan.steps.map((s) => [s.id, 'done']));
  const h1 = plan.steps.filter((s) => s.host === H1);
  const at = h1.findIndex((s) => s.action.kind === 'traefik-wait-up');
  for (const s of h1.slice(at)) statuses[s.id] = 'skipped';
  statuses[h1[at]!.id] = 'failed';
  return { statuses, failed: h1[at]! };
}

test('a host lost after its new container started and before the old one stopped is named: it may serve two versions', () => {
  const { statuses, failed } = lostAtTraefikWait();
  for (const error of [new HostError(H1, 'the SSH connection was closed'), new RemoteCommandError(H1, 'docker inspect', 1, 'Cannot connect to the Docker daemon')]) {
    const half = halfCutovers(plan, statuses, [{ step: failed, error }]);
    assert.equal(half.length, 1);
    assert.equal(half[0]!.host, H1);
    assert.ok(half[0]!.started.includes('app-web-v2'));
    assert.ok(half[0]!.notStopped.includes('app-web-v1'));
    assert.match(describeHalfCutover(half[0]!), /^h1\.example\.com may now serve two versions: app-web-v2.* was started and app-web-v1.* was not stopped/);
  }
});

test('a verified verdict (DeployError) or a host where nothing new started is not called two versions', () => {
  const { statuses, failed } = lostAtTraefikWait();
  assert.deepEqual(halfCutovers(plan, statuses, [{ step: failed, error: new DeployError('h1: Traefik never routed … app-web-v2 was stopped.') }]), []);
  const nothingStarted: Record<string, StepStatus> = Object.fromEntries(plan.steps.map((s) => [s.id, s.host === H1 ? 'skipped' : 'done']));
  const pull = plan.steps.find((s) => s.host === H1)!;
  nothingStarted[pull.id] = 'failed';
  assert.deepEqual(halfCutovers(plan, nothingStarted, [{ step: pull, error: new HostError(H1, 'connection closed') }]), []);
});
