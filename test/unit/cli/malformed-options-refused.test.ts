// A malformed number on the command line (--lock-wait abc, --lines ten) stops the command with a
// usage error (exit 64) naming the option, before the config is read and before any connection.
// It used to become NaN, which the lock read as "do not wait". Each run happens under `unshare -n`
// (no network at all), in a fresh `mrsk init` folder whose placeholders would stop any command
// that got as far as the config (exit 78): so exit 64 shows the option was checked first. Needs
// root, as the e2e suite does; without it the test fails rather than skip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnCollect, type Run } from '../../helpers/spawn-collect.ts';

const bin = fileURLToPath(new URL('../../../bin/mrsk.js', import.meta.url));

function mrsk(cwd: string, args: readonly string[], offline = true): Promise<Run> {
  const argv = offline ? ['unshare', '-n', process.execPath, bin, ...args] : [process.execPath, bin, ...args];
  return spawnCollect(argv[0]!, argv.slice(1), { cwd, env: { PATH: process.env.PATH, HOME: cwd, NO_COLOR: '1' } });
}

async function freshInit(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mrsk-options-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const init = await mrsk(dir, ['init', '--quiet'], false);
  assert.equal(init.code, 0, init.stderr);
  return dir;
}

test('mrsk deploy --lock-wait abc: exit 64 before the config is read or any host contacted', { timeout: 120_000 }, async (t) => {
  const dir = await freshInit(t);
  const run = await mrsk(dir, ['deploy', '--lock-wait', 'abc']);
  assert.equal(run.code, 64, run.stderr);
  assert.equal(run.stdout, '');
  assert.equal(run.stderr, 'error: --lock-wait needs a number of seconds (e.g. --lock-wait 30), got "abc"\n');
  // the same line with a number gets past the option, to the placeholder refusal (exit 78)
  const valid = await mrsk(dir, ['deploy', '--lock-wait', '30']);
  assert.equal(valid.code, 78, valid.stderr);
});

test('every command taking --lock-wait, --lines or --lease refuses a malformed value with exit 64', { timeout: 300_000 }, async (t) => {
  const dir = await freshInit(t);
  const cases: [string[], RegExp][] = [
    [['redeploy', '--lock-wait', '-1'], /^error: --lock-wait needs a number of seconds/],
    [['apply', '--lock-wait', ''], /^error: --lock-wait needs a number of seconds/],
    [['rollback', 'v1', '--lock-wait', '5s'], /^error: --lock-wait needs a number of seconds/],
    [['drift', '--fix', '--lock-wait', 'soon'], /^error: --lock-wait needs a number of seconds/],
    [['lock', 'acquire', '-m', 'maintenance', '--lock-wait', 'abc'], /^error: --lock-wait needs a number of seconds/],
    [['lock', 'acquire', '-m', 'maintenance', '--lease', '1d'], /^error: --lease needs a number of seconds/],
    [['app', 'start', '--lock-wait', 'abc'], /^error: --lock-wait needs a number of seconds/],
    [['app', 'stop', '--lock-wait', 'NaN'], /^error: --lock-wait needs a number of seconds/],
    [['app', 'logs', '--lines', 'ten'], /^error: --lines needs a whole number/],
    [['audit', '--lines', '0'], /^error: --lines needs a whole number of at least 1/],
  ];
  for (const [args, message] of cases) {
    const run = await mrsk(dir, args);
    assert.equal(run.code, 64, `mrsk ${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, message, `mrsk ${args.join(' ')}`);
  }
});
