// Drift findings on hand-built snapshots: a deployed release (made by the real diff + simulate),
// then one hand edit per case, as an operator or a reboot would leave the host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectDrift, driftExitCode, allFindings, CONFIG_CHANGED_HINT } from '../../../src/drift/detect.ts';
import { renderDriftText } from '../../../src/views/drift.ts';
import { deriveDesired } from '../../../src/desired/desired.ts';
import { SPEC_HASH_LABEL } from '../../../src/model/labels.ts';
import type { Config } from '../../../src/config/types.ts';
import type { Snapshot } from '../../../src/probe/types.ts';
import { DATABASE_URL_VALUE, makeConfig, makeEnv, makeRole } from '../helpers/config.ts';
import { deployedSnapshot, fakeId, observedFromSpec, unreachableHost } from '../helpers/snapshot.ts';
import { editContainer, editHost } from '../helpers/scenarios.ts';

const H1 = 'h1.example.com';
const H2 = 'h2.example.com';

function deployed(config: Config = makeConfig()): { config: Config; snapshot: Snapshot } {
  return { config, snapshot: deployedSnapshot(config, 'v1') };
}

const scope = (config: Config) => ({ hosts: config.hosts });
const kinds = (snapshot: Snapshot, config: Config) => allFindings(detectDrift(config, snapshot, scope(config))).map((f) => `${f.host} ${f.kind}${f.role ? ` ${f.role}` : ''}`);

test('a host just deployed has no drift and exits 0', () => {
  const { config, snapshot } = deployed();
  const report = detectDrift(config, snapshot, scope(config));
  assert.deepEqual(allFindings(report), []);
  assert.equal(report.summary.hostsChecked, 2);
  assert.equal(driftExitCode(report), 0);
  const h1 = report.hosts[0]!;
  assert.equal(h1.status === 'checked' && h1.release?.version, 'v1');
  assert.match(renderDriftText(report), /No drift: 2 hosts match their recorded release\./);
});

test('a container stopped by hand is reported with its exit code, fixable, exit 2', () => {
  const { config, snapshot } = deployed();
  const edited = editContainer(snapshot, H1, 'app-web-v1', (c) => ({ ...c, state: 'exited', exitCode: 137, health: undefined }));
  const report = detectDrift(config, edited, scope(config));
  const findings = allFindings(report);
  assert.deepEqual(findings.map((f) => [f.host, f.kind, f.role, f.cause, f.fixable]), [[H1, 'container-stopped', 'web', 'container exited (137)', true]]);
  assert.equal(driftExitCode(report), 2);
  assert.match(renderDriftText(report), /h1\.example\.com.*\n {2}! web: container exited \(137\) \(container-stopped\) \[fixable\]/);
});

test('a missing container of the recorded release is reported', () => {
  const { config, snapshot } = deployed();
  const edited = editHost(snapshot, H2, (h) => ({ ...h, containers: h.containers.filter((c) => c.name !== 'app-web-v1') }));
  assert.deepEqual(kinds(edited, config), [`${H2} container-missing web`]);
});

test('an unhealthy container is reported but not fixed blindly', () => {
  const { config, snapshot } = deployed();
  const edited = editContainer(snapshot, H1, 'app-web-v1', (c) => ({ ...c, health: 'unhealthy' }));
  const [finding] = allFindings(detectDrift(config, edited, scope(config)));
  assert.equal(finding?.kind, 'container-unhealthy');
  assert.equal(finding?.fixable, false);
  assert.match(finding?.hint ?? '', /docker logs app-web-v1/);
});

test('a container recreated by hand with another spec-hash is spec drift', () => {
  const { config, snapshot } = deployed();
  const edited = editContainer(snapshot, H1, 'app-job-v1', (c) => ({ ...c, id: fakeId('by-hand'), labels: { ...c.labels, [SPEC_HASH_LABEL]: 'v1:0000' } }));
  const findings = allFindings(detectDrift(config, edited, scope(config)));
  assert.deepEqual(findings.map((f) => [f.kind, f.role, f.fixable]), [['spec-differs', 'job', true]]);
  assert.match(findings[0]!.cause, /recreated by hand/);
});

test('a label edited by hand while the hash label was copied is still spec drift, naming the label', () => {
  const { config, snapshot } = deployed();
  const edited = editContainer(snapshot, H1, 'app-web-v1', (c) => ({ ...c, labels: { ...c.labels, 'traefik.enable': 'false', 'owner': 'ops' } }));
  const findings = allFindings(detectDrift(config, edited, scope(config)));
  assert.equal(findings.length, 1);
  assert.equal(findings[0]!.kind, 'spec-differs');
  assert.equal(findings[0]!.cause, 'label owner added, label traefik.enable changed (edited by hand)');
});

