// The head of `mrsk plan`'s text says how the image reference was formed (Kamal's rule or as
// written) and, with --next, for which platforms `mrsk deploy` would build.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planNotes } from '../../../src/commands/plan.ts';
import { renderPlan } from '../../../src/views/plan.ts';
import { deriveDesired } from '../../../src/desired/desired.ts';
import { diff } from '../../../src/plan/diff.ts';
import { makeConfig } from '../helpers/config.ts';
import { emptySnapshot, reachableHost, snapshotOf } from '../helpers/snapshot.ts';

test('the plan names the image and the rule that formed it', () => {
  const config = { ...makeConfig(), imageRule: 'registry.server "ghcr.io" + "/" + image (Kamal\'s rule)' };
  const notes = planNotes(config, emptySnapshot(config), [], false);
  assert.deepEqual(notes, [`Image ${config.image}: registry.server "ghcr.io" + "/" + image (Kamal's rule).`]);
});

test('with --next the plan says for which platforms deploy would build: what the hosts report', () => {
  const config = makeConfig({ builder: { ...makeConfig().builder, arch: [] } });
  const hosts = Object.keys(emptySnapshot(config).hosts);
  const snapshot = snapshotOf(...hosts.map((host) => reachableHost(host, { arch: 'arm64' })));
  const notes = planNotes(config, snapshot, hosts, true);
  assert.equal(notes.length, 2);
  assert.match(notes[1]!, /^`mrsk deploy` would build for arm64 \(/);
});

test('builder.arch wins over what the hosts report', () => {
  const config = makeConfig({ builder: { ...makeConfig().builder, arch: ['amd64'] } });
  const hosts = Object.keys(emptySnapshot(config).hosts);
  const snapshot = snapshotOf(...hosts.map((host) => reachableHost(host, { arch: 'arm64' })));
  assert.equal(planNotes(config, snapshot, hosts, true)[1], '`mrsk deploy` would build for amd64 (builder.arch).');
});

test('the notes stand at the head of the plan text, after the version line', () => {
  const config = makeConfig();
  const plan = diff(deriveDesired(config, 'v1'), emptySnapshot(config));
  const text = renderPlan(plan, { color: false, versionReason: 'given with --version', notes: ['Image x as written.'] });
  const lines = text.split('\n');
  assert.equal(lines[0], 'Planning version v1 (given with --version).');
  assert.equal(lines[1], 'Image x as written.');
});
