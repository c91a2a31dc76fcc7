// Per-host output in host order, summaries and exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { combinedExitCode, failedOutcome, InOrderRelease, runPerHost, type HostOutcome } from '../../../src/ops/hosts.ts';
import { formatHostSection, formatSummary } from '../../../src/views/hosts.ts';
import { HostError } from '../../../src/errors.ts';

test('InOrderRelease holds later positions until the earlier ones arrive', () => {
  const release = new InOrderRelease<string>(3);
  assert.deepEqual(release.add(2, 'c'), []);
  assert.deepEqual(release.add(1, 'b'), []);
  assert.equal(release.done, false);
  assert.deepEqual(release.add(0, 'a'), ['a', 'b', 'c']);
  assert.equal(release.done, true);
});

test('InOrderRelease refuses a position twice or out of range', () => {
  const release = new InOrderRelease<string>(2);
  release.add(0, 'a');
  assert.throws(() => release.add(0, 'again'), RangeError);
  assert.throws(() => release.add(2, 'x'), RangeError);
});

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('runPerHost runs hosts in parallel but reports them in host order', async () => {
  const finished: string[] = [];
  const printed: string[] = [];
  const started = Date.now();
  const outcomes = await runPerHost(
    ['h1', 'h2', 'h3'],
    async (host) => {
      // h1 is the slowest: it finishes last but must be printed first
      await delay(host === 'h1' ? 120 : host === 'h2' ? 60 : 10);
      finished.push(host);
      return { host, ok: true, output: `out ${host}` };
    },
    (o) => printed.push(o.host),
  );
  const elapsed = Date.now() - started;
  assert.deepEqual(finished, ['h3', 'h2', 'h1']);
  assert.deepEqual(printed, ['h1', 'h2', 'h3']);
  assert.deepEqual(outcomes.map((o) => o.output), ['out h1', 'out h2', 'out h3']);
  assert.ok(elapsed < 220, `parallel, not serial (took ${elapsed} ms)`);
});

test('runPerHost turns a thrown error into a failed outcome: its first line, the host left to the header', async () => {
  const outcomes = await runPerHost(
    ['10.0.0.1', '10.0.0.2'],
    async (host) => {
      if (host === '10.0.0.2') throw new HostError('10.0.0.2', 'unreachable (connect ECONNREFUSED)\nmore detail', { kind: 'unreachable' });
      return { host, ok: true, output: '' };
    },
    () => undefined,
  );
  assert.equal(outcomes[1]!.ok, false);
  assert.equal(outcomes[1]!.problem, 'unreachable (connect ECONNREFUSED)');
  assert.equal(failedOutcome('h', 'plain').problem, 'plain');
});

test('formatHostSection prints the Kamal-style header, the output and a failure', () => {
  assert.equal(formatHostSection('App', { host: '10.0.0.1', ok: true, output: 'line 1\nline 2\n\n' }), 'App Host: 10.0.0.1\nline 1\nline 2\n\n');
  assert.equal(formatHostSection('App', { host: '10.0.0.2', ok: false, output: 'boom\n', problem: 'exit 3' }), 'App Host: 10.0.0.2\nboom\nerror: exit 3\n\n');
  assert.equal(formatHostSection('Traefik', { host: 'h', ok: false, output: '', problem: 'unreachable' }), 'Traefik Host: h\nerror: unreachable\n\n');
});

test('formatSummary lists every host and counts failures', () => {
  const outcomes: HostOutcome[] = [
    { host: '10.0.0.1', ok: true, code: 0, output: '' },
    { host: '10.0.0.22', ok: false, code: 3, output: '', problem: 'exit 3' },
  ];
  assert.equal(formatSummary(outcomes), 'Summary: 2 host(s), 1 failed\n  10.0.0.1   ok\n  10.0.0.22  FAILED  exit 3\n');
  assert.equal(formatSummary([{ host: 'a', ok: true, output: '' }]), '');
  assert.equal(formatSummary([{ host: 'a', ok: true, output: '' }, { host: 'b', ok: true, output: '' }]), 'Summary: 2 host(s), all ok\n  a  ok\n  b  ok\n');
});

test('combinedExitCode: 0 if all ok, the exit code of a single host, 1 for several', () => {
  assert.equal(combinedExitCode([{ host: 'a', ok: true, output: '' }]), 0);
  assert.equal(combinedExitCode([{ host: 'a', ok: false, code: 3, output: '' }]), 3);
  assert.equal(combinedExitCode([{ host: 'a', ok: false, output: '', problem: 'unreachable' }]), 1);
  assert.equal(combinedExitCode([{ host: 'a', ok: true, output: '' }, { host: 'b', ok: false, code: 3, output: '' }]), 1);
});
