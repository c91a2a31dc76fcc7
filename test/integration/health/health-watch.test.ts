// The watching form Docker runs of a proxied container's check (src/runtime/health-watch.ts), run
// by real shells (dash, busybox sh) as Docker would: one run after another. The cord and the
// marks are moved into a temp folder; the app's check is a script that counts its calls and fails
// while a file says so. Checked: the first passing run answers at once and later ones watch the
// cord for one interval; a cord cut during the watch fails the run at once; a cut cord is failed
// at once the first time and after one interval later on; marks that cannot be written give the
// paced check; a failing app fails the run with its last try's output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { healthcheckFor } from '../../../src/desired/desired.ts';
import { CORD_FILE, CORD_MOUNT } from '../../../src/model/names.ts';
import { DOCKER_HEALTH_GAP_SECONDS, watchingHealthcheck } from '../../../src/runtime/health-watch.ts';
import { makeConfig } from '../../unit/helpers/config.ts';
import { SHELLS, runInShell, type Shell } from './shells.ts';

/** A container stand-in: a folder with the cord, the marks' folder and the app's check. */
class Box {
  readonly dir = mkdtempSync(join(tmpdir(), 'mrsk-watch-'));
  readonly cord = join(this.dir, CORD_FILE);
  readonly marks = join(this.dir, 'shm');
  readonly count = join(this.dir, 'count');
  readonly failing = join(this.dir, 'failing');
  readonly cmd: string;
  readonly timeout: number;

  constructor(opts: { interval: number; max: number; marksWritable?: boolean }) {
    writeFileSync(this.cord, '');
    writeFileSync(this.count, '0');
    if (opts.marksWritable !== false) runInShell(['dash'], `mkdir ${this.marks}`);
    writeFileSync(
      join(this.dir, 'check.sh'),
      [`n=$(( $(cat ${this.count}) + 1 )); echo $n > ${this.count}`, `if [ -f ${this.failing} ]; then echo "try $n failed"; exit 1; fi`, `echo "try $n passed"`].join('\n'),
    );
    const config = makeConfig();
    const spec = watchingHealthcheck(
      healthcheckFor(config, { ...config.healthcheck, interval: opts.interval, maxAttempts: opts.max, cmd: `sh ${join(this.dir, 'check.sh')}` }),
      join(this.marks, '.mrsk-health'),
    );
    this.cmd = spec.cmd.replaceAll(`${CORD_MOUNT}/${CORD_FILE}`, this.cord);
    this.timeout = spec.timeout;
    assert.ok(!this.cmd.includes(CORD_MOUNT), 'every cord test points into the temp folder');
  }

  get tries(): number {
    return Number(readFileSync(this.count, 'utf8').trim());
  }

