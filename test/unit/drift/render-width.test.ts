// The drift report as a person reads it: commit-hash versions 12 characters long, findings
// wrapped at 80 columns under their marker; the JSON report keeps everything whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderDriftText } from '../../../src/views/drift.ts';
import type { DriftReport } from '../../../src/drift/types.ts';

const COMMIT = '3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f90a1b2c3';
const OLD = '0d1e2f3a4b5c6d7e8f901a2b3c4d5e6f7a8b9c0d';

const report: DriftReport = {
  formatVersion: '1',
  service: 'storefront',
  takenAt: '2026-11-30T12:00:00.000Z',
  hosts: [
    {
      host: 'h1',
      status: 'checked',
      release: { id: 'r7', version: COMMIT, appliedAt: '2026-11-30T11:00:00.123Z', appliedBy: 'ann' },
      findings: [
        {
          host: 'h1',
          kind: 'old-version-running',
          role: 'web',
          container: `storefront-web-${OLD}`,
          cause: `storefront-web-${OLD} of version ${OLD} is running beside the recorded release`,
          fixable: false,
          hint: 'stop it with mrsk app stop, or run mrsk apply to converge the hosts to the configuration',
        },
      ],
    },
  ],
  summary: { hostsChecked: 1, hostsWithDrift: 1, hostsInError: 0, findings: 1, fixable: 0 },
};

test('drift text: short versions, findings wrapped at 80 columns with an indent', () => {
  const text = renderDriftText(report);
  assert.ok(!text.includes(COMMIT) && !text.includes(OLD), text);
  assert.ok(text.includes('h1  release r7 (3c4d5e6f7a8b, applied 2026-11-30T11:00:00Z by ann)'));
  for (const line of text.split('\n')) assert.ok([...line].length <= 80, `wider than 80 columns: ${line}`);
  assert.match(text, /\n {2}✗ web: storefront-web-0d1e2f3a4b5c of version 0d1e2f3a4b5c is running beside\n {4}the recorded release/);
  assert.ok(JSON.stringify(report).includes(COMMIT), 'the report itself (--json) is untouched');
});

test('a release id as `mrsk releases` shows it (version 12 characters long) finds its release', async () => {
  const { findRelease } = await import('../../../src/drift/ledger.ts');
  const { shortVersion } = await import('../../../src/plan/short-version.ts');
  const record = { id: `20261130T121053-${COMMIT}`, version: COMMIT, appliedAt: '2026-11-30T12:10:53.378Z', appliedBy: 'ann', specHashes: {} };
  const ledger = { releases: [record], currentId: record.id, unreadable: [] } as unknown as Parameters<typeof findRelease>[0] extends Iterable<infer L> ? L : never;
  assert.equal(shortVersion(record.id), '20261130T121053-3c4d5e6f7a8b');
  assert.equal(findRelease([ledger], '20261130T121053-3c4d5e6f7a8b')?.version, COMMIT);
  assert.equal(findRelease([ledger], record.id)?.version, COMMIT);
  assert.equal(findRelease([ledger], '20261130T121053-3c4d'), undefined, 'only the shown form, not any prefix');
});
