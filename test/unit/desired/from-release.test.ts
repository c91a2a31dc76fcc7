// A release's desired state in the ledger, and desiredFromRelease(): rollback brings back what a
// release ran (image, env, labels, options, roles, …) with today's secret values, never a recorded one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveDesired } from '../../../src/desired/desired.ts';
import {
  RECORDED_DESIRED_FORMAT,
  describeNote,
  desiredFromRelease,
  parseRecordedDesired,
  recordContainer,
  recordHostDesired,
  releaseOnEachHost,
  type RecordedHostDesired,
  type ReleaseNote,
} from '../../../src/desired/from-release.ts';
import { hmacHex } from '../../../src/desired/canonical.ts';
import { secretDigestKey } from '../../../src/desired/spec-hash.ts';
import type { Config } from '../../../src/config/types.ts';
import type { Desired } from '../../../src/desired/types.ts';
import { ConfigError } from '../../../src/errors.ts';
import { diff } from '../../../src/plan/diff.ts';
import type { Plan } from '../../../src/plan/types.ts';
import type { ReleaseRecord } from '../../../src/probe/types.ts';
import { Secret } from '../../../src/secret.ts';
import { runStep, type StepContext } from '../../../src/apply/steps.ts';
import type { Runner } from '../../../src/ssh/types.ts';
import { DATABASE_URL_VALUE, makeConfig, makeEnv, makeRole } from '../helpers/config.ts';
import { deployedSnapshot, emptySnapshot } from '../helpers/snapshot.ts';

const H1 = 'h1.example.com';
const H2 = 'h2.example.com';
const NEW_DB = 'postgres://app:rotated-later-value@db.internal/app';

/** The record each host's release-record step of the plan would write (ids as the handler makes them). */
function recordsOf(plan: Plan, appliedAt = '2026-11-20T10:00:00.000Z'): Record<string, ReleaseRecord> {
  const records: Record<string, ReleaseRecord> = {};
  for (const step of plan.steps) {
    if (step.action.kind !== 'release-record') continue;
    const { version, specHashes, traefikSpecHash, desired } = step.action;
    // the ledger is JSON on the host: what rollback reads went through a serialization
    records[step.host] = JSON.parse(
      JSON.stringify({ id: `20261120T100000-${version}`, version, appliedAt, appliedBy: 'ci@laptop', specHashes, traefikSpecHash, desired }),
    ) as ReleaseRecord;
  }
  return records;
}

/** The records a first deploy of `version` with `config` leaves on every host. */
const deployRecords = (config: Config, version: string) => recordsOf(diff(deriveDesired(config, version), emptySnapshot(config)));

/** Two roles (web on h1+h2, job on h1) with everything a spec can carry set. */
function richConfig(overrides: Partial<Config> = {}): Config {
  return makeConfig({
    roles: [
      {
        // makeRole takes the common fields; these are spread in
        ...makeRole('web', {
          hosts: [H1, H2],
          labels: { tier: 'front' },
          options: { memory: '512m', 'add-host': ['db:10.0.0.9'] },
          env: makeEnv({ RAILS_ENV: 'production', RAILS_LOG_LEVEL: 'info' }, { DATABASE_URL: DATABASE_URL_VALUE }),
        }),
        stopTimeout: 12,
        assetPath: '/app/public/assets',
        logging: { driver: 'json-file', options: { 'max-size': '5m' } },
        hostTags: { [H2]: ['eu'] },
      },
      makeRole('job', { hosts: [H1], cmd: 'bin/jobs --queue default', env: makeEnv({ QUEUE: 'default' }, { DATABASE_URL: DATABASE_URL_VALUE, JOB_TOKEN: 'job-token-secret-1' }) }),
    ],
    volumes: ['/data:/app/data'],
    envTags: { eu: { clear: { REGION: 'eu' }, secret: {} } },
    ...overrides,
  });
}

const kinds = (notes: readonly ReleaseNote[]) => notes.map((n) => n.kind);

test('round trip: a release restored with the config it ran gives exactly the desired state of that config', () => {
  for (const config of [makeConfig(), richConfig(), makeConfig({ destination: 'staging' }), makeConfig({ roles: [makeRole('job', { hosts: [H1], cmd: ['bin/jobs'] })] })]) {
    const records = deployRecords(config, 'v1');
    assert.deepEqual(Object.keys(records).sort(), [...config.hosts].sort(), 'every host records its part');
    const { desired, notes } = desiredFromRelease({ config, version: 'v1', releases: records });
    assert.deepEqual(desired, deriveDesired(config, 'v1'));
    assert.deepEqual(notes, []);
  }
});

