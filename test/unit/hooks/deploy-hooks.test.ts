// Where deploy runs the hooks: pre-connect before anything (even the builder check), pre-build
// after the hosts are read and before the build or any registry login on them, pre-deploy once
// the image is pushed and the lock is held, before the hosts are read under it. A failing
// pre-hook changes nothing. Local commands and probes are fakes that log into the same file the
// hooks append to, so the order is one list; the lock scripts run for real (local-runner).
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { LocalExec } from '../../../src/apply/local.ts';
import type { CommandContext } from '../../../src/cli/context.ts';
import { Output } from '../../../src/cli/output.ts';
import type { Session } from '../../../src/commands/shared/common.ts';
import { deployTo, type DeployRequest } from '../../../src/commands/shared/deploy.ts';
import { HookError } from '../../../src/hooks/run.ts';
import { Secret } from '../../../src/secret.ts';
import type { Command, ExecOptions, Runner } from '../../../src/ssh/types.ts';
import { createShellRunner } from '../../helpers/local-runner.ts';
import { makeConfig } from '../helpers/config.ts';
import { reachableHost, snapshotOf } from '../helpers/snapshot.ts';

const HOSTS = ['h1', 'h2'];
const STOP = new Error('stop here: the rest is the executor, tested elsewhere');

async function setUp(t: { after: (fn: () => Promise<void>) => void }, hooks: Record<string, number>) {
  const root = await mkdtemp(join(tmpdir(), 'mrsk-deploy-hooks-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const log = join(root, 'order.log');
  const record = (line: string) => appendFileSync(log, `${line}\n`);
  await mkdir(join(root, '.kamal', 'hooks'), { recursive: true });
  for (const [name, code] of Object.entries(hooks)) {
    await writeFile(join(root, '.kamal', 'hooks', name), `#!/bin/sh\necho "hook ${name} $KAMAL_COMMAND $KAMAL_HOSTS" >> "${log}"\n${code ? `echo "${name} says no" >&2\n` : ''}exit ${code}\n`, { mode: 0o755 });
  }
  const shell = createShellRunner(await mkdtemp(join(tmpdir(), 'mrsk-deploy-hooks-hosts-')));
  const config = makeConfig({
    root,
    registry: { server: 'registry.example.com', username: 'deploy', password: new Secret('MRSK_REGISTRY_PASSWORD', 'pw-secret') },
    builder: { multiarch: false, arch: [], context: '.', dockerfile: 'Dockerfile', args: {}, secrets: {} },
  });
  const runner: Runner = {
    async exec(host: string, command: Command, options: ExecOptions = {}) {
      if (Array.isArray(command) && command[0] === 'docker') {
        record(`host ${host}: ${command.slice(0, 2).join(' ')}`);
        return { code: 0, stdout: '', stderr: '' };
      }
      const result = await shell.exec(host, command, options);
      const line = 'script' in command ? command.script : command.join(' ');
      if (/lock/.test(line)) record(`host ${host}: lock script`);
      return result;
    },
    upload: (host, path, content, mode) => shell.upload(host, path, content, mode),
    close: async () => {},
    stats: () => ({}),
  };
  const lines: string[] = [];
  const sink = { isTTY: false, write: (text: string) => (lines.push(text), true) } as unknown as NodeJS.WriteStream;
  const ctx: CommandContext = { global: { config: 'config/deploy.yml' }, out: new Output({}, sink, sink), cwd: root, signal: new AbortController().signal };
  const session: Session = {
    config, hosts: [...HOSTS], roles: ['web', 'job'], runner,
    remote: { runner, secrets: [...config.secrets, config.registry.password!], signal: ctx.signal },
    close: async () => {},
  };
  const exec: LocalExec = async (argv) => {
    record(`local: ${argv.slice(0, 2).join(' ')}`);
    return { code: 0, stdout: '', stderr: '' };
  };
  let probes = 0;
  const probe = async () => {
    record(`probe ${++probes}`);
    if (probes > 1) throw STOP;
    return snapshotOf(...HOSTS.map((host) => reachableHost(host)));
  };
  const deploy = (request: Partial<DeployRequest> = {}) => deployTo(ctx, session, { mode: 'deploy', version: 'v2', ...request }, { exec, probe });
  const order = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);
  const lockDir = (host: string) => join(shell.homeOf(host), '.mrsk', config.service, 'lock');
  return { deploy, order, lockDir, lines };
}

describe('deploy hooks', () => {
  test('pre-connect first, pre-build before the build and any host login, pre-deploy under the lock after the push and before the hosts are read again', async (t) => {
    const { deploy, order } = await setUp(t, { 'pre-connect': 0, 'pre-build': 0, 'pre-deploy': 0 });
    await assert.rejects(deploy(), (error) => error === STOP);
    const seen = order();
    const at = (line: string) => {
      const index = seen.findIndex((l) => l === line || l.startsWith(`${line} `));
      assert.ok(index >= 0, `${line} not in:\n${seen.join('\n')}`);
      return index;
    };
    assert.equal(seen[0], 'hook pre-connect deploy h1,h2');
    assert.ok(at('probe 1') < at('hook pre-build deploy h1,h2'));
    assert.ok(at('hook pre-build') < at('local: docker build'));
    assert.ok(at('hook pre-build') < at('host h1: docker login'));
    assert.ok(at('local: docker push') < at('hook pre-deploy deploy h1,h2'));
    assert.ok(at('host h1: lock script') < at('hook pre-deploy'));
    assert.ok(at('hook pre-deploy') < at('probe 2'));
  });

  test('a failing pre-build stops the deploy before the build and before any host is logged in or locked', async (t) => {
    const { deploy, order } = await setUp(t, { 'pre-build': 4 });
    await assert.rejects(deploy(), (error: Error) => {
      assert.ok(error instanceof HookError);
      assert.match(error.message, /^the pre-build hook \(\.kamal\/hooks\/pre-build\) failed \(exit 4\), so nothing was built and no host was changed\. It said:\n {2}pre-build says no$/);
      return true;
    });
    assert.ok(!order().some((line) => /docker build$|host h\d/.test(line)), order().join('\n'));
  });

  test('a failing pre-deploy changes no host: the hosts are not read under the lock, and the lock is released', async (t) => {
    const { deploy, order, lockDir } = await setUp(t, { 'pre-deploy': 1 });
    await assert.rejects(deploy(), (error: Error) => error instanceof HookError && /pre-deploy hook .* failed \(exit 1\), so no host was changed/.test(error.message));
    assert.ok(!order().includes('probe 2'), order().join('\n'));
    for (const host of HOSTS) assert.equal(existsSync(lockDir(host)), false, `lock released on ${host}`);
  });

  test('--skip-hooks runs none of them', async (t) => {
    const { deploy, order } = await setUp(t, { 'pre-connect': 1, 'pre-build': 1, 'pre-deploy': 1 });
    await assert.rejects(deploy({ skipHooks: true }), (error) => error === STOP);
    assert.ok(!order().some((line) => line.startsWith('hook')));
  });

  test('--skip-push runs no pre-build (nothing is built), but pre-connect, and pre-deploy under the lock once the hosts are read and logged in', async (t) => {
    const { deploy, order } = await setUp(t, { 'pre-connect': 0, 'pre-build': 1, 'pre-deploy': 1 });
    await assert.rejects(deploy({ skipPush: true }), (error: Error) => error instanceof HookError && /pre-deploy hook .* failed \(exit 1\), so no host was changed/.test(error.message));
    const lines = order();
    assert.deepEqual(lines.filter((line) => line.startsWith('hook')), ['hook pre-connect deploy h1,h2', 'hook pre-deploy deploy h1,h2']);
    const at = (line: string) => lines.indexOf(line);
    for (const host of HOSTS) {
      assert.ok(at(`host ${host}: lock script`) < at('probe 1'), lines.join('\n'));
      assert.ok(at(`host ${host}: docker login`) >= 0 && at(`host ${host}: docker login`) < at('hook pre-deploy deploy h1,h2'), lines.join('\n'));
    }
    assert.ok(at('probe 1') < at('hook pre-deploy deploy h1,h2'), lines.join('\n'));
    assert.ok(!lines.some((line) => / docker (pull|run)/.test(line)), `no host was changed:\n${lines.join('\n')}`);
  });
});
