// Live progress and interrupts: the listr2 display must not install its own SIGINT handler (it
// exits 127 at once, skipping the lock release and the audit line), and both displays say which
// steps an interrupt stopped and which it kept from starting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { spawnSync } from 'node:child_process';
import { Output } from '../../../src/cli/output.ts';
import { lineProgress } from '../../../src/views/progress.ts';
import type { PlanStep } from '../../../src/plan/types.ts';

function step(id: string, host: string, image: string): PlanStep {
  return {
    id,
    host,
    address: `${host}/container/app-web-v2`,
    symbol: '+/-',
    actions: ['create', 'delete'],
    cause: 'new version v1 → v2',
    dependsOn: [],
    precondition: {},
    batch: 0,
    action: { kind: 'image-pull', image },
  };
}

function capture(): { out: Output; text: () => string } {
  const stdout = new PassThrough();
  const chunks: string[] = [];
  stdout.on('data', (c: Buffer) => chunks.push(c.toString()));
  return { out: new Output({}, stdout as unknown as NodeJS.WriteStream, stdout as unknown as NodeJS.WriteStream), text: () => chunks.join('') };
}

test('the listr2 display leaves SIGINT to mrsk (no handler of its own, nothing left behind)', async () => {
  // In a child process: listr2 draws on process.stdout, which carries this test runner's protocol.
  const script = `
    import { listrProgress } from ${JSON.stringify(new URL('../../../src/views/progress.ts', import.meta.url).href)};
    import { Output } from ${JSON.stringify(new URL('../../../src/cli/output.ts', import.meta.url).href)};
    const step = (id, host) => ({ id, host, address: host + '/container/app-web-v2', symbol: '+', actions: ['create'], cause: 'test',
      dependsOn: [], precondition: {}, batch: 0, action: { kind: 'image-pull', image: 'app:v2' } });
    const steps = [step('h1:pull', 'h1'), step('h2:pull', 'h2')];
    const before = process.listeners('SIGINT').length;
    const progress = listrProgress(steps, new Output());
    const during = process.listeners('SIGINT').length;
    for (const s of steps) {
      progress.onEvent({ type: 'step-start', step: s });
      progress.onEvent({ type: 'step-end', step: s, status: 'done', ms: 5 });
    }
    await progress.finish();
    process.stderr.write('RESULT ' + JSON.stringify({ before, during, after: process.listeners('SIGINT').length }) + '\\n');
  `;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  const line = /^RESULT (.*)$/m.exec(child.stderr)?.[1];
  assert.ok(line, `no result from the child (exit ${child.status}):\n${child.stderr}`);
  assert.deepEqual(JSON.parse(line), { before: 0, during: 0, after: 0 }, 'listr2 registered a SIGINT listener');
});

test('line progress marks the steps an interrupt stopped and those it kept from starting', () => {
  const { out, text } = capture();
  const abort = new AbortController();
  const progress = lineProgress(out, abort.signal);
  const [pulled, stopped, notStarted] = [step('a', 'h1', 'app:v1'), step('b', 'h1', 'app:v2'), step('c', 'h2', 'app:v3')];
  progress.onEvent({ type: 'step-end', step: pulled, status: 'done', ms: 1200 });
  abort.abort();
  progress.onEvent({ type: 'step-end', step: stopped, status: 'failed', ms: 300, error: new Error('aborted') });
  progress.onEvent({ type: 'step-end', step: notStarted, status: 'skipped', ms: 0 });
  assert.equal(
    text(),
    '  h1  pull app:v1 ok (1.2s)\n' +
      '  h1  pull app:v2 INTERRUPTED\n' +
      '  h2  pull app:v3 not started (interrupted)\n',
  );
});

test('without an interrupt, failures and skips read as before', () => {
  const { out, text } = capture();
  const progress = lineProgress(out, new AbortController().signal);
  progress.onEvent({ type: 'step-end', step: step('a', 'h1', 'app:v2'), status: 'failed', ms: 1, error: new Error('boom') });
  progress.onEvent({ type: 'step-end', step: step('b', 'h1', 'app:v2'), status: 'skipped', ms: 0 });
  assert.equal(text(), '  h1  pull app:v2 FAILED\n  h1  pull app:v2 skipped\n');
});