test('the restored specs are the release\'s although the config changed since: image, env, cmd, labels, options, volumes, logging, healthcheck, stop timeout, assets', () => {
  const then = richConfig();
  const records = deployRecords(then, 'v1');
  const now = richConfig({
    image: 'registry.example.com/acme/renamed',
    volumes: [],
    labels: { added: 'later' },
    healthcheck: { path: '/health', port: 4000, interval: 2, timeout: 3, maxAttempts: 5 },
    roles: [
      makeRole('web', { hosts: [H1, H2], options: { cpus: '2' }, env: makeEnv({ RAILS_ENV: 'production', RAILS_LOG_LEVEL: 'debug' }, { DATABASE_URL: DATABASE_URL_VALUE }) }),
      makeRole('job', { hosts: [H1], cmd: 'bin/other', env: makeEnv({}, { DATABASE_URL: DATABASE_URL_VALUE, JOB_TOKEN: 'job-token-secret-1' }) }),
    ],
  });
  const { desired, notes } = desiredFromRelease({ config: now, version: 'v1', releases: records });
  const released = deriveDesired(then, 'v1');
  for (const host of [H1, H2]) {
    assert.deepEqual(desired.hosts[host]!.containers, released.hosts[host]!.containers, `${host} runs what the release ran`);
    for (const spec of desired.hosts[host]!.containers) assert.equal(spec.specHash, records[host]!.specHashes[spec.role], 'same hash: the retained container is started again');
  }
  assert.equal(desired.hosts[H1]!.containers[0]!.env.RAILS_LOG_LEVEL, 'info');
  assert.equal(desired.hosts[H2]!.containers[0]!.env.REGION, 'eu', 'per-host env (tags) is per host record');
  assert.deepEqual(desired.hosts[H1]!.containers[1]!.cmd, ['bin/jobs', '--queue', 'default']);
  assert.equal(desired.hosts[H1]!.containers[0]!.stopTimeout, 12);
  assert.deepEqual(notes, []);
});

test('hosts, batches, timeouts and retention are the config\'s of today', () => {
  const then = makeConfig({ boot: { limit: 1, wait: 3, parallelRoles: true }, deployTimeout: 30, retainContainers: 5 });
  const now = makeConfig({ boot: { limit: 2, wait: 0, parallelRoles: false }, deployTimeout: 90, drainTimeout: 10, readinessDelay: 2, retainContainers: 2 });
  const { desired } = desiredFromRelease({ config: now, version: 'v1', releases: deployRecords(then, 'v1') });
  const today = deriveDesired(now, 'v1');
  const { hosts: _h, ...rest } = desired;
  const { hosts: _t, ...todayRest } = today;
  assert.deepEqual(rest, todayRest);
  assert.equal(desired.hosts[H1]!.retainContainers, 2);
});

test('a secret whose value changed since the release: today\'s value is used, named in a note, and the spec hash moves', () => {
  const then = makeConfig();
  const records = deployRecords(then, 'v1');
  const rotated = makeEnv({ RAILS_ENV: 'production', RAILS_LOG_LEVEL: 'info' }, { DATABASE_URL: NEW_DB });
  const now = makeConfig({ roles: [makeRole('web', { hosts: [H1, H2], env: rotated }), makeRole('job', { hosts: [H1], cmd: 'bin/jobs', env: rotated })] });
  const { desired, notes } = desiredFromRelease({ config: now, version: 'v1', releases: records });
  assert.deepEqual(notes, [{ kind: 'secret-changed', name: 'DATABASE_URL', hosts: [H1, H2] }]);
  for (const host of [H1, H2]) {
    for (const spec of desired.hosts[host]!.containers) {
      assert.equal(spec.secretEnv.DATABASE_URL!.reveal(), NEW_DB);
      assert.notEqual(spec.specHash, records[host]!.specHashes[spec.role], 'another secret value is another container');
      assert.equal(spec.env.RAILS_LOG_LEVEL, 'info');
    }
  }
  // everything but the secret is the release's
  const strip = (d: Desired) => Object.values(d.hosts).flatMap((h) => h.containers.map(({ secretEnv: _s, specHash: _h, labels, cordDir: _c, ...rest }) => ({ ...rest, labels: { ...labels, 'mrsk.spec-hash': '', 'mrsk.spec-parts': '' } })));
  assert.deepEqual(strip(desired), strip(deriveDesired(then, 'v1')));
  const sentence = describeNote(notes[0]!, '20261120T100000-v1');
  assert.match(sentence, /secret DATABASE_URL has changed since release 20261120T100000-v1 \(on h1\.example\.com, h2\.example\.com\): its current value is used/);
  for (const value of [DATABASE_URL_VALUE, NEW_DB]) assert.ok(!sentence.includes(value));
});

