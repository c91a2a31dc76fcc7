// Hooks (Kamal's .kamal/hooks, or .mrsk/hooks): which file, which environment, what a failure says.
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Output } from '../../../src/cli/output.ts';
import { abbreviatedVersion, commandHooks, hookEnv, hookFailure, hooksFolder, HookError, runHook, stderrTail } from '../../../src/hooks/run.ts';

const at = new Date('2023-04-14T17:07:31.123Z');

describe('the pure part', () => {
  it("gives Kamal's KAMAL_* variables, each also as MRSK_*, and leaves out the unset ones", () => {
    const env = hookEnv({ recordedAt: at, performer: 'ops@example.com', service: 'app', version: '150b24f9e3c1a2b3', hosts: ['10.0.0.1', '10.0.0.2'], command: 'deploy' });
    assert.deepEqual(env, {
      KAMAL_RECORDED_AT: '2023-04-14T17:07:31Z', MRSK_RECORDED_AT: '2023-04-14T17:07:31Z',
      KAMAL_PERFORMER: 'ops@example.com', MRSK_PERFORMER: 'ops@example.com',
      KAMAL_SERVICE: 'app', MRSK_SERVICE: 'app',
      KAMAL_VERSION: '150b24f9e3c1a2b3', MRSK_VERSION: '150b24f9e3c1a2b3',
      KAMAL_SERVICE_VERSION: 'app@150b24f', MRSK_SERVICE_VERSION: 'app@150b24f',
      KAMAL_HOSTS: '10.0.0.1,10.0.0.2', MRSK_HOSTS: '10.0.0.1,10.0.0.2',
      KAMAL_COMMAND: 'deploy', MRSK_COMMAND: 'deploy',
    });
  });

  it('adds the subcommand, destination, role and runtime when there are', () => {
    const env = hookEnv({ recordedAt: at, performer: 'p', service: 'app', hosts: ['h'], command: 'traefik', subcommand: 'reboot', destination: 'staging', role: 'web', runtime: 42.6 });
    assert.equal(env.KAMAL_SUBCOMMAND, 'reboot');
    assert.equal(env.KAMAL_DESTINATION, 'staging');
    assert.equal(env.MRSK_ROLE, 'web');
    assert.equal(env.KAMAL_RUNTIME, '43');
    assert.equal(env.KAMAL_VERSION, undefined);
    assert.equal(env.KAMAL_SERVICE_VERSION, undefined);
  });

  it('abbreviates a version as Kamal does: 7 characters, but never a version with _ (…_uncommitted_…)', () => {
    assert.equal(abbreviatedVersion('150b24f9e3c1a2b3'), '150b24f');
    assert.equal(abbreviatedVersion('abc_uncommitted_0123456789abcdef'), 'abc_uncommitted_0123456789abcdef');
    assert.equal(abbreviatedVersion('v1'), 'v1');
  });

  it('looks in hooks_path, else .kamal/hooks when it exists, else .mrsk/hooks', () => {
    assert.equal(hooksFolder('/srv/app', 'ops/hooks', () => false), '/srv/app/ops/hooks');
    assert.equal(hooksFolder('/srv/app', '/etc/hooks', () => false), '/etc/hooks');
    assert.equal(hooksFolder('/srv/app', undefined, (path) => path === '/srv/app/.kamal/hooks'), '/srv/app/.kamal/hooks');
    assert.equal(hooksFolder('/srv/app', undefined, () => false), '/srv/app/.mrsk/hooks');
  });

  it('a failure names the hook, its file, the exit code, what it means, and the end of its stderr', () => {
    assert.equal(
      hookFailure('pre-deploy', '.kamal/hooks/pre-deploy', 3, null, 'checking CI\nCI is red for 150b24f\n', 'so no host was changed'),
      'the pre-deploy hook (.kamal/hooks/pre-deploy) failed (exit 3), so no host was changed. It said:\n  checking CI\n  CI is red for 150b24f',
    );
    assert.match(hookFailure('pre-build', 'h', null, 'SIGKILL', '', 'so nothing was built'), /failed \(killed by SIGKILL\), so nothing was built \(it wrote nothing on stderr\)$/);
    const long = Array.from({ length: 50 }, (_, i) => `line ${i}`).join('\n');
    assert.equal(stderrTail(long), Array.from({ length: 10 }, (_, i) => `line ${i + 40}`).join('\n'));
    assert.ok(stderrTail('x'.repeat(5000)).length <= 2001);
  });
});

