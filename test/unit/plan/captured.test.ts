// Plans from snapshots parsed out of real probe output (fixtures/probe/*.txt, captured from a
// real dockerd on the test bed): the troubled host, a deployed host with real Traefik, a
// stopped Traefik, a staging destination, and hosts where docker cannot be used. Every one must
// pass the same checks as the generated snapshots; two are pinned as golden plans.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { deriveDesired } from '../../../src/desired/desired.ts';
import { diff } from '../../../src/plan/diff.ts';
import { planToJson, renderPlan } from '../../../src/views/plan.ts';
import { parseProbeOutput } from '../../../src/probe/parse.ts';
import type { Snapshot } from '../../../src/probe/types.ts';
import { makeConfig, makeRole } from '../helpers/config.ts';
import { checkCase } from '../helpers/plan-checks.ts';

const probeDir = fileURLToPath(new URL('../../../fixtures/probe/', import.meta.url));
const plansDir = fileURLToPath(new URL('../../../fixtures/plans/', import.meta.url));
const HOST = 'cap-h1';
// The capture's app: service app, images from the bed's registry, web and job on the one host.
const configFor = (destination?: string) =>
  makeConfig({
    image: '10.231.9.1:5009/acme/app',
    roles: [makeRole('web', { hosts: [HOST] }), makeRole('job', { hosts: [HOST], cmd: ['sh', '-c', 'while true; do sleep 5; done'] })],
    ...(destination ? { destination } : {}),
  });

function capturedSnapshot(file: string, destination?: string): Snapshot {
  const host = parseProbeOutput(HOST, readFileSync(`${probeDir}${file}`, 'utf8'), 'app', destination);
  return { takenAt: '2026-11-26T04:10:00.000Z', hosts: { [HOST]: host } };
}

const captures = readdirSync(probeDir).filter((file) => file.endsWith('.txt'));

test('the captures are there to plan from', () => {
  assert.ok(captures.length >= 8, `only ${captures.length} captures in fixtures/probe`);
});

for (const file of captures) {
  const destination = file.startsWith('staging') ? 'staging' : undefined;
  for (const version of ['v2', 'v3']) {
    test(`captured ${file}, target ${version}: converges and touches only app's containers`, () => {
      checkCase({ label: `${file} ${version}`, config: configFor(destination), version, snapshot: capturedSnapshot(file, destination) });
    });
  }
}

test('captured troubled host: the crash-looping job and the killed job are handled, staging is left alone', () => {
  const plan = diff(deriveDesired(configFor(), 'v3'), capturedSnapshot('troubled-host.txt'));
  const touched = plan.steps.flatMap((step) => ('name' in step.action ? [step.action.name] : 'spec' in step.action ? [step.action.spec.name] : []));
  assert.ok(!touched.some((name) => name.includes('staging')), 'a container of destination staging was touched');
  assert.deepEqual(plan.blockedHosts, []);
  // The captured containers carry placeholder spec hashes, so the target containers are replaced.
  assert.ok(plan.steps.some((step) => step.action.kind === 'container-run' && step.action.spec.name === 'app-web-v3'));
});

test('captured hosts where docker cannot be used are blocked with the probe message', () => {
  for (const file of ['docker-missing.txt', 'docker-down.txt', 'permission-denied.txt']) {
    const plan = diff(deriveDesired(configFor(), 'v3'), capturedSnapshot(file));
    assert.equal(plan.steps.length, 0, file);
    assert.equal(plan.blockedHosts.length, 1, file);
    assert.notEqual(plan.blockedHosts[0]!.status, 'ok');
    assert.ok(plan.blockedHosts[0]!.message.length > 0);
  }
});

for (const [file, version] of [['troubled-host.txt', 'v3'], ['deployed-host.txt', 'v3'], ['deployed-with-traefik.txt', 'v3']] as const) {
  test(`golden plan from captured ${file} (target ${version})`, () => {
    const plan = diff(deriveDesired(configFor(), version), capturedSnapshot(file));
    const name = `captured-${file.replace(/\.txt$/, '')}`;
    const text = renderPlan(plan, { color: false, verbose: true });
    const json = `${JSON.stringify(planToJson(plan), null, 2)}\n`;
    if (process.env.UPDATE_GOLDEN === '1') {
      writeFileSync(`${plansDir}${name}.txt`, text);
      writeFileSync(`${plansDir}${name}.json`, json);
    }
    assert.equal(text, readFileSync(`${plansDir}${name}.txt`, 'utf8'));
    assert.equal(json, readFileSync(`${plansDir}${name}.json`, 'utf8'));
  });
}