test('a secret the release ran with is looked up in another role, else among the config\'s secrets', () => {
  const then = makeConfig({ roles: [makeRole('web', { hosts: [H1], env: makeEnv({}, { DATABASE_URL: DATABASE_URL_VALUE, API_KEY: 'k-1' }) })] });
  const records = deployRecords(then, 'v1');
  const otherRole = makeConfig({
    roles: [makeRole('web', { hosts: [H1], env: makeEnv({}, { DATABASE_URL: DATABASE_URL_VALUE }) }), makeRole('job', { hosts: [H1], env: makeEnv({}, { API_KEY: 'k-2' }) })],
  });
  const viaRole = desiredFromRelease({ config: otherRole, version: 'v1', releases: records });
  assert.equal(viaRole.desired.hosts[H1]!.containers[0]!.secretEnv.API_KEY!.reveal(), 'k-2');
  assert.deepEqual(viaRole.notes.filter((n) => n.kind === 'secret-changed'), [{ kind: 'secret-changed', name: 'API_KEY', hosts: [H1] }]);
  const onlyInSecrets = makeConfig({ roles: [makeRole('web', { hosts: [H1], env: makeEnv({}, { DATABASE_URL: DATABASE_URL_VALUE }) })], secrets: [new Secret('DATABASE_URL', DATABASE_URL_VALUE), new Secret('API_KEY', 'k-1')] });
  const viaSecrets = desiredFromRelease({ config: onlyInSecrets, version: 'v1', releases: records });
  assert.equal(viaSecrets.desired.hosts[H1]!.containers[0]!.specHash, records[H1]!.specHashes.web, 'same value: same container');
  assert.deepEqual(viaSecrets.notes, []);
});

test('a secret the config no longer gives at all: refused with every name and where, never a value', () => {
  const then = richConfig();
  const records = deployRecords(then, 'v1');
  const now = makeConfig({ roles: [makeRole('web', { hosts: [H1, H2], env: makeEnv({ RAILS_ENV: 'production' }) }), makeRole('job', { hosts: [H1], env: makeEnv() })], secrets: [] });
  assert.throws(
    () => desiredFromRelease({ config: now, version: 'v1', releases: records }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(
        error.message,
        'the release ran with secret(s) the config no longer gives: DATABASE_URL (web on h1.example.com, job on h1.example.com, web on h2.example.com); JOB_TOKEN (job on h1.example.com). Add them back to env.secret (today\'s values are used), or deploy instead of rolling back',
      );
      return true;
    },
  );
});

test('roles differ: a role the config dropped runs again, a role added since is taken off, each named', () => {
  const then = makeConfig();
  const records = deployRecords(then, 'v1');
  const now = makeConfig({ roles: [makeRole('web', { hosts: [H1, H2] }), makeRole('worker', { hosts: [H1, H2], cmd: 'bin/worker' })] });
  const { desired, notes } = desiredFromRelease({ config: now, version: 'v1', releases: records });
  assert.deepEqual(desired.hosts[H1]!.containers.map((c) => c.name), ['app-web-v1', 'app-job-v1']);
  assert.deepEqual(desired.hosts[H2]!.containers.map((c) => c.name), ['app-web-v1']);
  assert.deepEqual(desired.hosts[H1]!.containers[1], deriveDesired(then, 'v1').hosts[H1]!.containers[1]);
  assert.deepEqual(notes, [
    { kind: 'role-restored', role: 'job', hosts: [H1] },
    { kind: 'role-not-in-release', role: 'worker', hosts: [H1, H2] },
  ]);
  assert.equal(describeNote(notes[0]!, 'R'), 'role job ran in release R but is no longer in the config: it runs again on h1.example.com');
  assert.equal(describeNote(notes[1]!, 'R'), 'role worker is in the config but did not run in release R: its containers are taken off on h1.example.com, h2.example.com');

  // the plan against hosts that run v2 of today's config: job comes back, worker goes
  const snapshot = deployedSnapshot(now, 'v2', deployedSnapshot(then, 'v1'));
  const plan = diff(desired, snapshot);
  const h1 = plan.steps.filter((s) => s.host === H1).map((s) => `${s.action.kind} ${'name' in s.action ? s.action.name : ''}`.trim());
  assert.ok(h1.includes('container-run app-job-v1') || h1.includes('container-start app-job-v1'), h1.join('\n'));
  assert.ok(h1.includes('container-stop app-worker-v2'), h1.join('\n'));
  assert.ok(!plan.steps.some((s) => s.action.kind === 'image-pull'), 'the image of v1 is still on the host');
});

