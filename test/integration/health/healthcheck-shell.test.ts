// The healthcheck command a proxied container gets, run by real shells (dash and busybox sh, the
// shells of Debian- and Alpine-based images): the app's check gets max_attempts tries, the cord is
// tested before each, and a cut cord fails at once. The cord path is moved into a temp folder;
// the app's check is a script that counts its calls and fails a set number of times. Integration,
// not unit: busybox comes with the bed's packages (test/bed/install-deps.sh).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { healthcheckFor } from '../../../src/desired/desired.ts';
import { CORD_FILE, CORD_MOUNT } from '../../../src/model/names.ts';
import { makeConfig } from '../../unit/helpers/config.ts';
import { SHELLS, runInShell, type Shell } from './shells.ts';

interface Outcome {
  readonly code: number | null;
  readonly tries: number;
  readonly ms: number;
  readonly stdout: string;
}

/** Runs the command of max_attempts MAX and interval INTERVAL with an app check that fails its first FAILS calls. */
function runCheck(shell: Shell, opts: { max: number; interval: number; fails: number; cord?: boolean; cutCordAfter?: number }): Outcome {
  const dir = mkdtempSync(join(tmpdir(), 'mrsk-health-'));
  try {
    const cord = join(dir, CORD_FILE);
    if (opts.cord !== false) writeFileSync(cord, '');
    const count = join(dir, 'count');
    writeFileSync(count, '0');
    // counts its call; cuts the cord after the given call; fails the first `fails` calls
    writeFileSync(
      join(dir, 'check.sh'),
      [
        `n=$(( $(cat ${count}) + 1 )); echo $n > ${count}`,
        opts.cutCordAfter !== undefined ? `[ $n -ge ${opts.cutCordAfter} ] && rm -f ${cord}` : ':',
        `if [ $n -le ${opts.fails} ]; then echo "try $n failed"; exit 1; fi`,
        `echo "try $n passed"`,
      ].join('\n'),
    );
    const config = makeConfig();
    const spec = healthcheckFor(config, { ...config.healthcheck, interval: opts.interval, maxAttempts: opts.max, cmd: `sh ${join(dir, 'check.sh')}` });
    const cmd = spec.cmd.replaceAll(`${CORD_MOUNT}/${CORD_FILE}`, cord);
    assert.ok(!cmd.includes(CORD_MOUNT), 'every cord test points into the temp folder');
    const started = Date.now();
    const result = runInShell(shell, cmd);
    return { code: result.code, tries: Number(readFileSync(count, 'utf8').trim()), ms: Date.now() - started, stdout: result.stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const shell of SHELLS) {
  const name = shell.join(' ');
  test(`${name}: a passing app passes on the first try, without a pause`, () => {
    const outcome = runCheck(shell, { max: 3, interval: 1, fails: 0 });
    assert.equal(outcome.code, 0);
    assert.equal(outcome.tries, 1);
    assert.ok(outcome.ms < 900, `took ${outcome.ms} ms`);
  });

  test(`${name}: an app that fails twice passes on the third of three tries, an interval apart`, () => {
    const outcome = runCheck(shell, { max: 3, interval: 0.2, fails: 2 });
    assert.equal(outcome.code, 0);
    assert.equal(outcome.tries, 3);
    assert.ok(outcome.ms >= 400, `two pauses of 0.2 s, took ${outcome.ms} ms`);
    assert.equal(outcome.stdout, 'try 3 passed\n', 'the earlier tries keep quiet');
  });

  test(`${name}: an app that keeps failing fails after max_attempts tries, showing the last try's output`, () => {
    const outcome = runCheck(shell, { max: 3, interval: 0.2, fails: 99 });
    assert.equal(outcome.code, 1);
    assert.equal(outcome.tries, 3);
    assert.equal(outcome.stdout, 'try 3 failed\n');
  });

  test(`${name}: without the cord it fails at once, without running the app's check`, () => {
    for (const max of [1, 3]) {
      const outcome = runCheck(shell, { max, interval: 1, fails: 0, cord: false });
      assert.notEqual(outcome.code, 0, `max_attempts ${max}`);
      assert.equal(outcome.tries, 0, `max_attempts ${max}`);
      assert.ok(outcome.ms < 900, `took ${outcome.ms} ms`);
    }
  });

  test(`${name}: a cord cut while the app is failing ends the tries at the next one`, () => {
    const outcome = runCheck(shell, { max: 5, interval: 0.2, fails: 99, cutCordAfter: 2 });
    assert.notEqual(outcome.code, 0);
    assert.equal(outcome.tries, 2, 'no try after the cut');
  });

  test(`${name}: max_attempts 1 is one try`, () => {
    assert.deepEqual([runCheck(shell, { max: 1, interval: 1, fails: 0 }).code, runCheck(shell, { max: 1, interval: 1, fails: 1 }).code], [0, 1]);
  });
}

test('both shells are here (the tests above ran them, not a missing binary)', () => {
  for (const shell of SHELLS) assert.equal(runInShell(shell, 'exit 0').code, 0, shell.join(' '));
  assert.ok(existsSync('/bin/sh'));
});
