// The one rule for hosts that cannot be used, and what --skip-unreachable leaves behind: the
// release it records names the skipped hosts; drift and the next plan show them as behind until
// a release on them is at least as new.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectDrift, allFindings, driftExitCode } from '../../../src/drift/detect.ts';
import { describeBehind, hostsBehind } from '../../../src/drift/missed.ts';
import { deriveDesired } from '../../../src/desired/desired.ts';
import { diff } from '../../../src/plan/diff.ts';
import { simulate } from '../../../src/plan/simulate.ts';
import { deployedVersion } from '../../../src/commands/shared/common.ts';
import { requireUsableHosts } from '../../../src/commands/shared/preflight.ts';
import { HostError } from '../../../src/errors.ts';
import type { Snapshot } from '../../../src/probe/types.ts';
import { makeConfig } from '../helpers/config.ts';
import { deployedSnapshot, snapshotOf, unreachableHost } from '../helpers/snapshot.ts';

const H1 = 'h1.example.com';
const H2 = 'h2.example.com';
const config = makeConfig();
const missed = [{ host: H2, reason: 'unreachable: connect ETIMEDOUT' }];

/** v1 on both hosts, then v2 deployed to h1 only with h2 skipped; h2 as `h2Now` says. */
function afterSkippedDeploy(h2Now: 'down' | 'back'): Snapshot {
  const v1 = deployedSnapshot(config, 'v1');
  const h2 = v1.hosts[H2]!;
  // an hour later (deployedSnapshot moved the clock): v2 is applied after v1
  const partial = { ...snapshotOf(v1.hosts[H1] as never, unreachableHost(H2)), takenAt: v1.takenAt };
  const plan = diff(deriveDesired(config, 'v2'), partial, { hosts: [H1, H2], missedHosts: missed });
  const release = plan.steps.find((s) => s.host === H1 && s.action.kind === 'release-record')!;
  assert.deepEqual(release.action.kind === 'release-record' && release.action.missedHosts, missed, 'the release names the skipped host');
  assert.equal(plan.steps.filter((s) => s.host === H2).length, 0);
  const after = simulate(partial, plan);
  return { ...after, hosts: { ...after.hosts, [H2]: h2Now === 'down' ? unreachableHost(H2) : h2 } };
}

test('without --skip-unreachable, a host that cannot be used stops the command (exit 69), naming it, what was seen and the flag', () => {
  const snapshot = snapshotOf(...(Object.values(deployedSnapshot(config, 'v1').hosts).filter((h) => h.host === H1) as never[]), unreachableHost(H2));
  for (const verb of ['deployed', 'changed'] as const) {
    assert.throws(() => requireUsableHosts(snapshot, [H1, H2], verb), (error: Error) => {
      assert.ok(error instanceof HostError);
      assert.equal(error.exitCode, 69);
      assert.match(error.message, new RegExp(`cannot be used, so nothing was ${verb} to any host:\\n  ${H2}: unreachable: connect ECONNREFUSED`));
      assert.match(error.message, /--skip-unreachable to (deploy|change) h1\.example\.com and record h2\.example\.com as behind/);
      return true;
    });
  }
});

test('a skipped host that comes back is behind: drift says so (exit 2, not fixable by --fix), the plan brings it to the new version', () => {
  const snapshot = afterSkippedDeploy('back');
  const behind = hostsBehind(snapshot);
  assert.deepEqual([...behind.keys()], [H2]);
  assert.match(describeBehind(behind.get(H2)!), /^h2\.example\.com is behind: it was skipped \(--skip-unreachable\) by the deploy of v2 at .*\(unreachable: connect ETIMEDOUT\); it still runs release v1\./);
  const report = detectDrift(config, snapshot, { hosts: config.hosts });
  const findings = allFindings(report).filter((f) => f.kind === 'behind');
  assert.deepEqual(findings.map((f) => [f.host, f.fixable]), [[H2, false]]);
  assert.equal(driftExitCode(report), 2);
  // the skipped host does not vote for its old version: the next plan targets v2 and replaces it there
  assert.equal(deployedVersion(config, snapshot), 'v2');
  const next = diff(deriveDesired(config, 'v2'), snapshot);
  assert.ok(next.steps.some((s) => s.host === H2 && s.action.kind === 'container-run'), 'h2 gets v2');
  assert.ok(!next.steps.some((s) => s.host === H1 && s.action.kind !== 'release-record'), 'h1 is left alone');
  // once deployed, it is no longer behind
  const caughtUp = simulate(snapshot, next);
  assert.equal(hostsBehind(caughtUp).size, 0);
  assert.equal(allFindings(detectDrift(config, caughtUp, { hosts: config.hosts })).filter((f) => f.kind === 'behind').length, 0);
});

test('a skipped host still down is an error in drift that also says it is behind', () => {
  const report = detectDrift(config, afterSkippedDeploy('down'), { hosts: config.hosts });
  const h2 = report.hosts.find((h) => h.host === H2)!;
  assert.equal(h2.status, 'error');
  assert.match(h2.status === 'error' ? h2.message : '', /; h2\.example\.com is behind: .* its own release is unknown/);
  assert.equal(driftExitCode(report), 1);
});