test('rolling back to a retained release on hosts that run v2: the v1 containers are started again, nothing is run or pulled', () => {
  const then = makeConfig();
  const now = makeConfig({ roles: [makeRole('web', { hosts: [H1, H2], env: makeEnv({ RAILS_ENV: 'production', RAILS_LOG_LEVEL: 'debug' }, { DATABASE_URL: DATABASE_URL_VALUE }) }), makeRole('job', { hosts: [H1], cmd: 'bin/jobs' })] });
  const records = deployRecords(then, 'v1');
  const snapshot = deployedSnapshot(now, 'v2', deployedSnapshot(then, 'v1'));
  const { desired } = desiredFromRelease({ config: now, version: 'v1', releases: records });
  const plan = diff(desired, snapshot);
  const kindsOf = new Set(plan.steps.map((s) => s.action.kind));
  assert.ok(kindsOf.has('container-start'));
  assert.ok(!kindsOf.has('container-run') && !kindsOf.has('image-pull'), [...kindsOf].join(', '));
  // with today's config only the image would come back: the retained v1 container has other env, so it is replaced
  const imageOnly = diff(deriveDesired(now, 'v1'), snapshot);
  assert.ok(imageOnly.steps.some((s) => s.action.kind === 'container-run'));
  // the new record keeps the release's desired state again
  const release = plan.steps.find((s) => s.host === H1 && s.action.kind === 'release-record')!;
  assert.equal(release.action.kind === 'release-record' && release.action.desired?.containers[0]!.env.RAILS_LOG_LEVEL, 'info');
});

test('a host without a record of the release, or with one of another version: the config at the release\'s version', () => {
  const config = makeConfig();
  const records = deployRecords(config, 'v1');
  const changed = makeConfig({ labels: { later: 'yes' } });
  for (const releases of [{ [H1]: records[H1] }, { [H1]: records[H1], [H2]: { ...records[H2]!, version: 'v0' } }]) {
    const { desired, notes } = desiredFromRelease({ config: changed, version: 'v1', releases });
    assert.deepEqual(notes, [{ kind: 'not-recorded', hosts: [H2] }]);
    assert.deepEqual(desired.hosts[H2], deriveDesired(changed, 'v1').hosts[H2]);
    assert.deepEqual(desired.hosts[H1]!.containers, deriveDesired(config, 'v1').hosts[H1]!.containers);
  }
  assert.equal(describeNote({ kind: 'not-recorded', hosts: [H2] }, 'R'), 'on h2.example.com: no record of release R; the current config is used at its version');
});

