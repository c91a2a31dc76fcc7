// Saved plans (--out) and the snapshot fingerprint that makes a stale one detectable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveDesired } from '../../../src/desired/desired.ts';
import { diff } from '../../../src/plan/diff.ts';
import { fingerprintSnapshot } from '../../../src/plan/fingerprint.ts';
import { parsePlanFile, serializePlan } from '../../../src/plan/saved.ts';
import { StalePlanError, UsageError } from '../../../src/errors.ts';
import { DATABASE_URL_VALUE, makeConfig, makeEnv, makeRole } from '../helpers/config.ts';
import { editContainer } from '../helpers/scenarios.ts';
import { deployedSnapshot, emptySnapshot } from '../helpers/snapshot.ts';

const config = makeConfig();
const plan = diff(deriveDesired(config, 'v1'), emptySnapshot(config));

test('a saved plan holds no secret value, only secret names', () => {
  const text = serializePlan(plan);
  assert.ok(!text.includes(DATABASE_URL_VALUE));
  assert.ok(!text.includes('hunter2'));
  assert.ok(!text.includes('[REDACTED]'), 'secrets are written as names, not as redaction markers');
  const saved = JSON.parse(text) as { format_version: string; kind: string; snapshot_fingerprint: string; steps: { action: { kind: string; spec?: { secretEnv: unknown } } }[] };
  assert.equal(saved.format_version, '1');
  assert.equal(saved.kind, 'mrsk-plan');
  assert.equal(saved.snapshot_fingerprint, plan.snapshotFingerprint);
  const run = saved.steps.find((s) => s.action.kind === 'container-run')!;
  assert.deepEqual(run.action.spec!.secretEnv, ['DATABASE_URL']);
});

test('reading a saved plan re-attaches secret values from the config and gives back the same plan', () => {
  const read = parsePlanFile(serializePlan(plan), config);
  assert.equal(JSON.stringify(read), JSON.stringify(plan));
  const run = read.steps.find((s) => s.action.kind === 'container-run')!;
  assert.ok(run.action.kind === 'container-run');
  assert.equal(run.action.spec.secretEnv.DATABASE_URL!.reveal(), DATABASE_URL_VALUE);
});

test('a fingerprint passed to serializePlan is the one saved', () => {
  const read = parsePlanFile(serializePlan(plan, 'sha256:abc'), config);
  assert.equal(read.snapshotFingerprint, 'sha256:abc');
});

test('a saved plan is refused when a secret changed or disappeared since, naming it', () => {
  const rotated = makeConfig({ roles: config.roles.map((r) => makeRole(r.name, { ...r, env: makeEnv(r.env.clear, { DATABASE_URL: 'rotated' }) })) });
  assert.throws(() => parsePlanFile(serializePlan(plan), rotated), (error: unknown) => error instanceof StalePlanError && /the value of DATABASE_URL changed/.test(error.message));
  const gone = makeConfig({ roles: config.roles.map((r) => makeRole(r.name, { ...r, env: makeEnv(r.env.clear, {}) })) });
  assert.throws(() => parsePlanFile(serializePlan(plan), gone), (error: unknown) => error instanceof StalePlanError && /needs secret DATABASE_URL/.test(error.message));
});

test('a saved plan is refused for another service or destination, and a non-plan file is a usage error', () => {
  assert.throws(() => parsePlanFile(serializePlan(plan), makeConfig({ destination: 'staging' })), StalePlanError);
  assert.throws(() => parsePlanFile('{"hello":1}', config), UsageError);
  assert.throws(() => parsePlanFile('not json', config), UsageError);
  assert.throws(() => parsePlanFile(serializePlan(plan).replace('"format_version": "1"', '"format_version": "2"'), config), UsageError);
});

