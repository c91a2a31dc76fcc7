// A broken or hostile host against the SSH runner, on a real OpenSSH sshd: a command that prints
// 50 MB, one that prints without end (`yes`, on stdout or stderr), one that hangs. mrsk reads at
// most its cap (16 MiB by default), kills the command on the host, fails with an error naming host
// and cap, returns promptly, and its memory stays bounded; the connection keeps working.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startSshd } from '../../helpers/sshd.ts';
import type { TestSshd } from '../../helpers/sshd.ts';
import { createSshRunner, DEFAULT_MAX_OUTPUT_BYTES } from '../../../src/ssh/runner.ts';
import type { Runner } from '../../../src/ssh/types.ts';
import { describeError, OutputLimitError, TimeoutError } from '../../../src/errors.ts';
import { probeHosts } from '../../../src/probe/probe.ts';
import { optionsFor, tempHome } from './setup.ts';

const HOST = '127.0.0.1';
const MiB = 1024 * 1024;
// What mrsk may grow by while one hostile command runs: the cap itself, ssh2's window and Node's
// allocator slack (measured: ~24 MiB for 50 MB, ~3 MiB for `yes`). Without the cap it grows with the output.
const RSS_GROWTH_BOUND = 2 * DEFAULT_MAX_OUTPUT_BYTES + 32 * MiB;
let sshd: TestSshd;
let home: ReturnType<typeof tempHome>;
let runner: Runner;

before(async () => {
  sshd = await startSshd();
  home = tempHome();
  runner = createSshRunner(optionsFor(sshd, home.path));
});
after(async () => {
  await runner?.close();
  await sshd?.stop();
  home?.remove();
});

/** Runs fn while sampling this process's RSS every 20 ms; returns its outcome, the peak growth and the time taken. */
async function measured<T>(fn: () => Promise<T>): Promise<{ outcome: PromiseSettledResult<T>; growth: number; ms: number }> {
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const started = performance.now();
  const [outcome] = await Promise.allSettled([fn()]);
  const ms = Math.round(performance.now() - started);
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  return { outcome: outcome!, growth: peak - before, ms };
}

function rejectedWith<T>(outcome: PromiseSettledResult<T>): unknown {
  assert.equal(outcome.status, 'rejected', 'the hostile command was expected to fail');
  return (outcome as PromiseRejectedResult).reason;
}

/** Polls the host until no process runs whose command line has marker; fails after the deadline. */
async function assertGoneOnHost(marker: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  let survivors = '';
  while (Date.now() < deadline) {
    // [m] keeps pgrep from matching its own command line
    survivors = (await runner.exec(HOST, { script: `pgrep -f '[m]${marker.slice(1)}' || true` })).stdout.trim();
    if (survivors === '') return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`the hostile command (${marker}) still runs on the host: pids ${survivors}`);
}

const marker = () => `mrsk-hostile-${randomBytes(4).toString('hex')}`;

