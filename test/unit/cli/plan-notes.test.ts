// The head of `mrsk plan`'s text says how the image reference was formed (Kamal's rule or as
// written) and, with --next, for which platforms `mrsk deploy` would build.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planNotes } from '../../../src/commands/plan.ts';
import { renderPlan, roleOrderNote } from '../../../src/views/plan.ts';
import { deriveDesired } from '../../../src/desired/desired.ts';
import { diff } from '../../../src/plan/diff.ts';
import { makeConfig, makeRole } from '../helpers/config.ts';
import { deployedSnapshot, emptySnapshot, reachableHost, snapshotOf } from '../helpers/snapshot.ts';
import { intentScenarios } from '../helpers/intent-scenarios.ts';

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

// The head of a plan that starts containers of several roles on one host says what each waits for.
const H1 = 'h1.example.com';

test('a new version on a host with two roles: the note says they start one after another, each once the one before is healthy', () => {
  const config = makeConfig();
  const plan = diff(deriveDesired(config, 'v2'), deployedSnapshot(config, 'v1'));
  assert.equal(
    roleOrderNote(plan, false),
    `The roles on ${H1} start one after another, in the order below: each once the one before it is healthy (boot.parallel_roles starts them together).`,
  );
  const text = renderPlan(plan, { color: false, notes: [roleOrderNote(plan, false)!] });
  assert.match(text.split('\n').slice(0, 2).join(' '), /^The roles on h1\.example\.com start one after another/);
});

test('with boot.parallel_roles the note says the roles start together', () => {
  const base = makeConfig();
  const config = { ...base, boot: { ...base.boot, parallelRoles: true } };
  const plan = diff(deriveDesired(config, 'v2'), deployedSnapshot(config, 'v1'));
  assert.equal(roleOrderNote(plan, true), `boot.parallel_roles: the roles on ${H1} start together; each replaces its old container only once its new one is ready.`);
});

test('a rollback to retained containers of two roles is ordered the same way', () => {
  const config = makeConfig();
  const plan = diff(deriveDesired(config, 'v1'), deployedSnapshot(config, 'v2', deployedSnapshot(config, 'v1')));
  assert.ok(plan.steps.some((step) => step.id === `${H1}:job:start`), 'the job is started again, not run');
  assert.match(roleOrderNote(plan, false) ?? '', /^The roles on h1\.example\.com start one after another/);
});

test('no note when no host starts more than one role', () => {
  const single = makeConfig({ roles: [makeRole('web', { hosts: ['h1.example.com', 'h2.example.com'] })] });
  assert.equal(roleOrderNote(diff(deriveDesired(single, 'v2'), deployedSnapshot(single, 'v1')), false), undefined);
  assert.equal(roleOrderNote(diff(deriveDesired(single, 'v2'), deployedSnapshot(single, 'v1')), true), undefined);
  assert.equal(roleOrderNote(diff(deriveDesired(single, 'v1'), emptySnapshot(single)), false), undefined, 'a first deploy: Traefik and the network first, one role');
  const config = makeConfig();
  assert.equal(roleOrderNote(diff(deriveDesired(config, 'v1'), deployedSnapshot(config, 'v1')), false), undefined, 'no changes');
  const hosts = ['h1.example.com', 'h2.example.com', 'h3.example.com'];
  const three = makeConfig({ roles: [makeRole('web', { hosts }), makeRole('job', { hosts })] });
  assert.match(roleOrderNote(diff(deriveDesired(three, 'v2'), deployedSnapshot(three, 'v1')), false) ?? '', /^The roles on 3 hosts start/);
});

test('app start of two stopped roles: they do not wait for each other, so no order note (and no parallel_roles claim without the key)', () => {
  const scenario = intentScenarios().find((s) => s.name === 'app-start')!;
  const plan = diff(deriveDesired(scenario.config, scenario.version), scenario.snapshot, scenario.request);
  const starts = plan.steps.filter((step) => step.action.kind === 'container-start' && step.host === H1);
  assert.equal(starts.length, 2, 'web and job are both started on h1');
  assert.equal(roleOrderNote(plan, false), undefined);
});

test('restore-release (rollback) of two roles on h1 keeps their order', () => {
  const scenario = intentScenarios().find((s) => s.name === 'restore-release')!;
  const plan = diff(deriveDesired(scenario.config, scenario.version), scenario.snapshot, scenario.request);
  assert.match(roleOrderNote(plan, false) ?? '', /^The roles on h1\.example\.com start one after another/);
});
