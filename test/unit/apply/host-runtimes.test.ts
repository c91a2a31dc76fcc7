// HostRuntimes: which runtime each host runs, from the configuration's wish, what a probe found,
// or (auto, no probe yet) one check on the host; the check is also run by a real sh here.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DETECT_RUNTIME_SCRIPT, HostRuntimes } from '../../../src/apply/host-runtimes.ts';
import { InternalError } from '../../../src/errors.ts';
import type { RuntimeWish } from '../../../src/runtime/runtime.ts';
import { ScriptedRunner, fail, ok } from '../../helpers/scripted-runner.ts';

const WISHES: Readonly<Record<string, RuntimeWish>> = { d: 'docker', p: 'podman', a: 'auto', b: 'auto' };
const runtimes = () => new HostRuntimes((host) => WISHES[host] ?? 'docker');

describe('HostRuntimes', () => {
  it('without a wish function every host is docker', () => {
    const plain = new HostRuntimes();
    assert.equal(plain.wish('any'), 'docker');
    assert.equal(plain.known('any'), 'docker');
    assert.equal(plain.of('any'), 'docker');
  });

  it('wish is what the configuration asks; known and of follow it for docker and podman', () => {
    const r = runtimes();
    assert.deepEqual(['d', 'p', 'a', 'other'].map((h) => r.wish(h)), ['docker', 'podman', 'auto', 'docker']);
    assert.equal(r.known('d'), 'docker');
    assert.equal(r.known('p'), 'podman');
    assert.equal(r.of('d'), 'docker');
    assert.equal(r.of('p'), 'podman');
  });

  it('an auto host is unknown until something looked: of throws an InternalError naming the host', () => {
    const r = runtimes();
    assert.equal(r.known('a'), undefined);
    assert.throws(() => r.of('a'), (error: unknown) => error instanceof InternalError && /^a: its runtime is `auto` and nothing has looked at the host yet$/.test(error.message));
  });

  it('record keeps what a probe found; it wins over the wish, per host', () => {
    const r = runtimes();
    r.record('a', 'podman');
    assert.equal(r.known('a'), 'podman');
    assert.equal(r.of('a'), 'podman');
    assert.equal(r.known('b'), undefined, 'only that host');
    assert.equal(r.wish('a'), 'auto', 'the wish stays what the configuration says');
    r.record('d', 'podman');
    assert.equal(r.of('d'), 'podman', 'what the host runs, as found');
  });

  it('resolve asks nothing when the runtime is known', async () => {
    const r = runtimes();
    const runner = new ScriptedRunner();
    assert.equal(await r.resolve(runner, 'd'), 'docker');
    assert.equal(await r.resolve(runner, 'p'), 'podman');
    r.record('a', 'docker');
    assert.equal(await r.resolve(runner, 'a'), 'docker');
    assert.deepEqual(runner.calls, []);
  });

  it('resolve runs the check once per auto host and remembers the answer', async () => {
    const r = runtimes();
    const runner = new ScriptedRunner().on({ host: 'a', script: DETECT_RUNTIME_SCRIPT }, ok('podman\n')).on({ host: 'b', script: DETECT_RUNTIME_SCRIPT }, ok('docker\n'));
    assert.equal(await r.resolve(runner, 'a'), 'podman');
    assert.equal(await r.resolve(runner, 'a'), 'podman');
    assert.equal(await r.resolve(runner, 'b'), 'docker');
    assert.equal(r.of('a'), 'podman');
    assert.equal(r.of('b'), 'docker');
    assert.deepEqual(runner.calls.map((c) => c.host), ['a', 'b']);
    runner.assertNoUnexpected();
  });

  it('no runtime on the host (or an odd answer) resolves to docker, whose own error follows', async () => {
    for (const stdout of ['none\n', '', 'containerd\n']) {
      const r = runtimes();
      const runner = new ScriptedRunner().on({ script: DETECT_RUNTIME_SCRIPT }, ok(stdout));
      assert.equal(await r.resolve(runner, 'a'), 'docker', JSON.stringify(stdout));
    }
    const failed = new ScriptedRunner().on({ script: DETECT_RUNTIME_SCRIPT }, fail('sh: oops', 2));
    assert.equal(await runtimes().resolve(failed, 'a'), 'docker');
  });

  it('resolve passes the abort signal on, and a lost connection is not swallowed', async () => {
    const controller = new AbortController();
    const runner = new ScriptedRunner().on({ script: DETECT_RUNTIME_SCRIPT }, ok('podman\n'));
    await runtimes().resolve(runner, 'a', controller.signal);
    assert.equal(runner.calls[0]!.options.signal, controller.signal);
    const lost = new ScriptedRunner().on({ script: DETECT_RUNTIME_SCRIPT }, new Error('connection lost'));
    const r = runtimes();
    await assert.rejects(r.resolve(lost, 'a'), /connection lost/);
    assert.equal(r.known('a'), undefined, 'nothing is remembered');
  });
});

describe('DETECT_RUNTIME_SCRIPT run by a real sh', () => {
  const root = mkdtempSync(join(tmpdir(), 'mrsk-detect-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  let count = 0;

  /** Runs the check with a PATH holding sh and the given stand-ins (body: what the command does). */
  function detect(commands: Record<string, string>): string {
    const dir = join(root, String(count++));
    execFileSync('mkdir', ['-p', dir]);
    symlinkSync(execFileSync('sh', ['-c', 'command -v sh'], { encoding: 'utf8' }).trim(), join(dir, 'sh'));
    for (const [name, body] of Object.entries(commands)) {
      writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
      chmodSync(join(dir, name), 0o755);
    }
    return execFileSync(join(dir, 'sh'), ['-c', DETECT_RUNTIME_SCRIPT], { env: { PATH: dir }, encoding: 'utf8' }).trim();
  }

  it('docker whose engine answers; podman when docker has no engine or is absent; docker when only its client is there; none', () => {
    assert.equal(detect({ docker: 'echo 27.0.1', podman: 'echo 4.3.1' }), 'docker');
    assert.equal(detect({ docker: 'exit 1', podman: 'echo 4.3.1' }), 'podman');
    assert.equal(detect({ podman: 'echo 4.3.1' }), 'podman');
    assert.equal(detect({ docker: 'exit 1' }), 'docker');
    assert.equal(detect({}), 'none');
  });

  it('the answers are the words resolve reads', async () => {
    const answer = detect({ docker: 'exit 1', podman: 'true' });
    const runner = new ScriptedRunner().on({ script: DETECT_RUNTIME_SCRIPT }, ok(`${answer}\n`));
    assert.equal(await runtimes().resolve(runner, 'a'), 'podman');
  });
});
