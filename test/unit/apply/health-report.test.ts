// The report of a container that never became healthy: exact text from the facts gathered on the
// host (docker inspect's healthcheck and health log, docker logs, what stop and the serving check saw).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { healthcheckFor } from '../../../src/desired/desired.ts';
import type { HealthcheckConfig } from '../../../src/config/types.ts';
import { makeConfig } from '../helpers/config.ts';
import { watchingHealthcheck } from '../../../src/runtime/health-watch.ts';
import { describeProbe, formatProbeResult, healthReport, lastLines, servingSentence, stopSentence, stripControl, type HealthFailure } from '../../../src/apply/health-report.ts';

const MRSK_CHECK = [
  'CMD-SHELL',
  "test -f /run/mrsk/cord/ok && (wget -q -O /dev/null 'http://127.0.0.1:3000/up' || curl -fsS -o /dev/null 'http://127.0.0.1:3000/up')",
];

test('stripControl removes escape sequences and control characters, keeps text, newlines and tabs', () => {
  assert.equal(stripControl('a\x1b[31mred\x1b[0m b'), 'ared b');
  assert.equal(stripControl('title\x1b]0;pwned\x07 done'), 'title done');
  assert.equal(stripControl('bell\x07 nul\x00 del\x7f c1\x9b'), 'bell nul del c1');
  assert.equal(stripControl('one\r\ntwo\rthree\tfour'), 'one\ntwo\nthree\tfour');
  assert.equal(stripControl('reset\x1bc done'), 'reset done');
});

test('lastLines keeps the last non-empty lines, cut to 200 characters', () => {
  assert.deepEqual(lastLines('1\n2\n\n3\n4\n', 2), ['3', '4']);
  const long = 'x'.repeat(300);
  assert.equal(lastLines(long, 1)[0], `${'x'.repeat(199)}…`);
});

test("describeProbe: mrsk's own check is shown as the URL it fetches, with the drain file", () => {
  assert.equal(describeProbe(MRSK_CHECK), 'GET http://127.0.0.1:3000/up (wget, else curl), run by Docker inside the container (it also requires the drain file /run/mrsk/cord/ok)');
  assert.equal(
    describeProbe(['CMD-SHELL', 'test -f /run/mrsk/cord/ok && (wget -q -O /dev/null http://127.0.0.1:3000/up || curl -fsS -o /dev/null http://127.0.0.1:3000/up)']),
    'GET http://127.0.0.1:3000/up (wget, else curl), run by Docker inside the container (it also requires the drain file /run/mrsk/cord/ok)',
    'as docker inspect shows it on the bed: the URL unquoted',
  );
  assert.equal(
    describeProbe(['CMD-SHELL', 'test -f /run/mrsk/cord/ok && (bin/rails runner "Health.check!")']),
    '`bin/rails runner "Health.check!"`, run by Docker inside the container (it also requires the drain file /run/mrsk/cord/ok)',
  );
  assert.equal(describeProbe(['CMD', 'pg_isready', '-q']), '`pg_isready -q`, run by Docker inside the container');
  // the tries loop of max_attempts > 1, as deriveDesired writes it
  const config = makeConfig();
  const loop = (over: Partial<HealthcheckConfig>) => ['CMD-SHELL', healthcheckFor(config, { ...config.healthcheck, ...over }).cmd];
  assert.equal(
    describeProbe(loop({ maxAttempts: 3, interval: 1 })),
    'GET http://127.0.0.1:3000/up (wget, else curl), up to 3 tries 1s apart, run by Docker inside the container (it also requires the drain file /run/mrsk/cord/ok)',
  );
  assert.equal(
    describeProbe(loop({ maxAttempts: 7, interval: 0.5, cmd: 'bin/ready --db' })),
    '`bin/ready --db`, up to 7 tries 0.5s apart, run by Docker inside the container (it also requires the drain file /run/mrsk/cord/ok)',
  );
  assert.equal(describeProbe(loop({ maxAttempts: 1 })), 'GET http://127.0.0.1:3000/up (wget, else curl), run by Docker inside the container (it also requires the drain file /run/mrsk/cord/ok)');
  // as Docker runs it (runtime/health-watch.ts): the same words, and the watch between runs
  const watched = (over: Partial<HealthcheckConfig>) => ['CMD-SHELL', watchingHealthcheck(healthcheckFor(config, { ...config.healthcheck, ...over })).cmd];
  assert.equal(
    describeProbe(watched({ maxAttempts: 3, interval: 1 })),
    'GET http://127.0.0.1:3000/up (wget, else curl), up to 3 tries 1s apart, run by Docker inside the container (it also requires the drain file /run/mrsk/cord/ok, and watches it between runs)',
  );
  assert.equal(
    describeProbe(watched({ maxAttempts: 1, cmd: 'bin/ready --db' })),
    '`bin/ready --db`, run by Docker inside the container (it also requires the drain file /run/mrsk/cord/ok, and watches it between runs)',
  );
  assert.equal(describeProbe(undefined, 7), 'no healthcheck: it had to keep running for its readiness delay of 7s');
  assert.equal(describeProbe(['NONE']), 'no healthcheck: it had to keep running for its readiness delay');
});

test('a probe result is one line: exit code and the output, cleaned', () => {
  assert.equal(formatProbeResult({ exitCode: 1, output: 'wget: server returned error: HTTP/1.1 500 Internal Server Error\n' }), 'exit 1: wget: server returned error: HTTP/1.1 500 Internal Server Error');
  assert.equal(formatProbeResult({ exitCode: 1, output: '' }), 'exit 1: (no output)');
  assert.equal(formatProbeResult({ exitCode: 7, output: 'curl: (7) Failed\n\x1b[2Jsecond line\n' }), 'exit 7: curl: (7) Failed / second line');
});