  /** One run, as Docker makes it; `cutAfterMs`: the cord is removed that long after the start. */
  async run(shell: Shell, cutAfterMs?: number): Promise<{ code: number | null; ms: number; stdout: string; cutToEndMs?: number }> {
    const started = Date.now();
    let cutAt: number | undefined;
    const child = spawn(shell[0], [...shell.slice(1), '-c', this.cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const timer = cutAfterMs === undefined ? undefined : setTimeout(() => { rmSync(this.cord, { force: true }); cutAt = Date.now(); }, cutAfterMs);
    const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(kill);
    if (timer) clearTimeout(timer);
    const ended = Date.now();
    return { code, ms: ended - started, stdout, ...(cutAt !== undefined ? { cutToEndMs: ended - cutAt } : {}) };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function withBox(opts: ConstructorParameters<typeof Box>[0], fn: (box: Box) => Promise<void>): Promise<void> {
  const box = new Box(opts);
  try {
    await fn(box);
  } finally {
    box.remove();
  }
}

test('Docker is told to run the check again right after each run, with room for the tries and the watch', () => {
  const config = makeConfig();
  const plain = healthcheckFor(config, { ...config.healthcheck, interval: 2, maxAttempts: 3, timeout: 5 });
  const watching = watchingHealthcheck(plain);
  assert.equal(watching.interval, DOCKER_HEALTH_GAP_SECONDS);
  assert.equal(watching.timeout, plain.timeout + 2 + 2);
  assert.equal(watching.retries, 1);
  assert.equal(watching.startPeriod, plain.startPeriod);
  assert.ok(watching.cmd.includes(`(${plain.cmd}) || exit 1`), watching.cmd);
  // 2 s of watching, less Docker's gap, in steps of 0.1 s
  assert.ok(watching.cmd.includes('while [ $i -lt 19 ]'), watching.cmd);
});

for (const shell of SHELLS) {
  const name = shell.join(' ');

  test(`${name}: the first passing run answers at once; later ones watch the cord for one interval, then pass`, async () => {
    await withBox({ interval: 1, max: 2 }, async (box) => {
      const first = await box.run(shell);
      assert.equal(first.code, 0, first.stdout);
      assert.ok(first.ms < 700, `first run took ${first.ms} ms`);
      const second = await box.run(shell);
      assert.equal(second.code, 0, second.stdout);
      assert.ok(second.ms >= 800 && second.ms < 3000, `second run took ${second.ms} ms`);
      assert.equal(box.tries, 2, 'the app is checked once per run');
      assert.ok(second.ms < box.timeout * 1000, 'within the timeout Docker is given');
    });
  });

  test(`${name}: a cord cut while a run watches it fails that run at once`, async () => {
    await withBox({ interval: 2, max: 2 }, async (box) => {
      assert.equal((await box.run(shell)).code, 0);
      const cut = await box.run(shell, 500);
      assert.equal(cut.code, 1);
      assert.ok(cut.cutToEndMs !== undefined && cut.cutToEndMs < 600, `ended ${cut.cutToEndMs} ms after the cut`);
      assert.ok(cut.ms < 1500, `the run took ${cut.ms} ms of its 2 s watch`);
    });
  });

  test(`${name}: a cut cord fails the first run that finds it at once, later ones after one interval, without checking the app`, async () => {
    await withBox({ interval: 1, max: 2 }, async (box) => {
      rmSync(box.cord);
      const first = await box.run(shell);
      assert.equal(first.code, 1);
      assert.ok(first.ms < 700, `first run took ${first.ms} ms`);
      const second = await box.run(shell);
      assert.equal(second.code, 1);
      assert.ok(second.ms >= 900, `second run took ${second.ms} ms`);
      assert.equal(box.tries, 0);
      // the cord is back (a drain undone): the next cut is failed at once again
      writeFileSync(box.cord, '');
      assert.equal((await box.run(shell)).code, 0);
      assert.ok(!existsSync(join(box.marks, '.mrsk-health-cut')), 'the cut mark went with the cord back');
      rmSync(box.cord);
      const again = await box.run(shell);
      assert.equal(again.code, 1);
      assert.ok(again.ms < 700, `took ${again.ms} ms`);
    });
  });

  test(`${name}: marks that cannot be written give the paced check: every pass watches, every cut waits an interval`, async () => {
    await withBox({ interval: 1, max: 1, marksWritable: false }, async (box) => {
      const first = await box.run(shell);
      assert.equal(first.code, 0);
      assert.ok(first.ms >= 800, `first run took ${first.ms} ms`);
      rmSync(box.cord);
      const cut = await box.run(shell);
      assert.equal(cut.code, 1);
      assert.ok(cut.ms >= 900, `cut run took ${cut.ms} ms`);
    });
  });

  test(`${name}: a failing app fails the run after its tries, with the last try's output, and does not watch`, async () => {
    await withBox({ interval: 0.2, max: 3 }, async (box) => {
      assert.equal((await box.run(shell)).code, 0);
      writeFileSync(box.failing, '');
      const failed = await box.run(shell);
      assert.equal(failed.code, 1);
      assert.equal(failed.stdout, 'try 4 failed\n');
      assert.equal(box.tries, 4);
      assert.ok(failed.ms < 1500, `took ${failed.ms} ms`);
    });
  });
}

test('dash: an image whose sleep takes whole seconds only is watched in whole seconds, and the run ends within its timeout', async () => {
  await withBox({ interval: 1, max: 1 }, async (box) => {
    // a sleep that refuses fractions, first on PATH
    const bin = join(box.dir, 'bin');
    runInShell(['dash'], `mkdir ${bin} && printf '#!/bin/sh\\ncase "$1" in *.*) exit 1 ;; esac\\nexec /bin/sleep "$@"\\n' > ${bin}/sleep && chmod +x ${bin}/sleep`);
    const cmd = `PATH=${bin}:$PATH; ${box.cmd}`;
    const run = () => runInShell(['dash'], cmd);
    assert.equal(run().code, 0);
    const started = Date.now();
    assert.equal(run().code, 0);
    const ms = Date.now() - started;
    assert.ok(ms >= 900 && ms < box.timeout * 1000, `watched for ${ms} ms`);
  });
});