test('labels Docker copied from the image are not drift', () => {
  const { config, snapshot } = deployed();
  const withImageLabel = editHost(snapshot, H1, (h) => ({
    ...h,
    images: h.images.map((i) => ({ ...i, labels: { 'org.opencontainers.image.title': 'app' } })),
    containers: h.containers.map((c) => (c.name === 'app-web-v1' ? { ...c, labels: { ...c.labels, 'org.opencontainers.image.title': 'app' } } : c)),
  }));
  assert.deepEqual(kinds(withImageLabel, config), []);
});

test('a stray container carrying this service labels is reported; another service is not', () => {
  const { config, snapshot } = deployed();
  const stray = { ...observedFromSpec(deriveDesired(config, 'v1').hosts[H1]!.containers[0]!), id: fakeId('stray'), name: 'app-debug', labels: { 'mrsk.service': 'app', 'mrsk.role': 'web' } };
  const other = { ...stray, id: fakeId('other'), name: 'shop-web-v1', labels: { 'mrsk.service': 'shop', 'mrsk.role': 'web' } };
  const staging = { ...stray, id: fakeId('staging'), name: 'app-web-staging-v1', labels: { 'mrsk.service': 'app', 'mrsk.role': 'web', 'mrsk.destination': 'staging' } };
  const edited = editHost(snapshot, H1, (h) => ({ ...h, containers: [...h.containers, stray, other, staging] }));
  const findings = allFindings(detectDrift(config, edited, scope(config)));
  assert.deepEqual(findings.map((f) => [f.kind, f.container, f.fixable]), [['stray-container', 'app-debug', true]]);
});

test('an old version started again by hand is reported as running beside the release', () => {
  const config = makeConfig();
  const v2 = deployedSnapshot(config, 'v2', deployedSnapshot(config, 'v1'));
  assert.deepEqual(kinds(v2, config), []);
  const edited = editContainer(v2, H2, 'app-web-v1', (c) => ({ ...c, state: 'running' }));
  const findings = allFindings(detectDrift(config, edited, scope(config)));
  assert.deepEqual(findings.map((f) => [f.kind, f.container, f.cause]), [['old-version-running', 'app-web-v1', 'version v1 is running beside release v2']]);
});

test('Traefik missing, stopped, or recreated with another spec', () => {
  const { config, snapshot } = deployed();
  const missing = editHost(snapshot, H1, (h) => ({ ...h, containers: h.containers.filter((c) => c.name !== 'traefik') }));
  assert.deepEqual(kinds(missing, config), [`${H1} traefik-missing`]);
  const stopped = editContainer(snapshot, H2, 'traefik', (c) => ({ ...c, state: 'exited', exitCode: 2 }));
  const stoppedFindings = allFindings(detectDrift(config, stopped, scope(config)));
  assert.deepEqual(stoppedFindings.map((f) => [f.kind, f.cause, f.fixable]), [['traefik-stopped', 'Traefik exited (2)', true]]);
  const other = editContainer(snapshot, H2, 'traefik', (c) => ({ ...c, labels: { ...c.labels, [SPEC_HASH_LABEL]: 'v1:1234' } }));
  assert.deepEqual(kinds(other, config), [`${H2} traefik-spec-differs`]);
});

test('more stopped versions than retain_containers is reported, naming the ones to prune', () => {
  const config = makeConfig({ retainContainers: 1 });
  let snapshot = deployedSnapshot(config, 'v1');
  snapshot = deployedSnapshot(config, 'v2', snapshot);
  snapshot = deployedSnapshot(config, 'v3', snapshot);
  assert.deepEqual(kinds(snapshot, config), [], 'apply itself prunes to the retained count');
  // a stopped v1 container put back by hand (e.g. restored from a backup)
  const v1 = { ...observedFromSpec(deriveDesired(config, 'v1').hosts[H2]!.containers[0]!, { state: 'exited', createdAt: '2026-11-01T00:00:00.000Z' }) };
  const edited = editHost(snapshot, H2, (h) => ({ ...h, containers: [...h.containers, v1] }));
  const findings = allFindings(detectDrift(config, edited, scope(config)));
  assert.equal(findings.length, 1);
  assert.equal(findings[0]!.kind, 'retention-exceeded');
  assert.deepEqual(findings[0]!.excessContainerIds, [v1.id]);
  assert.match(findings[0]!.cause, /2 stopped versions of role web kept, more than retain_containers 1 \(v1 to prune\)/);
});

