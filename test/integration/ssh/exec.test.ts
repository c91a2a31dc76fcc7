// The SSH runner against a real OpenSSH sshd: commands, output, stdin, limits, timeouts, uploads.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { startSshd } from '../../helpers/sshd.ts';
import type { TestSshd } from '../../helpers/sshd.ts';
import { createSshRunner } from '../../../src/ssh/runner.ts';
import type { Runner } from '../../../src/ssh/types.ts';
import { AbortedError, describeError, HostError, TimeoutError } from '../../../src/errors.ts';
import { HOSTILE_VALUES } from '../../unit/ssh/hostile-values.ts';
import { clientPortOf, optionsFor, tempHome } from './setup.ts';

const HOST = '127.0.0.1';
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

describe('exec', () => {
  it('returns exit code, stdout and stderr separately', async () => {
    assert.deepEqual(await runner.exec(HOST, ['sh', '-c', 'echo out; echo err >&2; exit 3']), { code: 3, stdout: 'out\n', stderr: 'err\n' });
    assert.deepEqual(await runner.exec(HOST, ['true']), { code: 0, stdout: '', stderr: '' });
    const missing = await runner.exec(HOST, ['mrsk-no-such-command']);
    assert.equal(missing.code, 127);
    assert.match(missing.stderr, /not found/);
  });

  it('runs a script under sh with pipes and &&', async () => {
    const result = await runner.exec(HOST, { script: 'printf "a\\nb\\n" | wc -l && echo "$0"' });
    assert.deepEqual(result, { code: 0, stdout: '2\nsh\n', stderr: '' });
  });

  it('delivers 10 MB of stdout intact while stderr is written too', async () => {
    const size = 10 * 1024 * 1024;
    // stdout and stderr written at the same time: both streams must be drained or the channel stalls.
    const script = `head -c ${size} /dev/zero | tr '\\0' x >&2 & head -c ${size} /dev/zero | tr '\\0' y; wait`;
    // 20 MiB in all: over the default cap on one command's output (16 MiB), so this command raises it
    const result = await runner.exec(HOST, { script }, { maxOutputBytes: 24 * 1024 * 1024 });
    assert.equal(result.code, 0);
    assert.equal(result.stdout.length, size);
    assert.equal(result.stderr.length, size);
    assert.ok(/^y+$/.test(result.stdout) && /^x+$/.test(result.stderr));
  });

  it('streams decoded output to the callbacks as it arrives', async () => {
    const chunks: string[] = [];
    const errors: string[] = [];
    const result = await runner.exec(HOST, { script: 'printf "ünï"; sleep 0.1; printf "cødé"; echo e >&2' }, {
      onStdout: (chunk) => chunks.push(chunk),
      onStderr: (chunk) => errors.push(chunk),
    });
    assert.equal(chunks.join(''), 'ünïcødé');
    assert.equal(result.stdout, 'ünïcødé');
    assert.equal(errors.join(''), 'e\n');
  });

  it('writes stdin and closes it (docker login --password-stdin)', async () => {
    const password = "pa$$ 'wörd' `id`";
    const result = await runner.exec(HOST, { script: 'read -r value; printf %s "$value"' }, { stdin: `${password}\n` });
    assert.equal(result.stdout, password);
    const bytes = Buffer.alloc(3 * 1024 * 1024, 'z');
    const hashed = await runner.exec(HOST, ['sha256sum'], { stdin: bytes });
    assert.equal(hashed.stdout.split(' ')[0], createHash('sha256').update(bytes).digest('hex'));
  });

  it('gives a command EOF on stdin when no stdin is given (it cannot hang reading)', async () => {
    const result = await runner.exec(HOST, ['cat'], { timeoutMs: 5_000 });
    assert.deepEqual(result, { code: 0, stdout: '', stderr: '' });
  });

  it('reports a command killed by a signal as exit code 255', async () => {
    const result = await runner.exec(HOST, { script: 'echo before; kill -9 $$' });
    assert.equal(result.code, 255);
    assert.equal(result.stdout, 'before\n');
  });

  it('passes hostile values to the remote program literally', async () => {
    const result = await runner.exec(HOST, ['printf', '%s\\0', ...HOSTILE_VALUES]);
    assert.equal(result.code, 0);
    assert.deepEqual(result.stdout.split('\0').slice(0, -1), HOSTILE_VALUES);
  });
});