describe('runHook', () => {
  const project = async (t: { after: (fn: () => Promise<void>) => void }, folder = '.kamal/hooks') => {
    const root = await mkdtemp(join(tmpdir(), 'mrsk-hooks-'));
    t.after(() => rm(root, { recursive: true, force: true }));
    await mkdir(join(root, folder), { recursive: true });
    return { root, hooks: join(root, folder) };
  };
  const quiet = () => {
    const lines: string[] = [];
    const sink = { isTTY: false, write: (text: string) => (lines.push(text), true) } as unknown as NodeJS.WriteStream;
    return { out: new Output({}, sink, sink), lines };
  };
  const facts = { service: 'app', version: 'v1', hosts: ['10.0.0.1'], command: 'deploy', performer: 'ops' };

  it('runs the hook in the project folder with the variables, and says so; no file, no run', async (t) => {
    const { root, hooks } = await project(t);
    await writeFile(join(hooks, 'pre-deploy'), '#!/bin/sh\nenv | grep -E "^(KAMAL|MRSK)_" | sort > "$PWD/seen"\n', { mode: 0o755 });
    const { out, lines } = quiet();
    assert.equal(await runHook('pre-deploy', facts, { root, out, env: { PATH: process.env.PATH } }), true);
    const seen = await readFile(join(root, 'seen'), 'utf8');
    assert.match(seen, /^KAMAL_COMMAND=deploy$/m);
    assert.match(seen, /^MRSK_SERVICE_VERSION=app@v1$/m);
    assert.match(seen, /^KAMAL_HOSTS=10\.0\.0\.1$/m);
    assert.match(seen, /^KAMAL_RECORDED_AT=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/m);
    assert.match(lines.join(''), /Running the pre-deploy hook \(\.kamal\/hooks\/pre-deploy\)/);
    assert.equal(await runHook('post-deploy', facts, { root, out }), false, 'no post-deploy file');
  });

  it('.mrsk/hooks when there is no .kamal/hooks; hooks_path wins over both', async (t) => {
    const { root, hooks } = await project(t, '.mrsk/hooks');
    await writeFile(join(hooks, 'pre-build'), '#!/bin/sh\ntouch "$PWD/ran-mrsk"\n', { mode: 0o755 });
    await mkdir(join(root, 'ops'));
    await writeFile(join(root, 'ops', 'pre-build'), '#!/bin/sh\ntouch "$PWD/ran-ops"\n', { mode: 0o755 });
    const { out } = quiet();
    await runHook('pre-build', facts, { root, out });
    assert.ok(existsSync(join(root, 'ran-mrsk')));
    await runHook('pre-build', facts, { root, out, hooksPath: 'ops' });
    assert.ok(existsSync(join(root, 'ran-ops')));
  });

  it('a failing hook is a HookError naming it, its exit code and its stderr tail', async (t) => {
    const { root, hooks } = await project(t);
    await writeFile(join(hooks, 'pre-connect'), '#!/bin/sh\necho "warming DNS" >&2\necho "no route to 10.0.0.1" >&2\nexit 7\n', { mode: 0o755 });
    const { out } = quiet();
    await assert.rejects(runHook('pre-connect', facts, { root, out }), (error: unknown) => {
      assert.ok(error instanceof HookError);
      assert.equal(error.exitCode, 1);
      assert.equal(error.message, 'the pre-connect hook (.kamal/hooks/pre-connect) failed (exit 7), so nothing was built and no host was contacted. It said:\n  warming DNS\n  no route to 10.0.0.1');
      return true;
    });
  });

  it('a hook file that is not executable is an error, never silently skipped; a .sample file is never run', async (t) => {
    const { root, hooks } = await project(t);
    await writeFile(join(hooks, 'pre-deploy'), '#!/bin/sh\nexit 0\n', { mode: 0o644 });
    await writeFile(join(hooks, 'post-deploy.sample'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    const { out } = quiet();
    await assert.rejects(runHook('pre-deploy', facts, { root, out }), /the pre-deploy hook \(\.kamal\/hooks\/pre-deploy\) is not executable: `chmod \+x \.kamal\/hooks\/pre-deploy`/);
    assert.equal(await runHook('post-deploy', facts, { root, out }), false);
    await chmod(join(hooks, 'pre-deploy'), 0o755);
    assert.equal(await runHook('pre-deploy', facts, { root, out }), true);
  });

  it('--skip-hooks runs nothing, even a failing hook', async (t) => {
    const { root, hooks } = await project(t);
    await writeFile(join(hooks, 'pre-deploy'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    const { out } = quiet();
    assert.equal(await runHook('pre-deploy', facts, { root, out, skip: true }), false);
  });

  it('commandHooks binds the service, destination and command facts; extra facts (runtime) per call', async (t) => {
    const { root, hooks } = await project(t);
    await writeFile(join(hooks, 'post-deploy'), '#!/bin/sh\necho "$KAMAL_SERVICE $KAMAL_DESTINATION $KAMAL_COMMAND $KAMAL_RUNTIME $MRSK_HOSTS" > "$PWD/seen"\n', { mode: 0o755 });
    const { out } = quiet();
    const hook = commandHooks({ root, service: 'app', destination: 'staging' }, { out }, { command: 'deploy', version: 'v1', hosts: ['a', 'b'] });
    await hook('post-deploy', { runtime: 12.2 });
    assert.equal(await readFile(join(root, 'seen'), 'utf8'), 'app staging deploy 12 a,b\n');
  });

  it('adds no secret to the environment: only what this process had, plus the KAMAL_/MRSK_ variables', async (t) => {
    const { root, hooks } = await project(t);
    await writeFile(join(hooks, 'pre-deploy'), '#!/bin/sh\nenv > "$PWD/seen"\n', { mode: 0o755 });
    const { out } = quiet();
    await runHook('pre-deploy', facts, { root, out, env: { PATH: process.env.PATH } });
    const names = (await readFile(join(root, 'seen'), 'utf8')).split('\n').map((line) => line.split('=')[0]).filter((name) => name && !/^(KAMAL|MRSK)_/.test(name));
    assert.deepEqual(names.filter((name) => !['PATH', 'PWD', 'SHLVL', '_', 'OLDPWD'].includes(name!)), []);
  });
});