test('stop and serving sentences state only what was verified', () => {
  assert.equal(stopSentence('app-web-v3', { kind: 'renamed', to: 'app-web-v3_unhealthy_0123456789ab' }), 'app-web-v3 was stopped and renamed app-web-v3_unhealthy_0123456789ab: kept for inspection, never a rollback target.');
  assert.equal(stopSentence('app-web-v3', { kind: 'stop-failed', error: 'Error response from daemon: cannot stop container\n' }), 'Stopping app-web-v3 failed (Error response from daemon: cannot stop container): it may still be running; run the command again or stop it by hand.');
  assert.equal(stopSentence('app-web-v3', { kind: 'rename-failed', error: 'boom' }), 'app-web-v3 was stopped and kept for inspection; marking it as never healthy (a rename) failed: boom.');
  assert.equal(
    servingSentence({ kind: 'checked', role: 'web', others: [{ name: 'app-web-v2', version: 'v2', health: 'healthy', routed: true }] }),
    'The previous version v2 (app-web-v2) keeps serving: running, healthy, routed by Traefik.',
  );
  assert.equal(
    servingSentence({ kind: 'checked', role: 'web', others: [{ name: 'app-web-v2', version: 'v2', health: 'unhealthy', routed: false }] }),
    'The previous version v2 (app-web-v2) is running, but Docker reports it unhealthy and Traefik does not route to it.',
  );
  assert.equal(servingSentence({ kind: 'checked', role: 'job', others: [{ name: 'app-job-v2', version: 'v2' }] }), 'The previous version v2 (app-job-v2) keeps serving: running, no healthcheck.');
  assert.equal(
    servingSentence({ kind: 'checked', role: 'web', others: [{ name: 'app-web-v2', version: 'v2', health: 'healthy', routed: 'unknown' }] }),
    'The previous version v2 (app-web-v2) is running and healthy, but whether Traefik routes to it is unknown: its API did not answer.',
  );
  assert.equal(servingSentence({ kind: 'checked', role: 'web', others: [] }), 'No other container of role web is running on this host: nothing serves that role here.');
  assert.equal(servingSentence({ kind: 'unknown', error: 'h1: the SSH connection was closed' }), 'Whether the previous version still serves could not be checked: h1: the SSH connection was closed.');
});

const FAILURE: HealthFailure = {
  name: 'app-web-v3',
  reason: 'still unhealthy after 30s',
  probe: MRSK_CHECK,
  healthLog: [1, 2, 3, 4, 5].map((n) => ({ exitCode: 1, output: `wget: server returned error: HTTP/1.1 500 Internal Server Error (${n})\n` })),
  logs: { text: Array.from({ length: 25 }, (_, i) => `line ${i + 1}`).join('\n') + '\n\x1b[31mERROR\x1b[0m boot failed\n' },
  stop: { kind: 'renamed', to: 'app-web-v3_unhealthy_0123456789ab' },
  serving: { kind: 'checked', role: 'web', others: [{ name: 'app-web-v2', version: 'v2', health: 'healthy', routed: true }] },
};

test('the full report: headline, probe, the last 3 health checks, the last 10 log lines, what was verified', () => {
  assert.equal(
    healthReport(FAILURE).message,
    [
      'app-web-v3 did not become healthy: still unhealthy after 30s',
      '  probed: GET http://127.0.0.1:3000/up (wget, else curl), run by Docker inside the container (it also requires the drain file /run/mrsk/cord/ok)',
      '  last health checks (newest last):',
      '    exit 1: wget: server returned error: HTTP/1.1 500 Internal Server Error (3)',
      '    exit 1: wget: server returned error: HTTP/1.1 500 Internal Server Error (4)',
      '    exit 1: wget: server returned error: HTTP/1.1 500 Internal Server Error (5)',
      '  last 10 log lines of app-web-v3:',
      ...Array.from({ length: 9 }, (_, i) => `    line ${i + 17}`),
      '    ERROR boot failed',
      '  app-web-v3 was stopped and renamed app-web-v3_unhealthy_0123456789ab: kept for inspection, never a rollback target.',
      '  The previous version v2 (app-web-v2) keeps serving: running, healthy, routed by Traefik.',
    ].join('\n'),
  );
});

test('the brief report (other hosts): headline with the last check, and what was verified; no logs', () => {
  assert.equal(
    healthReport(FAILURE).brief,
    [
      'app-web-v3 did not become healthy: still unhealthy after 30s (last health check: exit 1: wget: server returned error: HTTP/1.1 500 Internal Server Error (5))',
      '  app-web-v3 was stopped and renamed app-web-v3_unhealthy_0123456789ab: kept for inspection, never a rollback target.',
      '  The previous version v2 (app-web-v2) keeps serving: running, healthy, routed by Traefik.',
    ].join('\n'),
  );
});

test('a container without healthcheck that exited, whose logs could not be read', () => {
  const report = healthReport({
    name: 'app-job-v3',
    reason: 'it exited (1)',
    readinessDelay: 7,
    healthLog: [],
    logs: { error: 'Error response from daemon: \x1b[1mno such container\x1b[0m' },
    stop: { kind: 'renamed', to: 'app-job-v3_unhealthy_0123456789ab' },
    serving: { kind: 'checked', role: 'job', others: [] },
  });
  assert.equal(
    report.message,
    [
      'app-job-v3 did not become healthy: it exited (1)',
      '  probed: no healthcheck: it had to keep running for its readiness delay of 7s',
      '  its logs could not be read: Error response from daemon: no such container',
      '  app-job-v3 was stopped and renamed app-job-v3_unhealthy_0123456789ab: kept for inspection, never a rollback target.',
      '  No other container of role job is running on this host: nothing serves that role here.',
    ].join('\n'),
  );
});