test('an old record without desired state, or one that cannot be used: today\'s behaviour (config at that version) and a note', () => {
  const config = makeConfig();
  const records = deployRecords(config, 'v1');
  const changed = makeConfig({ labels: { later: 'yes' } });
  const good = records[H1]!.desired as RecordedHostDesired;
  const container = good.containers[0]!;
  const bad: unknown[] = [
    undefined,
    null,
    'text',
    { ...good, format: 2 },
    { ...good, containers: 'no' },
    { ...good, containers: [{ ...container, env: { A: 1 } }] },
    { ...good, containers: [{ ...container, secrets: ['DATABASE_URL'] }] },
    { ...good, containers: [{ ...container, healthcheck: { cmd: 'x' } }] },
    { ...good, containers: [{ ...container, proxied: 'yes' }] },
    { ...good, containers: [{ ...container, specHash: undefined }] },
    { ...good, traefik: { ...good.traefik, apiPort: '8080' } },
    // a record naming other containers than this service's at this version
    { ...good, containers: [{ ...container, service: 'other' }] },
    { ...good, containers: [{ ...container, version: 'v9' }] },
    { ...good, containers: [{ ...container, name: 'app-web-v1-evil' }] },
    { ...good, containers: [{ ...container, destination: 'prod' }] },
    { ...good, containers: [container, container] },
  ];
  for (const desiredValue of bad) {
    const { desired, notes } = desiredFromRelease({ config: changed, version: 'v1', releases: { ...records, [H1]: { ...records[H1]!, desired: desiredValue } } });
    assert.deepEqual(notes, [{ kind: 'config-not-restored', hosts: [H1] }], JSON.stringify(desiredValue)?.slice(0, 80));
    assert.deepEqual(desired.hosts[H1], deriveDesired(changed, 'v1').hosts[H1]);
    assert.deepEqual(desired.hosts[H2]!.containers, deriveDesired(config, 'v1').hosts[H2]!.containers, 'the other host is restored');
  }
  const { desired: withoutKey } = desiredFromRelease({ config: changed, version: 'v1', releases: { [H1]: { ...records[H1]!, desired: undefined }, [H2]: records[H2] } });
  assert.deepEqual(withoutKey.hosts[H1], deriveDesired(changed, 'v1').hosts[H1]);
  assert.match(describeNote({ kind: 'config-not-restored', hosts: [H1] }, 'R'), /^on h1\.example\.com: the record of release R keeps no config \(written by an older mrsk, or unreadable\); only its version is restored, with the current config$/);
});

test('Traefik: kept as the config has it by default (named when the release\'s differs); restored on request', () => {
  const then = makeConfig();
  const records = deployRecords(then, 'v1');
  const now = makeConfig({ traefik: { ...then.traefik, image: 'traefik:v3.7', args: { 'log.level': 'DEBUG' } } });
  const kept = desiredFromRelease({ config: now, version: 'v1', releases: records });
  assert.deepEqual(kept.desired.hosts[H1]!.traefik, deriveDesired(now, 'v1').hosts[H1]!.traefik);
  assert.deepEqual(kept.notes, [{ kind: 'traefik-kept', hosts: [H1, H2] }]);
  const restored = desiredFromRelease({ config: now, version: 'v1', releases: records, traefik: 'restore' });
  assert.deepEqual(restored.desired.hosts[H1]!.traefik, deriveDesired(then, 'v1').hosts[H1]!.traefik);
  assert.deepEqual(restored.notes, [{ kind: 'traefik-restored', hosts: [H1, H2] }]);
  assert.match(describeNote(restored.notes[0]!, 'R'), /stop-first/);
  assert.match(describeNote(kept.notes[0]!, 'R'), /--restore-traefik/);
  // the same Traefik: no note either way
  for (const traefik of ['keep', 'restore'] as const) assert.deepEqual(desiredFromRelease({ config: then, version: 'v1', releases: records, traefik }).notes, []);
  // a release whose hosts ran no routed role has no Traefik to restore
  const jobsOnly = makeConfig({ roles: [makeRole('job', { hosts: [H1], cmd: 'bin/jobs' })] });
  const jobs = desiredFromRelease({ config: jobsOnly, version: 'v1', releases: deployRecords(jobsOnly, 'v1'), traefik: 'restore' });
  assert.equal(jobs.desired.hosts[H1]!.traefik, undefined);
});

test('a release whose role was routed where the config routes nothing today still gets a Traefik (the config\'s)', () => {
  const then = makeConfig();
  const now = makeConfig({ roles: [makeRole('job', { hosts: [H1, H2], cmd: 'bin/jobs' })] });
  const { desired } = desiredFromRelease({ config: now, version: 'v1', releases: deployRecords(then, 'v1') });
  assert.ok(desired.hosts[H2]!.traefik, 'the restored web role needs one');
  assert.equal(desired.hosts[H2]!.traefik!.specHash, deriveDesired(then, 'v1').hosts[H2]!.traefik!.specHash);
});