describe('timeouts and aborts', () => {
  it('closes the channel on timeout and rejects with a TimeoutError naming host and command', async () => {
    const started = Date.now();
    await assert.rejects(runner.exec(HOST, ['sleep', '7'], { timeoutMs: 500 }), (error: unknown) => {
      assert.ok(error instanceof TimeoutError);
      assert.equal(describeError(error), '127.0.0.1: `sleep 7` timed out after 0.5s');
      return true;
    });
    assert.ok(Date.now() - started < 2_000);
  });

  it('kills a timed-out command and everything it started on the host', async () => {
    const marker = `31${process.pid % 1000}7`;
    await assert.rejects(runner.exec(HOST, { script: `sleep ${marker} & sleep ${marker}; echo never` }, { timeoutMs: 400 }), TimeoutError);
    let survivors = 'not checked';
    for (let attempt = 0; attempt < 50; attempt++) {
      // [s]leep does not match this probe's own command line.
      survivors = (await runner.exec(HOST, { script: `pgrep -f '[s]leep ${marker}' || true` })).stdout.trim();
      if (survivors === '') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(survivors, '', 'the timed-out command is still running on the host');
  });

  it('frees the channel slots of timed-out commands (the connection keeps working)', async () => {
    const limited = createSshRunner(optionsFor(sshd, home.path, { maxChannelsPerConnection: 2 }));
    try {
      const timedOut = await Promise.allSettled([1, 2, 3].map(() => limited.exec(HOST, ['sleep', '5'], { timeoutMs: 300 })));
      assert.deepEqual(timedOut.map((outcome) => outcome.status), ['rejected', 'rejected', 'rejected']);
      const started = Date.now();
      // The background kill of each timed-out command holds a slot for about 1.5 s, then frees it.
      assert.equal((await limited.exec(HOST, ['echo', 'still here'])).stdout, 'still here\n');
      assert.ok(Date.now() - started < 8_000);
      assert.equal(limited.stats()[HOST]?.connections, 1);
    } finally {
      await limited.close();
    }
  });

  it('uses commandTimeoutMs as the default timeout', async () => {
    const strict = createSshRunner(optionsFor(sshd, home.path, { commandTimeoutMs: 1_500 }));
    try {
      await assert.rejects(strict.exec(HOST, ['sleep', '5']), TimeoutError);
      assert.equal((await strict.exec(HOST, ['echo', 'quick'])).stdout, 'quick\n');
    } finally {
      await strict.close();
    }
  });

  it('never starts a command aborted while it waited for a channel', async () => {
    const single = createSshRunner(optionsFor(sshd, home.path, { maxChannelsPerConnection: 1 }));
    const marker = `/tmp/mrsk-aborted-${process.pid}-${Date.now()}`;
    try {
      const controller = new AbortController();
      const busy = single.exec(HOST, ['sleep', '0.8']);
      const waiting = single.exec(HOST, ['touch', marker], { signal: controller.signal });
      setTimeout(() => controller.abort(), 200);
      await assert.rejects(waiting, AbortedError);
      assert.equal((await busy).code, 0);
      assert.equal((await single.exec(HOST, { script: `test -e ${marker} && echo exists || echo absent` })).stdout, 'absent\n');
    } finally {
      await single.exec(HOST, ['rm', '-f', marker]).catch(() => {});
      await single.close();
    }
  });

  it('closes the channel when the abort signal fires', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const started = Date.now();
    await assert.rejects(runner.exec(HOST, ['sleep', '30'], { signal: controller.signal }), AbortedError);
    assert.ok(Date.now() - started < 2_000);
    await assert.rejects(runner.exec(HOST, ['true'], { signal: controller.signal }), AbortedError);
  });
});

describe('one connection, at most 8 channels', () => {
  it('runs 50 commands at once over one connection with at most 8 in flight (measured on the host)', async () => {
    const counted = createSshRunner(optionsFor(sshd, home.path));
    const acceptedBefore = (sshd.log().match(/Accepted publickey/g) ?? []).length;
    const dir = `/tmp/mrsk-channels-${process.pid}-${Date.now()}`;
    try {
      await counted.exec(HOST, ['mkdir', '-p', dir]);
      const started = Date.now();
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, index) =>
          counted.exec(HOST, { script: `echo "start $(date +%s%N)" > ${dir}/${index}; sleep 0.5; echo "end $(date +%s%N)" >> ${dir}/${index}; echo ${index}` }),
        ),
      );
      const elapsed = Date.now() - started;
      assert.deepEqual(results.map((result) => result.stdout.trim()), Array.from({ length: 50 }, (_, index) => String(index)));
      const times = (await counted.exec(HOST, { script: `cat ${dir}/*` })).stdout;
      const events = [...times.matchAll(/(start|end) (\d+)/g)].map((match) => ({ start: match[1] === 'start', at: BigInt(match[2]!) }));
      assert.equal(events.length, 100);
      events.sort((a, b) => (a.at === b.at ? (a.start ? 1 : -1) : a.at < b.at ? -1 : 1));
      let running = 0;
      let most = 0;
      for (const event of events) {
        running += event.start ? 1 : -1;
        most = Math.max(most, running);
      }
      assert.ok(most <= 8, `${most} commands ran at once on one connection`);
      assert.ok(most >= 3, `only ${most} commands overlapped: the channels are not used in parallel`);
      assert.ok(elapsed < 50 * 500, `took ${elapsed} ms: not parallel`);
      const stats = counted.stats()[HOST];
      assert.deepEqual(stats, { connections: 1, commands: 52 });
      await sshd.waitForLog(/Accepted publickey/);
      assert.equal((sshd.log().match(/Accepted publickey/g) ?? []).length - acceptedBefore, 1, 'sshd saw more than one login');
      console.log(`50 commands x 0.5 s: ${elapsed} ms, at most ${most} in flight, 1 connection`);
    } finally {
      await counted.exec(HOST, ['rm', '-rf', dir]).catch(() => {});
      await counted.close();
    }
  });

  it('shares one connect between concurrent first calls', async () => {
    const fresh = createSshRunner(optionsFor(sshd, home.path));
    try {
      await Promise.all([fresh.exec(HOST, ['true']), fresh.exec(HOST, ['true']), fresh.exec(HOST, ['true'])]);
      assert.deepEqual(fresh.stats(), { [HOST]: { connections: 1, commands: 3 } });
    } finally {
      await fresh.close();
    }
  });
});

