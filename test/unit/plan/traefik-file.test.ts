// The app's own file for Traefik (certificates from secrets, servers transports) in plans: written
// before a proxied container that may name it runs, removed after the old ones stopped, removed
// with the app, re-planned to nothing after it ran, and never showing a certificate or key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveDesired } from '../../../src/desired/desired.ts';
import { diff, type DiffOptions } from '../../../src/plan/diff.ts';
import { simulate } from '../../../src/plan/simulate.ts';
import type { Plan, PlanStep } from '../../../src/plan/types.ts';
import { UNKNOWN_TRAEFIK_FILE_HASH, type Snapshot } from '../../../src/probe/types.ts';
import { planToJson, renderPlan } from '../../../src/views/plan.ts';
import type { Config } from '../../../src/config/types.ts';
import { editHost, httpsConfig, TLS_CERTIFICATE_A, TLS_CERTIFICATE_B, TLS_PRIVATE_KEY } from '../helpers/scenarios.ts';
import { checkCase } from '../helpers/plan-checks.ts';
import { deployedSnapshot, emptySnapshot } from '../helpers/snapshot.ts';
import { makeConfig } from '../helpers/config.ts';

const H1 = 'h1.example.com';
const H2 = 'h2.example.com';

const planFor = (config: Config, snapshot: Snapshot, options: DiffOptions = {}): Plan => diff(deriveDesired(config, 'v1'), snapshot, options);
const step = (plan: Plan, id: string): PlanStep => {
  const found = plan.steps.find((candidate) => candidate.id === id);
  assert.ok(found, `no step ${id} in ${plan.steps.map((s) => s.id).join(', ')}`);
  return found;
};
const fileSteps = (plan: Plan) => plan.steps.filter((s) => s.action.kind === 'traefik-file-write' || s.action.kind === 'traefik-file-remove').map((s) => `${s.id} ${s.symbol}`);
const hashOn = (snapshot: Snapshot, host: string) => (snapshot.hosts[host] as { traefikFileHash?: string }).traefikFileHash;

test('first deploy: the file is written after the network, and only proxied containers wait for it', () => {
  const config = httpsConfig();
  const plan = planFor(config, emptySnapshot(config));
  const write = step(plan, `${H1}:traefik-file:write`);
  assert.equal(write.address, `${H1}/traefik-file/app.yml`);
  assert.equal(write.symbol, '+');
  assert.deepEqual(write.dependsOn, [`${H1}:network`]);
  assert.ok(write.action.kind === 'traefik-file-write' && write.action.file.hash === deriveDesired(config, 'v1').hosts[H1]!.traefikFile!.hash);
  assert.ok(step(plan, `${H1}:web:run`).dependsOn.includes(write.id));
  assert.ok(!step(plan, `${H1}:job:run`).dependsOn.includes(write.id));
  assert.ok(plan.steps.indexOf(write) < plan.steps.indexOf(step(plan, `${H1}:web:run`)));
  // after the apply, the hosts carry the file's hash and nothing is left to do
  const after = simulate(emptySnapshot(config), plan);
  assert.equal(hashOn(after, H1), write.action.kind === 'traefik-file-write' ? write.action.file.hash : '');
  assert.deepEqual(planFor(config, after).steps, []);
});

test('no output of a plan carries the certificate or key, old or new', () => {
  const plan = planFor(httpsConfig({ certificate: TLS_CERTIFICATE_B }), deployedSnapshot(httpsConfig(), 'v1'));
  assert.deepEqual(fileSteps(plan), [`${H1}:traefik-file:write ~`, `${H2}:traefik-file:write ~`]);
  const outputs = [renderPlan(plan, { color: false, verbose: true }), JSON.stringify(planToJson(plan)), JSON.stringify(plan)];
  for (const output of outputs) {
    for (const secret of [TLS_CERTIFICATE_A, TLS_CERTIFICATE_B, TLS_PRIVATE_KEY, 'secret-']) assert.ok(!output.includes(secret), `${secret} in ${output.slice(0, 200)}`);
  }
});

test('a file mrsk did not write as it is (edited by hand) is rewritten, saying so', () => {
  const config = httpsConfig();
  const edited = editHost(deployedSnapshot(config, 'v1'), H1, (h) => ({ ...h, traefikFileHash: UNKNOWN_TRAEFIK_FILE_HASH }));
  const plan = planFor(config, edited);
  assert.deepEqual(fileSteps(plan), [`${H1}:traefik-file:write ~`]);
  assert.match(step(plan, `${H1}:traefik-file:write`).cause, /not written by mrsk as it is/);
  checkCase({ label: 'edited file', config, version: 'v1', snapshot: edited });
});