test('the recorded state holds no secret value: names and short HMACs only, also after a JSON round trip', () => {
  const config = richConfig();
  const state = deriveDesired(config, 'v1');
  for (const host of Object.values(state.hosts)) {
    const recorded = recordHostDesired(host, { roles: new Set(host.containers.map((c) => c.role)), traefik: true });
    const json = JSON.stringify(recorded);
    for (const value of [DATABASE_URL_VALUE, 'hunter2', 'job-token-secret-1', '[REDACTED]']) assert.ok(!json.includes(value), `${value} in the record`);
    const full = hmacHex(secretDigestKey('app'), DATABASE_URL_VALUE);
    assert.ok(!json.includes(full), 'not even the whole HMAC');
    assert.equal(recorded.containers[0]!.secrets.DATABASE_URL, full.slice(0, 16));
    assert.deepEqual(parseRecordedDesired(JSON.parse(json)), recorded);
    assert.equal(recorded.format, RECORDED_DESIRED_FORMAT);
    for (const c of recorded.containers) {
      assert.ok(!('secretEnv' in c));
      assert.ok(!('mrsk.spec-hash' in c.labels) && !('mrsk.spec-parts' in c.labels), 'derived labels are recomputed, not kept');
    }
  }
  // and a release-record step of a plan carries the same
  const plan = diff(state, emptySnapshot(config));
  const actions = plan.steps.filter((s) => s.action.kind === 'release-record');
  assert.equal(actions.length, 2);
  for (const step of actions) assert.ok(!JSON.stringify(step).includes(DATABASE_URL_VALUE) && !JSON.stringify(step).includes('job-token-secret-1'));
});

test('recordContainer lists every field of a spec but secretEnv (a new spec field fails here until it is recorded)', () => {
  const spec = deriveDesired(richConfig(), 'v1').hosts[H1]!.containers[0]!;
  const recorded = recordContainer(spec);
  const specKeys = Object.keys(spec).filter((k) => k !== 'secretEnv' && k !== 'cordDir').sort();
  assert.deepEqual(Object.keys(recorded).filter((k) => k !== 'secrets').sort(), specKeys);
});

test('a plan limited to some roles keeps what the previous record says of the others, and of Traefik when no routed role is planned', () => {
  const config = makeConfig();
  const v1 = deriveDesired(config, 'v1').hosts[H1]!;
  const previous = recordHostDesired(v1, { roles: new Set(['web', 'job']), traefik: true });
  const changed = makeConfig({ traefik: { ...config.traefik, image: 'traefik:v9' }, roles: [makeRole('web', { hosts: [H1, H2] }), makeRole('job', { hosts: [H1], cmd: 'bin/other' })] });
  const v2 = deriveDesired(changed, 'v2').hosts[H1]!;
  const jobOnly = recordHostDesired(v2, { roles: new Set(['job']), traefik: false }, JSON.parse(JSON.stringify(previous)));
  assert.deepEqual(jobOnly.containers.map((c) => c.name), ['app-web-v1', 'app-job-v2']);
  assert.deepEqual(jobOnly.containers[0], previous.containers[0]);
  assert.deepEqual(jobOnly.traefik, previous.traefik);
  // nothing readable before: the left-out role and Traefik are not recorded
  for (const before of [undefined, { format: 1, containers: 'x' }]) {
    const partial = recordHostDesired(v2, { roles: new Set(['job']), traefik: false }, before);
    assert.deepEqual(partial.containers.map((c) => c.name), ['app-job-v2']);
    assert.equal(partial.traefik, undefined);
  }
  // the whole host in scope: the previous record does not matter
  assert.deepEqual(recordHostDesired(v2, { roles: new Set(['web', 'job']), traefik: true }, previous), recordHostDesired(v2, { roles: new Set(['web', 'job']), traefik: true }));
});