describe('a dropped connection', () => {
  it('fails the commands in flight with a HostError and reconnects for the next command', async () => {
    const dropping = createSshRunner(optionsFor(sshd, home.path));
    try {
      await dropping.exec(HOST, ['true']);
      const longRunning = dropping.exec(HOST, ['sleep', '30']);
      // $PPID of a root session's shell is the sshd process serving this connection.
      const killer = dropping.exec(HOST, { script: 'sleep 0.2; kill -9 $PPID' });
      for (const outcome of await Promise.allSettled([longRunning, killer])) {
        assert.equal(outcome.status, 'rejected');
        const error = (outcome as PromiseRejectedResult).reason;
        assert.ok(error instanceof HostError, String(error));
        assert.equal(describeError(error), '127.0.0.1: the SSH connection was closed');
      }
      assert.equal((await dropping.exec(HOST, ['echo', 'back'])).stdout, 'back\n');
      assert.equal(dropping.stats()[HOST]?.connections, 2);
    } finally {
      await dropping.close();
    }
  });
});

describe('upload', () => {
  it('writes content with the given mode, via stdin, relative to the remote home', async () => {
    const folder = `mrsk-upload-${process.pid}-${Date.now()}`;
    const secret = 'DATABASE_URL=postgres://user:s3cr3t@db/app\n';
    try {
      await runner.upload(HOST, `${folder}/env/web.env`, secret, 0o600);
      const stat = await runner.exec(HOST, { script: `stat -c '%a %s' "$HOME/${folder}/env/web.env" && cat "$HOME/${folder}/env/web.env" && ls -A "$HOME/${folder}/env"` });
      assert.equal(stat.stdout, `600 ${Buffer.byteLength(secret)}\n${secret}web.env\n`);
      await runner.upload(HOST, `${folder}/env/web.env`, 'replaced\n', 0o640);
      const again = await runner.exec(HOST, { script: `stat -c '%a' ${folder}/env/web.env && cat ${folder}/env/web.env` });
      assert.equal(again.stdout, '640\nreplaced\n');
      assert.equal((await runner.exec(HOST, ['stat', '-c', '%a', `${folder}/env`])).stdout, '700\n', 'created folders are private too');
    } finally {
      await runner.exec(HOST, ['rm', '-rf', folder]);
    }
  });

  it('writes an absolute path and fails clearly when the folder cannot be created', async () => {
    const path = `/tmp/mrsk-upload-${process.pid}-${Date.now()}`;
    try {
      await runner.upload(HOST, path, Buffer.from([0, 1, 2, 255]), 0o644);
      assert.equal((await runner.exec(HOST, ['od', '-An', '-tx1', path])).stdout.trim(), '00 01 02 ff');
    } finally {
      await runner.exec(HOST, ['rm', '-f', path]);
    }
    await assert.rejects(runner.upload(HOST, '/proc/mrsk/x', 'y', 0o600), /upload \/proc\/mrsk\/x.*failed/s);
  });
});

describe('pty', () => {
  it('wires a pseudo-terminal to the given terminal, forwards resizes and returns the exit code', async () => {
    const stdin = new PassThrough();
    const stdout = Object.assign(new PassThrough(), { rows: 24, columns: 80 });
    let output = '';
    stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const interactive = createSshRunner(optionsFor(sshd, home.path, { terminal: { stdin, stdout } }));
    try {
      const running = interactive.exec(HOST, { script: 'tty; stty size; read line; echo "got:$line"; stty size; exit 7' }, { pty: true });
      await waitUntil(() => /^24 80/m.test(output));
      stdout.rows = 40;
      stdout.columns = 120;
      stdout.emit('resize');
      stdin.write('hello\r');
      const result = await running;
      assert.equal(result.code, 7);
      assert.match(output, /^\/dev\/pts\/\d+/m);
      assert.match(output, /got:hello/);
      assert.match(output, /^40 120/m);
    } finally {
      await interactive.close();
    }
  });
});

describe('close', () => {
  it('ends the connection (sshd sees the disconnect), is idempotent, and refuses later commands', async () => {
    const closing = createSshRunner(optionsFor(sshd, home.path));
    const port = clientPortOf((await closing.exec(HOST, { script: 'echo $SSH_CONNECTION' })).stdout);
    await closing.close();
    await closing.close();
    await sshd.waitForLog(new RegExp(`(Disconnected from|Connection closed by|Received disconnect from) .*127\\.0\\.0\\.1 port ${port}\\b`));
    await assert.rejects(closing.exec(HOST, ['true']), (error: unknown) => error instanceof HostError && /closed/.test(error.message));
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