test('the fingerprint ignores probe time and health, but changes when a container changes', () => {
  const deployed = deployedSnapshot(config, 'v1');
  const base = fingerprintSnapshot(deployed);
  assert.match(base, /^sha256:[0-9a-f]{64}$/);
  assert.equal(fingerprintSnapshot({ ...deployed, takenAt: '2030-01-01T00:00:00.000Z' }), base);
  assert.equal(fingerprintSnapshot(editContainer(deployed, 'h1.example.com', 'app-web-v1', (c) => ({ ...c, health: 'starting' }))), base);
  assert.notEqual(fingerprintSnapshot(editContainer(deployed, 'h1.example.com', 'app-web-v1', (c) => ({ ...c, state: 'exited' }))), base);
  assert.notEqual(fingerprintSnapshot(editContainer(deployed, 'h1.example.com', 'app-web-v1', (c) => ({ ...c, id: 'f'.repeat(64) }))), base);
});

test('every scenario plan survives a save and read back unchanged', async () => {
  const { scenarios } = await import('../helpers/scenarios.ts');
  for (const scenario of scenarios()) {
    const original = diff(deriveDesired(scenario.config, scenario.version), scenario.snapshot, scenario.options);
    const text = serializePlan(original);
    assert.equal(JSON.stringify(parsePlanFile(text, scenario.config)), JSON.stringify(original), scenario.name);
  }
});

test("a saved plan keeps the Traefik file's certificate and key as secret names and re-attaches them from the config", async () => {
  const { httpsConfig, TLS_CERTIFICATE_A, TLS_CERTIFICATE_B, TLS_PRIVATE_KEY } = await import('../helpers/scenarios.ts');
  const https = httpsConfig();
  const original = diff(deriveDesired(https, 'v1'), emptySnapshot(https));
  const text = serializePlan(original);
  for (const secret of [TLS_CERTIFICATE_A, TLS_PRIVATE_KEY, 'secret-']) assert.ok(!text.includes(secret), 'no certificate or key in the file');
  assert.ok(!text.includes('[REDACTED]'), 'secrets are written as names, not as redaction markers');
  type Saved = { secret: string; digest: string };
  const saved = JSON.parse(text) as { steps: { action: { kind: string; file?: { certificates: { certificate: Saved; privateKey: Saved }[] } } }[] };
  const [pair, ...more] = saved.steps.find((s) => s.action.kind === 'traefik-file-write')!.action.file!.certificates;
  assert.equal(more.length, 0);
  assert.equal(pair!.certificate.secret, 'TLS_CERTIFICATE');
  assert.equal(pair!.privateKey.secret, 'TLS_PRIVATE_KEY');
  for (const { digest } of [pair!.certificate, pair!.privateKey]) assert.match(digest, /^[0-9a-f]{16}$/);

  const read = parsePlanFile(text, https);
  assert.equal(JSON.stringify(read), JSON.stringify(original));
  const step = read.steps.find((s) => s.action.kind === 'traefik-file-write')!;
  assert.ok(step.action.kind === 'traefik-file-write');
  assert.equal(step.action.file.certificates[0]!.certificate.reveal(), TLS_CERTIFICATE_A);
  assert.equal(step.action.file.certificates[0]!.privateKey.reveal(), TLS_PRIVATE_KEY);

  // a certificate rotated since the plan was saved: refused, naming the secret and not its value
  assert.throws(
    () => parsePlanFile(text, httpsConfig({ certificate: TLS_CERTIFICATE_B })),
    (error: unknown) => error instanceof StalePlanError && /the value of TLS_CERTIFICATE changed/.test(error.message) && !error.message.includes('secret-'),
  );
  // the certificate is no longer configured at all
  assert.throws(() => parsePlanFile(text, httpsConfig({ acme: true, webHosts: ['h1.example.com'] })), (error: unknown) => error instanceof StalePlanError && /needs secret TLS_CERTIFICATE for the Traefik file app.yml/.test(error.message));
  // a hand-edited saved file whose content no longer matches its hash
  const tampered = text.replace(/"responseHeaderTimeout": 30/g, '"responseHeaderTimeout": 31');
  assert.notEqual(tampered, text);
  assert.throws(() => parsePlanFile(tampered, https), (error: unknown) => error instanceof StalePlanError && /app.yml no longer matches its hash/.test(error.message));
});
