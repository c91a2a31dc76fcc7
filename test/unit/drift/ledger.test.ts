// The release ledger: the read-only script run by a real /bin/sh against a home folder laid out
// as apply leaves it, then parsed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findRelease, parseLedger } from '../../../src/drift/ledger.ts';
import { readLedgerScript } from '../../../src/host/ledger.ts';
import { RELEASE_ID_PATTERN } from '../../../src/commands/shared/releases.ts';

function record(id: string, version: string, appliedAt: string) {
  return { id, version, appliedAt, appliedBy: 'alice@laptop', specHashes: { web: `v1:${version}` } };
}

function runScript(home: string, service: string, destination?: string): string {
  return execFileSync('/bin/sh', ['-c', readLedgerScript({ service, destination }).script], { env: { HOME: home, PATH: process.env.PATH ?? '/usr/bin:/bin' }, encoding: 'utf8' });
}

test('the ledger script prints every release file; parsing orders them newest first and marks the current one', () => {
  const home = mkdtempSync(join(tmpdir(), 'mrsk-ledger-'));
  try {
    const dir = join(home, '.mrsk', 'app', 'releases');
    mkdirSync(dir, { recursive: true });
    const v1 = record('20261125T093011-v1', 'v1', '2026-11-25T09:30:11.502Z');
    const v2 = record('20261126T041502-v2', 'v2', '2026-11-26T04:15:02.118Z');
    writeFileSync(join(dir, `${v1.id}.json`), `${JSON.stringify(v1, null, 2)}\n`);
    writeFileSync(join(dir, `${v2.id}.json`), `${JSON.stringify(v2, null, 2)}\n`);
    writeFileSync(join(dir, 'current.json'), `${JSON.stringify(v2, null, 2)}\n`);
    writeFileSync(join(dir, 'broken.json'), '{ not json');
    // another destination of the same service is another ledger
    mkdirSync(join(home, '.mrsk', 'app-staging', 'releases'), { recursive: true });
    writeFileSync(join(home, '.mrsk', 'app-staging', 'releases', 'x.json'), JSON.stringify(record('20261101T000000-s1', 's1', '2026-11-01T00:00:00Z')));

    const ledger = parseLedger(runScript(home, 'app'));
    assert.deepEqual(ledger.releases.map((r) => r.id), [v2.id, v1.id]);
    assert.equal(ledger.currentId, v2.id);
    assert.deepEqual(ledger.unreadable, ['broken.json']);
    assert.deepEqual(ledger.releases[1], v1);
    assert.deepEqual(parseLedger(runScript(home, 'app', 'staging')).releases.map((r) => r.version), ['s1']);
    assert.equal(findRelease([ledger], v1.id)?.version, 'v1');
    assert.equal(findRelease([ledger], '20990101T000000-v9'), undefined);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('a host with no ledger folder prints nothing and has no releases', () => {
  const home = mkdtempSync(join(tmpdir(), 'mrsk-ledger-'));
  try {
    const output = runScript(home, 'app');
    assert.equal(output, '');
    assert.deepEqual(parseLedger(output), { releases: [], unreadable: [] });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('release ids are told apart from versions', () => {
  assert.ok(RELEASE_ID_PATTERN.test('20261126T041502-v2'));
  assert.ok(!RELEASE_ID_PATTERN.test('v2'));
  assert.ok(!RELEASE_ID_PATTERN.test('4f2a9c1'));
});

test('never-healthy containers are read from docker ps lines: this destination only, control characters dropped', async () => {
  const { parseNeverHealthy } = await import('../../../src/drift/ledger.ts');
  const output = [
    'app-web-v2\tv2\t',
    'app-web-v3_unhealthy_0123456789ab\tv3\t',
    'app-web-staging-v3_unhealthy_0123456789ab\tv3\tstaging',
    'app-web-v4_unhealthy_abcdefabcdef\tv4\x1b[2J\t',
    '',
  ].join('\n');
  assert.deepEqual(parseNeverHealthy(output), [
    { version: 'v3', container: 'app-web-v3_unhealthy_0123456789ab' },
    { version: 'v4', container: 'app-web-v4_unhealthy_abcdefabcdef' },
  ]);
  assert.deepEqual(parseNeverHealthy(output, 'staging'), [{ version: 'v3', container: 'app-web-staging-v3_unhealthy_0123456789ab' }]);
});