test('redeploy (skip traefik) still writes the file: it is the app\'s, not Traefik\'s', () => {
  const plan = planFor(httpsConfig({ responseTimeout: 60 }), deployedSnapshot(httpsConfig(), 'v1'), { skip: ['traefik'] });
  assert.deepEqual(fileSteps(plan), [`${H1}:traefik-file:write ~`, `${H2}:traefik-file:write ~`]);
});

test('--roles without a proxied role leaves the file alone; with one, it is planned', () => {
  const snapshot = deployedSnapshot(httpsConfig(), 'v1');
  assert.deepEqual(fileSteps(planFor(httpsConfig({ responseTimeout: 60 }), snapshot, { roles: ['job'] })), []);
  assert.deepEqual(fileSteps(planFor(httpsConfig({ responseTimeout: 60 }), snapshot, { roles: ['web'] })), [`${H1}:traefik-file:write ~`, `${H2}:traefik-file:write ~`]);
  assert.deepEqual(fileSteps(planFor(makeConfig(), snapshot, { roles: ['job'] })), []);
});

test('a file no longer needed is removed after every other step of its host (the old containers drained and stopped)', () => {
  const snapshot = deployedSnapshot(httpsConfig(), 'v1');
  const plan = planFor(makeConfig(), snapshot);
  const remove = step(plan, `${H1}:traefik-file:remove`);
  assert.equal(remove.symbol, '-');
  assert.deepEqual(remove.action, { kind: 'traefik-file-remove', name: 'app.yml' });
  const before = plan.steps.filter((s) => s.host === H1 && s.action.kind !== 'release-record' && s !== remove);
  assert.ok(before.some((s) => s.action.kind === 'container-drain') && before.some((s) => s.action.kind === 'container-stop'));
  assert.deepEqual(new Set(remove.dependsOn), new Set(before.map((s) => s.id)));
  checkCase({ label: 'file no longer needed', config: makeConfig(), version: 'v1', snapshot });
});

test('a host dropped from the config loses the file with its containers', () => {
  const snapshot = deployedSnapshot(httpsConfig(), 'v1');
  const h1Only = httpsConfig({ webHosts: [H1] });
  const plan = planFor(h1Only, snapshot);
  assert.deepEqual(fileSteps(plan), [`${H2}:traefik-file:remove -`]);
  assert.equal(step(plan, `${H2}:traefik-file:remove`).cause, 'host is not in the config');
  checkCase({ label: 'host dropped', config: h1Only, version: 'v1', snapshot });
});

test('remove (destroy) takes the file off every host, whether Traefik stays for other apps or not', () => {
  const config = httpsConfig();
  const deployed = deployedSnapshot(config, 'v1');
  for (const others of [[], ['blog']]) {
    const snapshot = editHost(editHost(deployed, H1, (h) => ({ ...h, otherApps: others })), H2, (h) => ({ ...h, otherApps: others }));
    const plan = planFor(config, snapshot, { mode: 'destroy' });
    assert.deepEqual(fileSteps(plan), [`${H1}:traefik-file:remove -`, `${H2}:traefik-file:remove -`]);
    const remove = step(plan, `${H1}:traefik-file:remove`);
    const containerRemoves = plan.steps.filter((s) => s.host === H1 && s.action.kind === 'container-remove' && s.address.includes('/container/'));
    for (const removed of containerRemoves) assert.ok(remove.dependsOn.includes(removed.id));
    assert.ok(step(plan, `${H1}:state:remove`).dependsOn.includes(remove.id));
    assert.equal(hashOn(simulate(snapshot, plan), H1), undefined);
  }
  // a host where only the file is left still has it removed
  const onlyFile = editHost(emptySnapshot(config), H1, (h) => ({ ...h, traefikFileHash: UNKNOWN_TRAEFIK_FILE_HASH }));
  assert.deepEqual(fileSteps(planFor(config, onlyFile, { mode: 'destroy' })), [`${H1}:traefik-file:remove -`]);
});

test('an app without a file on a host without one plans nothing for it', () => {
  const config = makeConfig();
  assert.deepEqual(fileSteps(planFor(config, emptySnapshot(config))), []);
  assert.deepEqual(fileSteps(planFor(config, deployedSnapshot(config, 'v1'), { mode: 'destroy' })), []);
});