test('a config edited since the release is "config changed", compared at the recorded version and never fixable', () => {
  const { config, snapshot } = deployed();
  const edited = makeConfig({
    roles: [
      makeRole('web', { hosts: [H1, H2], env: makeEnv({ RAILS_ENV: 'production', RAILS_LOG_LEVEL: 'debug' }, { DATABASE_URL: DATABASE_URL_VALUE }) }),
      makeRole('job', { hosts: [H1], cmd: 'bin/jobs' }),
    ],
  });
  const report = detectDrift(edited, snapshot, scope(edited));
  const findings = allFindings(report);
  assert.deepEqual(findings.map((f) => [f.host, f.kind, f.role, f.fixable]), [
    [H1, 'config-changed', 'web', false],
    [H2, 'config-changed', 'web', false],
  ]);
  assert.equal(findings[0]!.hint, CONFIG_CHANGED_HINT);
  assert.match(findings[0]!.cause, /env RAILS_LOG_LEVEL changed/);
  // a stopped container under a changed config is reported but left for apply
  const stopped = editContainer(snapshot, H1, 'app-web-v1', (c) => ({ ...c, state: 'exited', exitCode: 1 }));
  const both = allFindings(detectDrift(edited, stopped, scope(edited))).filter((f) => f.host === H1);
  assert.deepEqual(both.map((f) => [f.kind, f.fixable]), [['config-changed', false], ['container-stopped', false]]);
});

test('a secret changed since the release is config change, and its value appears nowhere', () => {
  const { snapshot } = deployed();
  const secretValue = 'new-secret-value-that-must-not-leak';
  const edited = makeConfig({
    roles: [
      makeRole('web', { hosts: [H1, H2], env: makeEnv({ RAILS_ENV: 'production', RAILS_LOG_LEVEL: 'info' }, { DATABASE_URL: secretValue }) }),
      makeRole('job', { hosts: [H1], cmd: 'bin/jobs' }),
    ],
  });
  const report = detectDrift(edited, snapshot, scope(edited));
  assert.ok(allFindings(report).some((f) => f.kind === 'config-changed' && /DATABASE_URL/.test(f.cause)));
  const text = `${JSON.stringify(report)}${renderDriftText(report)}`;
  assert.ok(!text.includes(secretValue) && !text.includes(DATABASE_URL_VALUE));
});

test('an unreachable host is an error (exit 1) while the others are still checked', () => {
  const { config, snapshot } = deployed();
  const stopped = editContainer(snapshot, H1, 'app-job-v1', (c) => ({ ...c, state: 'exited', exitCode: 1 }));
  const withDown: Snapshot = { ...stopped, hosts: { ...stopped.hosts, [H2]: unreachableHost(H2) } };
  const report = detectDrift(config, withDown, scope(config));
  assert.deepEqual(report.hosts.map((h) => h.status), ['checked', 'error']);
  assert.deepEqual(kinds(withDown, config), [`${H1} container-stopped job`]);
  assert.equal(driftExitCode(report), 1);
  assert.match(renderDriftText(report), /h2\.example\.com {2}NOT CHECKED \(unreachable\): connect ECONNREFUSED/);
});

test('a host without a release record cannot be compared and says so', () => {
  const config = makeConfig();
  const snapshot = deployedSnapshot(config, 'v1');
  const noRecord = editHost(snapshot, H2, (h) => ({ ...h, release: undefined }));
  const findings = allFindings(detectDrift(config, noRecord, scope(config)));
  assert.deepEqual(findings.map((f) => [f.host, f.kind, f.fixable]), [[H2, 'no-release', false]]);
});

test('each host is compared with its own recorded version, not the newest', () => {
  const config = makeConfig();
  const v1 = deployedSnapshot(config, 'v1');
  const v2 = deployedSnapshot(config, 'v2', v1);
  // h2 still on v1 (a deploy limited to h1): not drift, each host matches its own release
  const mixed: Snapshot = { ...v2, hosts: { ...v2.hosts, [H2]: v1.hosts[H2]! } };
  const report = detectDrift(config, mixed, scope(config));
  assert.deepEqual(allFindings(report), []);
  assert.deepEqual(report.hosts.map((h) => (h.status === 'checked' ? h.release?.version : '')), ['v2', 'v1']);
});

test('--roles limits the comparison to those roles', () => {
  const { config, snapshot } = deployed();
  const edited = editContainer(snapshot, H1, 'app-job-v1', (c) => ({ ...c, state: 'exited', exitCode: 1 }));
  assert.deepEqual(allFindings(detectDrift(config, edited, { hosts: config.hosts, roles: ['web'] })), []);
  assert.equal(allFindings(detectDrift(config, edited, { hosts: config.hosts, roles: ['job'] })).length, 1);
});
