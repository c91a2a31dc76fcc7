// The accessory step handlers (src/apply/steps.ts) on the ScriptedRunner: files travel as upload
// data (never on a command line) after their hash is checked against the plan's, secrets only in
// a 0600 env file, data removal refuses paths near / or the home folder.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { runStep, type StepContext } from '../../../src/apply/steps.ts';
import { DeployError, StalePlanError } from '../../../src/errors.ts';
import { accessorySpecFor } from '../../../src/desired/accessory.ts';
import type { PlanStep, StepAction } from '../../../src/plan/types.ts';
import { ScriptedRunner, fail, ok } from '../../helpers/scripted-runner.ts';
import { makeConfig, makeEnv, makeRole } from '../helpers/config.ts';

const HOST = '10.0.0.1';
const used: ScriptedRunner[] = [];
afterEach(() => {
  for (const runner of used.splice(0)) runner.assertNoUnexpected();
});

function context(runner: ScriptedRunner): StepContext {
  used.push(runner);
  return { runner, secrets: [], service: 'app', homes: { [HOST]: '/home/deploy' }, appliedBy: 'test', pollIntervalMs: 10, drainGraceMs: 0, progress: () => {} };
}

const stepOf = (action: StepAction): PlanStep => ({ id: `${HOST}:accessory:redis:x`, host: HOST, address: `${HOST}/accessory/redis`, symbol: '+', actions: ['create'], cause: 'test', dependsOn: [], precondition: {}, batch: 0, action });

function projectFile(t: { after: (fn: () => void) => void }, content: string): { path: string; hash: string } {
  const dir = mkdtempSync(join(tmpdir(), 'mrsk-acc-step-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'redis.conf');
  writeFileSync(path, content);
  return { path, hash: `sha256:${createHash('sha256').update(content).digest('hex')}` };
}

test('accessory-prepare: folders made, the file uploaded as data with its mode, then chmod and chown', async (t) => {
  const file = projectFile(t, 'requirepass s3cret-in-file\n');
  const runner = new ScriptedRunner()
    .on({ script: "mkdir -p /home/deploy/.mrsk/app/accessories/redis/data/data /home/deploy/.mrsk/app/accessories/redis/files/etc" }, ok())
    .on({ script: "chmod 0640 /home/deploy/.mrsk/app/accessories/redis/files/etc/redis.conf && chown 999:999 /home/deploy/.mrsk/app/accessories/redis/files/etc/redis.conf" }, ok());
  await runStep(
    context(runner),
    stepOf({
      kind: 'accessory-prepare',
      name: 'redis',
      directories: ['.mrsk/app/accessories/redis/data/data'],
      files: [{ localPath: file.path, hostPath: '.mrsk/app/accessories/redis/files/etc/redis.conf', remote: '/etc/redis.conf', mode: '0640', owner: '999:999', hash: file.hash }],
    }),
  );
  assert.deepEqual(runner.uploads.map((u) => ({ ...u, content: String(u.content) })), [
    { host: HOST, path: '/home/deploy/.mrsk/app/accessories/redis/files/etc/redis.conf', content: 'requirepass s3cret-in-file\n', mode: 0o640 },
  ]);
  assert.ok(runner.calls.every((call) => !call.line.includes('s3cret-in-file')), 'the content is never on a command line');
});

test('accessory-prepare: a file edited since the plan is refused as stale before anything is uploaded', async (t) => {
  const file = projectFile(t, 'new content\n');
  const runner = new ScriptedRunner().on({ script: /^mkdir -p / }, ok());
  const error = await runStep(
    context(runner),
    stepOf({ kind: 'accessory-prepare', name: 'redis', directories: [], files: [{ localPath: file.path, hostPath: '.mrsk/app/accessories/redis/files/r.conf', remote: '/r.conf', mode: '0644', hash: `sha256:${'0'.repeat(64)}` }] }),
  ).then(() => assert.fail('must fail'), (e: unknown) => e);
  assert.ok(error instanceof StalePlanError, String(error));
  assert.match(error.message, /redis\.conf changed since the plan was made; re-run plan/);
  assert.deepEqual(runner.uploads, []);
});

test('accessory-run: secrets through a 0600 env file, files read-only and data read-write mounted at absolute host paths', async () => {
  const config = makeConfig({ roles: [makeRole('web', { hosts: [HOST] })] });
  const spec = accessorySpecFor(config, {
    name: 'db',
    image: 'postgres:16',
    hosts: [HOST],
    port: '127.0.0.1:5432:5432',
    env: makeEnv({ PGDATA: '/data' }, { POSTGRES_PASSWORD: 'pg-pass-xyz' }),
    volumes: [],
    labels: {},
    options: {},
    files: [{ local: 'a.conf', localPath: '/p/a.conf', remote: '/etc/a.conf', mode: '0644', hash: 'sha256:1' }],
    directories: [{ local: 'pg', remote: '/data' }],
  });
  let argv: readonly string[] = [];
  const runner = new ScriptedRunner()
    .onArgv(['docker', 'inspect', '--type', 'container', 'app-db'], fail('Error: No such object: app-db'))
    .on({ prefix: ['docker', 'run', '-d', '--name', 'app-db'] }, (call) => {
      argv = call.argv!;
      return ok('id\n');
    });
  await runStep(context(runner), stepOf({ kind: 'accessory-run', spec }));
  assert.deepEqual(runner.uploads.map((u) => ({ path: u.path, content: String(u.content), mode: u.mode })), [
    { path: '/home/deploy/.mrsk/app/env/app-db.env', content: 'POSTGRES_PASSWORD=pg-pass-xyz\n', mode: 0o600 },
  ]);
  assert.ok(!argv.join(' ').includes('pg-pass-xyz'));
  const line = argv.join(' ');
  for (const part of ['--network mrsk', '--restart unless-stopped', '-p 127.0.0.1:5432:5432', '--env PGDATA=/data', '--env-file /home/deploy/.mrsk/app/env/app-db.env', '-v /home/deploy/.mrsk/app/accessories/db/files/etc/a.conf:/etc/a.conf:ro', '-v /home/deploy/.mrsk/app/accessories/db/data/pg:/data', '--label mrsk.accessory=db']) {
    assert.ok(line.includes(part), `${part} in ${line}`);
  }
  assert.equal(argv.at(-1), 'postgres:16');
});

test('accessory-data-remove: rm -rf of the planned folders; one next to / or the home folder is refused', async () => {
  const runner = new ScriptedRunner().on({ script: "rm -rf /home/deploy/.mrsk/app/accessories/db /srv/pg" }, ok());
  await runStep(context(runner), stepOf({ kind: 'accessory-data-remove', name: 'db', dirs: ['.mrsk/app/accessories/db', '/srv/pg'] }));
  assert.equal(runner.calls.length, 1);
  for (const dirs of [['/srv'], ['/home/deploy/']]) {
    const refused = await runStep(context(new ScriptedRunner()), stepOf({ kind: 'accessory-data-remove', name: 'db', dirs })).then(() => assert.fail('must fail'), (e: unknown) => e);
    assert.ok(refused instanceof DeployError && /refusing to delete/.test(refused.message), String(refused));
  }
});