describe('a host command that prints too much', () => {
  it('50 MB on stdout: stopped at the 16 MiB cap, an OutputLimitError naming host and cap, promptly, memory bounded', async () => {
    const { outcome, growth, ms } = await measured(() => runner.exec(HOST, { script: `head -c 50000000 /dev/zero | tr '\\0' x` }));
    const error = rejectedWith(outcome);
    assert.ok(error instanceof OutputLimitError, String(error));
    assert.equal(error.host, HOST);
    assert.equal(error.limitBytes, 16 * MiB);
    assert.match(describeError(error), /^127\.0\.0\.1: `sh -c .*` printed more than 16 MiB, mrsk's cap on what it reads from one host command; the command was stopped$/);
    console.log(`50 MB: failed after ${ms} ms, RSS grew by ${(growth / MiB).toFixed(1)} MiB`);
    assert.ok(ms < 15_000, `took ${ms} ms`);
    assert.ok(growth < RSS_GROWTH_BOUND, `RSS grew by ${(growth / MiB).toFixed(1)} MiB`);
  });

  it('endless output (`yes`): stopped at the cap, the command killed on the host, memory bounded', async () => {
    const name = marker();
    const { outcome, growth, ms } = await measured(() => runner.exec(HOST, { script: `yes ${name}` }));
    assert.ok(rejectedWith(outcome) instanceof OutputLimitError);
    console.log(`yes: failed after ${ms} ms, RSS grew by ${(growth / MiB).toFixed(1)} MiB`);
    assert.ok(ms < 15_000, `took ${ms} ms`);
    assert.ok(growth < RSS_GROWTH_BOUND, `RSS grew by ${(growth / MiB).toFixed(1)} MiB`);
    await assertGoneOnHost(name);
  });

  it('endless output on stderr counts too, and a pipeline is killed whole', async () => {
    const name = marker();
    const { outcome, growth } = await measured(() => runner.exec(HOST, { script: `yes ${name} | cat >&2; echo never` }));
    assert.ok(rejectedWith(outcome) instanceof OutputLimitError);
    assert.ok(growth < RSS_GROWTH_BOUND, `RSS grew by ${(growth / MiB).toFixed(1)} MiB`);
    await assertGoneOnHost(name);
  });

  it('a per-command cap overrides the default, either way', async () => {
    const small = await Promise.allSettled([runner.exec(HOST, { script: 'head -c 2000 /dev/zero' }, { maxOutputBytes: 1000 })]);
    const error = rejectedWith(small[0]!);
    assert.ok(error instanceof OutputLimitError);
    assert.match(error.message, /printed more than 1000 B/);
    const size = 20 * MiB; // over the default cap, under this command's own
    const large = await runner.exec(HOST, { script: `head -c ${size} /dev/zero | tr '\\0' y` }, { maxOutputBytes: 32 * MiB });
    assert.equal(large.stdout.length, size);
  });

  it('a stream meant to run without end (logs -f) reads past the cap without keeping it: memory stays flat', async () => {
    let streamed = 0;
    const size = 50 * MiB;
    const { outcome, growth } = await measured(() =>
      runner.exec(HOST, { script: `head -c ${size} /dev/zero | tr '\\0' z` }, {
        maxOutputBytes: Number.POSITIVE_INFINITY,
        keepOutput: false,
        onStdout: (text) => (streamed += text.length),
      }),
    );
    assert.equal(outcome.status, 'fulfilled');
    const result = (outcome as PromiseFulfilledResult<{ code: number; stdout: string }>).value;
    assert.equal(result.code, 0);
    assert.equal(result.stdout, '');
    assert.equal(streamed, size);
    assert.ok(growth < RSS_GROWTH_BOUND, `RSS grew by ${(growth / MiB).toFixed(1)} MiB`);
  });

  it('the connection keeps working after hostile commands (their channels are freed)', async () => {
    const limited = createSshRunner(optionsFor(sshd, home.path, { maxChannelsPerConnection: 2 }));
    try {
      const outcomes = await Promise.allSettled([1, 2, 3].map(() => limited.exec(HOST, ['yes'])));
      assert.deepEqual(outcomes.map((o) => o.status), ['rejected', 'rejected', 'rejected']);
      assert.equal((await limited.exec(HOST, ['echo', 'still here'])).stdout, 'still here\n');
      assert.equal(limited.stats()[HOST]?.connections, 1);
    } finally {
      await limited.close();
    }
  });
});

describe('a host command that hangs', () => {
  it('fails at its timeout with the host named, and is killed on the host', async () => {
    const name = marker();
    const { outcome, ms } = await measured(() => runner.exec(HOST, { script: `sleep 3600 & wait; : ${name}` }, { timeoutMs: 1_000 }));
    const error = rejectedWith(outcome);
    assert.ok(error instanceof TimeoutError);
    assert.match(describeError(error), /^127\.0\.0\.1: .* timed out after 1s$/);
    assert.ok(ms < 5_000, `took ${ms} ms`);
  });
});

describe('the probe of a hostile host', () => {
  // The probe runs `docker`; a PATH entry with a hostile `docker` stands in for a broken host.
  const withDocker = async (script: string): Promise<string> => {
    const dir = `/tmp/mrsk-hostile-docker-${randomBytes(4).toString('hex')}`;
    await runner.exec(HOST, { script: `mkdir -p ${dir} && cat > ${dir}/docker && chmod +x ${dir}/docker` }, { stdin: `#!/bin/sh\n${script}\n` });
    return dir;
  };
  const probeWith = async (dir: string, timeoutMs?: number) => {
    // the wrapper's folder first on PATH: sshd starts the command with its own PATH, the script extends it
    const hostile: Runner = {
      exec: (host, command, options) =>
        runner.exec(host, 'script' in command ? { script: `PATH=${dir}:$PATH; export PATH\n${command.script}` } : command, options),
      upload: (...args) => runner.upload(...args),
      close: async () => {},
      stats: () => runner.stats(),
    };
    return probeHosts(hostile, [HOST], 'app', undefined, timeoutMs === undefined ? {} : { timeoutMs });
  };

  it('a `docker` printing without end to the probe\'s output makes the host unreadable, saying the cap', async () => {
    const dir = await withDocker(`case "$1" in version) echo 20.10.24 ;; *) exec yes "$(printf '\\033[31mEVIL')" ;; esac`);
    const { outcome, ms } = await measured(() => probeWith(dir));
    assert.equal(outcome.status, 'fulfilled');
    const host = (outcome as PromiseFulfilledResult<Awaited<ReturnType<typeof probeWith>>>).value.hosts[HOST]!;
    assert.equal(host.status, 'unreadable');
    assert.match('message' in host ? host.message : '', /the probe printed more than 16 MiB \(mrsk's cap on what it reads from one host command\) and was stopped/);
    assert.ok(ms < 15_000, `took ${ms} ms`);
  });

  it('a `docker` printing without end into a shell variable is cut short on the host: unreadable, promptly', async () => {
    const dir = await withDocker(`exec yes "$(printf '\\033[31mEVIL')"`);
    const started = Date.now();
    const host = (await probeWith(dir)).hosts[HOST]!;
    assert.equal(host.status, 'unreadable');
    const message = 'message' in host ? host.message : '';
    assert.match(message, /`docker version` printed more than the probe reads .* It printed: EVIL EVIL/);
    assert.doesNotMatch(message, /\u001b/);
    assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms`);
  });

  it('a `docker` that hangs makes the host unreadable at the probe timeout', async () => {
    const dir = await withDocker('exec sleep 3600');
    const started = Date.now();
    const host = (await probeWith(dir, 1_500)).hosts[HOST]!;
    assert.equal(host.status, 'unreadable');
    assert.match('message' in host ? host.message : '', /did not finish within 2s and was stopped: does `docker` on this host hang\?/);
    assert.ok(Date.now() - started < 6_000);
  });

  it('a `docker` printing escape sequences as its version: unreadable, and the message carries no ESC', async () => {
    const dir = await withDocker(`printf '\\033]0;pwned\\007\\033[2J\\033[31mgarbage\\n'`);
    const host = (await probeWith(dir)).hosts[HOST]!;
    assert.equal(host.status, 'unreadable');
    const message = 'message' in host ? host.message : '';
    assert.match(message, /docker version.*not a version: garbage/);
    assert.doesNotMatch(message, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
  });
});