test('releaseOnEachHost: the id itself, else the same version closest in time; a version alone: its newest record', () => {
  const rec = (id: string, version: string, appliedAt: string): ReleaseRecord => ({ id, version, appliedAt, appliedBy: 'me', specHashes: {} });
  const a1 = rec('20261120T100000-v1', 'v1', '2026-11-20T10:00:00.000Z');
  const b1 = rec('20261120T100004-v1', 'v1', '2026-11-20T10:00:04.000Z'); // same run, a later batch
  const b1later = rec('20261121T090000-v1', 'v1', '2026-11-21T09:00:00.000Z'); // an apply of v1 a day later
  const b2 = rec('20261120T110000-v2', 'v2', '2026-11-20T11:00:00.000Z');
  const ledgers = { h1: [a1], h2: [b2, b1later, b1], h3: [b2], h4: [] };
  assert.deepEqual(releaseOnEachHost(ledgers, { version: 'v1', anchor: a1 }), { h1: a1, h2: b1, h3: undefined, h4: undefined });
  assert.deepEqual(releaseOnEachHost(ledgers, { version: 'v1', anchor: b1later }), { h1: a1, h2: b1later, h3: undefined, h4: undefined });
  assert.deepEqual(releaseOnEachHost(ledgers, { version: 'v1' }), { h1: a1, h2: b1later, h3: undefined, h4: undefined });
  assert.deepEqual(releaseOnEachHost(ledgers, { version: 'v2' }), { h1: undefined, h2: b2, h3: b2, h4: undefined });
  // equally close: the id decides, so the choice never depends on the ledger's order
  const before = rec('20261120T095958-v1', 'v1', '2026-11-20T09:59:58.000Z');
  const after = rec('20261120T100002-v1', 'v1', '2026-11-20T10:00:02.000Z');
  const anchor = rec('20261120T100000-v1', 'v1', '2026-11-20T10:00:00.000Z');
  assert.equal(releaseOnEachHost({ h: [after, before] }, { version: 'v1', anchor }).h, before);
  assert.equal(releaseOnEachHost({ h: [before, after] }, { version: 'v1', anchor }).h, before);
});

test('every note reads as a sentence naming its hosts', () => {
  const notes: ReleaseNote[] = [
    { kind: 'not-recorded', hosts: [H1] },
    { kind: 'config-not-restored', hosts: [H1] },
    { kind: 'secret-changed', name: 'S', hosts: [H1] },
    { kind: 'role-restored', role: 'job', hosts: [H1] },
    { kind: 'role-not-in-release', role: 'worker', hosts: [H1] },
    { kind: 'traefik-kept', hosts: [H1] },
    { kind: 'traefik-restored', hosts: [H1] },
  ];
  for (const note of notes) {
    const sentence = describeNote(note, '20261120T100000-v1');
    assert.ok(sentence.includes(H1) && sentence.includes('20261120T100000-v1'), sentence);
  }
  assert.deepEqual(kinds(notes), ['not-recorded', 'config-not-restored', 'secret-changed', 'role-restored', 'role-not-in-release', 'traefik-kept', 'traefik-restored']);
});

test('the release-record step writes the desired state into both ledger files, with no secret value in the JSON', async () => {
  const config = richConfig();
  const plan = diff(deriveDesired(config, 'v1'), emptySnapshot(config));
  const step = plan.steps.find((s) => s.host === H1 && s.action.kind === 'release-record')!;
  const uploads: { path: string; body: string; mode: number }[] = [];
  const runner: Runner = {
    exec: async () => assert.fail('the record is uploaded, no command runs'),
    upload: async (host, path, content, mode) => {
      assert.equal(host, H1);
      uploads.push({ path, body: String(content), mode });
    },
    close: async () => {},
    stats: () => ({}),
  };
  const ctx: StepContext = { runner, secrets: config.secrets, service: 'app', homes: { [H1]: '/home/deploy' }, appliedBy: 'ci@laptop', pollIntervalMs: 10, drainGraceMs: 0, progress: () => {} };
  await runStep(ctx, step);
  assert.equal(uploads.length, 2);
  assert.match(uploads[0]!.path, /^\/home\/deploy\/\.mrsk\/app\/releases\/\d{8}T\d{6}-v1\.json$/);
  assert.equal(uploads[1]!.path, '/home/deploy/.mrsk/app/releases/current.json');
  for (const { body } of uploads) {
    for (const value of [DATABASE_URL_VALUE, 'hunter2', 'job-token-secret-1', 'REDACTED']) assert.ok(!body.includes(value), `${value} in the ledger`);
    const record = JSON.parse(body) as ReleaseRecord;
    assert.deepEqual(parseRecordedDesired(record.desired), step.action.kind === 'release-record' ? step.action.desired : undefined);
    // and what was written restores the release
    const { desired, notes } = desiredFromRelease({ config, version: 'v1', releases: { [H1]: record } });
    assert.deepEqual(desired.hosts[H1], deriveDesired(config, 'v1').hosts[H1]);
    assert.deepEqual(notes, [{ kind: 'not-recorded', hosts: [H2] }]);
  }
});
