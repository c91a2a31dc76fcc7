// The order of a deploy: the builder is checked before anything else, the hosts are read before
// the build starts, and the registry login and the lock run while the image builds — each
// failure stops the rest and says which machine and why. Local commands (docker version, build,
// push, login) are a fake that records them; the lock scripts run for real with /bin/sh in a
// folder per host (test/helpers/local-runner.ts); docker commands on hosts are answered by a fake.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandContext } from '../../../src/cli/context.ts';
import { Output } from '../../../src/cli/output.ts';
import type { LocalExec, LocalOptions, LocalResult } from '../../../src/apply/local.ts';
import { deployTo, type DeployRequest } from '../../../src/commands/shared/deploy.ts';
import type { Session } from '../../../src/commands/shared/common.ts';
import { explainBuilderFailure, loginFailureReason, requireUsableHosts } from '../../../src/commands/shared/preflight.ts';
import { BuilderError, describeError, HostError, HostKeyError, LockHeldError, RemoteCommandError } from '../../../src/errors.ts';
import type { Snapshot } from '../../../src/probe/types.ts';
import { Secret } from '../../../src/secret.ts';
import type { Command, ExecOptions, ExecResult, Runner } from '../../../src/ssh/types.ts';
import { createShellRunner } from '../../helpers/local-runner.ts';
import { makeConfig } from '../helpers/config.ts';
import { reachableHost, snapshotOf } from '../helpers/snapshot.ts';

const PASSWORD = 'registry-pw-very-secret-42';
const HOSTS = ['h1', 'h2'] as const;
const DAEMON_DOWN = 'Cannot connect to the Docker daemon at unix:///nonexistent. Is the docker daemon running?';

/** Everything that happened, in order: local commands, probes, host commands, lock changes. */
type Event = string;

interface Fakes {
  readonly events: Event[];
  /** Answers for local argv (joined by spaces, matched by prefix); default exit 0. */
  local?: (argv: readonly string[], options: LocalOptions) => Promise<LocalResult | undefined> | LocalResult | undefined;
  /** Answers for docker commands on hosts; default exit 0. */
  hostDocker?: (host: string, argv: readonly string[]) => Promise<ExecResult | undefined> | ExecResult | undefined;
  /** An error a host's script (lock, release …) rejects with instead of running; default none. */
  hostScript?: (host: string, script: string) => Error | undefined;
  /** The probes' answers: first the lock-free one, then the one under the lock. */
  probes: ((hosts: readonly string[]) => Snapshot | Promise<Snapshot>)[];
}

function quietContext(interrupt: AbortController): CommandContext & { lines: string[] } {
  const lines: string[] = [];
  const sink = { isTTY: false, write: (text: string) => (lines.push(text), true) } as unknown as NodeJS.WriteStream;
  return { global: { config: 'config/deploy.yml' }, out: new Output({}, sink, sink), cwd: '/srv/app', signal: interrupt.signal, lines };
}

async function setUp(fakes: Fakes, configOverrides: Parameters<typeof makeConfig>[0] = {}) {
  const shell = createShellRunner(await mkdtemp(join(tmpdir(), 'mrsk-deploy-order-')));
  const config = makeConfig({
    registry: { server: 'registry.example.com', username: 'deploy', password: new Secret('MRSK_REGISTRY_PASSWORD', PASSWORD) },
    builder: { multiarch: false, arch: [], context: '.', dockerfile: 'Dockerfile', args: {}, secrets: {} },
    ...configOverrides,
  });
  const runner: Runner = {
    async exec(host: string, command: Command, options: ExecOptions = {}) {
      if (Array.isArray(command) && command[0] === 'docker') {
        fakes.events.push(`host ${host}: ${command.slice(0, 2).join(' ')}`);
        if (command[1] === 'login') assert.equal(options.stdin, PASSWORD, 'the password goes on stdin');
        return (await fakes.hostDocker?.(host, command)) ?? { code: 0, stdout: '', stderr: '' };
      }
      const line = 'script' in command ? command.script : command.join(' ');
      const fault = fakes.hostScript?.(host, line);
      if (fault) {
        fakes.events.push(`host ${host}: ${fault.message}`);
        throw fault;
      }
      const result = await shell.exec(host, command, options);
      if (/lock/.test(line)) fakes.events.push(`host ${host}: lock script (exit ${result.code})`);
      return result;
    },
    upload: (host, path, content, mode) => shell.upload(host, path, content, mode),
    close: async () => {},
    stats: () => ({}),
  };
  const interrupt = new AbortController();
  const ctx = quietContext(interrupt);
  const session: Session = {
    config,
    hosts: [...HOSTS],
    roles: ['web', 'job'],
    runner,
    remote: { runner, secrets: [...config.secrets, config.registry.password!], signal: ctx.signal },
    close: async () => {},
  };
  let probeCount = 0;
  const exec: LocalExec = async (argv, options = {}) => {
    fakes.events.push(`local: ${argv.slice(0, 3).join(' ')}`);
    const answer = await fakes.local?.(argv, options);
    return answer ?? { code: 0, stdout: '', stderr: '' };
  };
  const probe = async (_session: Session, hosts: readonly string[] = HOSTS) => {
    const which = probeCount++;
    fakes.events.push(`probe ${hosts.join(',')}`);
    const answer = fakes.probes[which];
    if (!answer) throw new Error(`unexpected probe #${which + 1}`);
    return answer(hosts);
  };
  const lockDir = (host: string) => join(shell.homeOf(host), '.mrsk', config.service, 'lock');
  const deploy = (request: Partial<DeployRequest> = {}) => deployTo(ctx, session, { mode: 'deploy', version: 'v2', ...request }, { exec, probe });
  return { ctx, shell, deploy, lockDir, config, interrupt };
}

const allUp = () => snapshotOf(...HOSTS.map((host) => reachableHost(host)));
/** A local docker build that runs until it is aborted, like a long real one. */
function buildUntilAborted(events: Event[]) {
  return (argv: readonly string[], options: LocalOptions) => {
    if (argv[1] !== 'build') return undefined;
    return new Promise<LocalResult>((_resolve, reject) => {
      const abort = () => {
        events.push('build aborted');
        reject(Object.assign(new Error('The operation was aborted'), { name: 'AbortError' }));
      };
      if (options.signal?.aborted) abort();
      else options.signal?.addEventListener('abort', abort, { once: true });
    });
  };
}
const STOP = new Error('stop here: the rest is the executor, tested elsewhere');

describe('deploy order', () => {
  test('a Docker daemon that does not answer is reported first, with the fix, before any host is contacted (exit 69)', async () => {
    const events: Event[] = [];
    const { deploy, ctx } = await setUp({
      events,
      probes: [],
      local: (argv) => (argv[1] === 'version' ? { code: 1, stdout: '', stderr: DAEMON_DOWN } : undefined),
    });
    await assert.rejects(deploy(), (error: Error) => {
      assert.ok(error instanceof BuilderError);
      assert.equal(error.exitCode, 69);
      assert.match(error.message, /^cannot reach the Docker daemon that builds images \(unix:\/\/\/nonexistent\): start Docker, or set builder\.remote/);
      assert.match(error.message, /--skip-push/);
      return true;
    });
    assert.deepEqual(events, ['local: docker version --format']);
    assert.ok(!ctx.lines.some((line) => /Building|Logged in/.test(line)));
  });

  test('--skip-push needs no builder and reads the hosts once, under the lock, while they log in; the lock is released after', async () => {
    const events: Event[] = [];
    const { deploy, lockDir } = await setUp({ events, probes: [() => { events.push('(under the lock)'); throw STOP; }] });
    await assert.rejects(deploy({ skipPush: true }), (error) => error === STOP);
    assert.ok(!events.some((e) => e.startsWith('local:')), `no local command: ${events.join('\n')}`);
    const at = (event: string) => {
      const index = events.indexOf(event);
      assert.ok(index >= 0, `no "${event}" in:\n${events.join('\n')}`);
      return index;
    };
    for (const host of HOSTS) {
      assert.ok(at(`host ${host}: lock script (exit 0)`) < at('probe h1,h2'), `${host} is locked before the hosts are read:\n${events.join('\n')}`);
      at(`host ${host}: docker login`);
      assert.equal(existsSync(lockDir(host)), false, `${host}: the lock is released`);
    }
    assert.equal(events.filter((e) => e.startsWith('probe')).length, 1, 'one read, under the lock');
  });

  test('--skip-push: a login that fails on a usable host stops the deploy before the plan, naming it; one on an unreachable host left out does not count', async () => {
    const events: Event[] = [];
    const refused = { code: 1, stdout: '', stderr: 'Error response from daemon: unauthorized: incorrect username or password' };
    const h2Down = () => snapshotOf(reachableHost('h1'), { host: 'h2', status: 'unreachable' as const, message: 'connect ECONNREFUSED' });
    const failing = await setUp({ events, probes: [allUp], hostDocker: (host, argv) => (argv[1] === 'login' && host === 'h2' ? refused : undefined) });
    await assert.rejects(failing.deploy({ skipPush: true }), (error: Error) => {
      assert.ok(error instanceof HostError, `${error.name}: ${error.message}`);
      assert.match(describeError(error), /^h2: registry login to registry\.example\.com failed on 1 of 2 host\(s\), so nothing was deployed:\n {2}h2: docker login exited 1: .*unauthorized/);
      return true;
    });
    assert.ok(!events.some((e) => / docker (pull|run)/.test(e)), `nothing was changed:\n${events.join('\n')}`);
    for (const host of HOSTS) assert.equal(existsSync(failing.lockDir(host)), false, `${host}: the lock is released`);

    // with --skip-unreachable, h2 (unreachable, its login failed) is left out and h1 goes on
    const skipping = await setUp({ events: [], probes: [h2Down], hostDocker: (host, argv) => (argv[1] === 'login' && host === 'h2' ? refused : undefined) });
    const result = await skipping.deploy({ skipPush: true, skipUnreachable: true });
    assert.deepEqual(result.hosts, ['h1']);
    assert.deepEqual(result.missed.map((m) => m.host), ['h2']);
    assert.ok(skipping.ctx.lines.includes('Logged in to registry.example.com on 1 host(s)\n'), skipping.ctx.lines.join(''));
  });

  test('--skip-push: a host whose SSH handshake times out while the lock is taken is read lock-free and named (exit 69); nothing is left locked', async () => {
    const events: Event[] = [];
    const h2Down = () => snapshotOf(reachableHost('h1'), { host: 'h2', status: 'unreachable' as const, message: 'connect timeout: no SSH session with h2:22 within 5s' });
    const { deploy, lockDir } = await setUp({
      events,
      probes: [h2Down],
      hostScript: (host) => (host === 'h2' ? new HostError('h2', 'connect timeout: no SSH session with h2:22 within 5s', { kind: 'timeout', beforeSession: true }) : undefined),
    });
    await assert.rejects(deploy({ skipPush: true }), (error: Error) => {
      assert.ok(error instanceof HostError, `${error.name}: ${error.message}`);
      assert.equal(error.exitCode, 69);
      assert.match(error.message, /cannot be used, so nothing was deployed to any host:\n {2}h2: unreachable: connect timeout/);
      assert.doesNotMatch(error.message, /could not be released/);
      return true;
    });
    assert.ok(!events.some((e) => / docker (pull|run)/.test(e)), `nothing was changed:\n${events.join('\n')}`);
    for (const host of HOSTS) assert.equal(existsSync(lockDir(host)), false, `${host}: no lock left`);
  });

  test('a host that cannot be used stops the deploy before the build starts, naming it and what was seen (exit 69)', async () => {
    const events: Event[] = [];
    const { deploy, ctx } = await setUp({
      events,
      probes: [() => snapshotOf(reachableHost('h1'), { host: 'h2', status: 'auth-failed', message: 'authentication failed for deploy (tried ~/.ssh/id_ed25519)' })],
    });
    await assert.rejects(deploy(), (error: Error) => {
      assert.ok(error instanceof HostError);
      assert.equal(error.exitCode, 69);
      // what the user sees: the host in front (src/errors.ts describeError), not in the message
      assert.equal(describeError(error), [
        'h2: cannot be used, so nothing was deployed to any host:',
        '  h2: auth-failed: authentication failed for deploy (tried ~/.ssh/id_ed25519)',
        'Fix it and run again, or run again with --skip-unreachable to deploy h1 and record h2 as behind (`mrsk drift` and `mrsk plan` show it until it is deployed).',
      ].join('\n'));
      return true;
    });
    // only the builder check ran locally: no local login, no build, no push; nothing on the hosts
    assert.deepEqual(events, ['local: docker version --format', 'local: docker buildx version', 'probe h1,h2']);
    assert.ok(!ctx.lines.some((line) => /Building/.test(line)));
  });

  test('an unknown host key on every bad host keeps its own exit code (77)', () => {
    const snapshot = snapshotOf({ host: 'h1', status: 'host-key-changed', message: 'host key changed' }, { host: 'h2', status: 'host-key-changed', message: 'unknown host key' });
    assert.throws(() => requireUsableHosts(snapshot, HOSTS), (error: Error) => {
      assert.ok(error instanceof HostKeyError);
      assert.equal(error.exitCode, 77);
      assert.match(describeError(error), /^h1, h2: cannot be used[^\n]*\n {2}h1: host-key-changed: host key changed\n {2}h2: host-key-changed: unknown host key\nFix them and run again\.$/);
      return true;
    });
  });

  test('the registry login runs on every host while the image builds; a host that fails is named with why, the build is stopped, no lock is taken', async () => {
    const events: Event[] = [];
    const { deploy, lockDir, ctx } = await setUp({
      events,
      probes: [allUp],
      local: buildUntilAborted(events),
      hostDocker: async (host, argv) => {
        if (argv[1] !== 'login' || host !== 'h2') return undefined;
        // h2 answers once the build runs, as a slow host would
        const deadline = Date.now() + 10_000;
        while (!events.includes('local: docker build -t') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
        return { code: 1, stdout: '', stderr: `Error response from daemon: Get "https://registry.example.com/v2/": unauthorized: incorrect username or password (${PASSWORD})` };
      },
    });
    await assert.rejects(deploy(), (error: Error) => {
      assert.ok(error instanceof HostError);
      assert.equal(error.exitCode, 69);
      assert.match(describeError(error), /^h2: registry login to registry\.example\.com failed on 1 of 2 host\(s\), so nothing was deployed:\n {2}h2: docker login exited 1: .*unauthorized.* — the registry refused the credentials: check registry\.username and registry\.password$/);
      assert.ok(!error.message.includes(PASSWORD), 'the password must never be printed');
      return true;
    });
    assert.ok(ctx.lines.includes('Stopped the build (a host check failed).\n'), ctx.lines.join(''));
    assert.ok(events.indexOf('local: docker build -t') < events.indexOf('build aborted'), `the build is stopped:\n${events.join('\n')}`);
    assert.ok(!events.some((e) => e.includes('lock script')), `no lock was taken:\n${events.join('\n')}`);
    for (const host of HOSTS) assert.equal(existsSync(lockDir(host)), false);
  });

  test('a host whose connection drops during the login is reported as such, with the others', () => {
    const reason = loginFailureReason('h1', new HostError('h1', 'the SSH connection was closed', { kind: 'unreachable' }), 'r.example', []);
    assert.equal(reason, 'the SSH connection was closed');
    const refused = loginFailureReason('h1', new RemoteCommandError('h1', 'docker login', 1, 'Error: dial tcp: lookup r.example: no such host'), 'r.example', []);
    assert.equal(refused, 'docker login exited 1: Error: dial tcp: lookup r.example: no such host — that machine cannot reach the registry r.example');
  });

  test('a deploy lock held by someone else stops the build (exit 75); no host is changed', async () => {
    const events: Event[] = [];
    const { deploy, lockDir } = await setUp({ events, probes: [allUp], local: buildUntilAborted(events) });
    await mkdir(lockDir('h2'), { recursive: true });
    const holder = {
      holder: 'ops@elsewhere', command: 'deploy v1', acquiredAt: new Date().toISOString(),
      leaseExpiresAt: new Date(Date.now() + 600_000).toISOString(), id: 'someone-else', pid: 1,
    };
    await writeFile(join(lockDir('h2'), 'holder.json'), JSON.stringify(holder));
    await assert.rejects(deploy(), (error: Error) => {
      assert.ok(error instanceof LockHeldError, `${error.name}: ${error.message}`);
      assert.equal(error.exitCode, 75);
      assert.match(error.message, /ops@elsewhere/);
      return true;
    });
    assert.ok(events.includes('local: docker build -t'), 'the build had started');
    assert.ok(events.includes('build aborted'), 'the build is stopped');
    assert.equal(existsSync(lockDir('h1')), false, 'h1 is not left locked');
  });

  test('the lock is taken while the image builds; the hosts are read again under it only after the push; the lock is released after', async () => {
    const events: Event[] = [];
    let lockSeenDuringBuild = false;
    const { deploy, lockDir } = await setUp({
      events,
      probes: [allUp, () => { events.push('(under the lock)'); throw STOP; }],
      local: async (argv) => {
        if (argv[1] !== 'build') return undefined;
        // the build "runs" until both hosts are locked (deadline: a lock that never comes fails the test)
        const deadline = Date.now() + 10_000;
        while (!HOSTS.every((host) => existsSync(join(lockDir(host), 'holder.json')))) {
          if (Date.now() > deadline) return { code: 1, stdout: '', stderr: 'test: the hosts were not locked during the build' };
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        lockSeenDuringBuild = true;
        events.push('build done');
        return undefined;
      },
    });
    await assert.rejects(deploy(), (error) => error === STOP);
    assert.ok(lockSeenDuringBuild);
    const order = (event: string) => {
      const index = events.indexOf(event);
      assert.ok(index >= 0, `no "${event}" in:\n${events.join('\n')}`);
      return index;
    };
    assert.ok(order('local: docker version --format') < order('probe h1,h2'), 'the builder is checked first');
    assert.ok(order('probe h1,h2') < order('local: docker build -t'), 'the hosts are read before the build');
    assert.ok(order('local: docker login --username') < order('local: docker build -t'));
    assert.ok(order('host h1: docker login') < order('build done') && order('host h2: docker login') < order('build done'), 'the hosts log in while the image builds');
    assert.ok(order('build done') < order('local: docker push registry.example.com/acme/app:v2'));
    assert.ok(order('local: docker push registry.example.com/acme/app:v2') < order('(under the lock)'), 'the hosts are read again once the image is pushed');
    assert.equal(events.filter((e) => e.startsWith('probe')).length, 2, 'one lock-free probe (reused) and one under the lock');
    for (const host of HOSTS) assert.equal(existsSync(lockDir(host)), false, `${host}: the lock is released`);
  });

  test('a failed build releases the lock and is the error reported', async () => {
    const events: Event[] = [];
    const { deploy, lockDir } = await setUp({
      events,
      probes: [allUp],
      local: async (argv) => {
        if (argv[1] !== 'build') return undefined;
        // fail once the lock is held, so that releasing it is what is tested
        const deadline = Date.now() + 10_000;
        while (!HOSTS.every((host) => existsSync(join(lockDir(host), 'holder.json'))) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
        return { code: 1, stdout: '', stderr: 'failed to read dockerfile: open Dockerfile: no such file or directory' };
      },
    });
    await assert.rejects(deploy(), (error: Error) => {
      assert.ok(error instanceof RemoteCommandError, `${error.name}: ${error.message}`);
      assert.match(describeError(error), /^local: `docker build .*` failed \(exit 1\):\nfailed to read dockerfile/);
      return true;
    });
    assert.equal(events.filter((e) => e.startsWith('probe')).length, 1, 'nothing is planned');
    for (const host of HOSTS) assert.equal(existsSync(lockDir(host)), false, `${host}: the lock is released`);
  });

  test('Ctrl-C during the build stops it, says so, and releases the lock', async () => {
    const events: Event[] = [];
    const { deploy, lockDir, interrupt } = await setUp({ events, probes: [allUp], local: buildUntilAborted(events) });
    const running = deploy();
    const deadline = Date.now() + 10_000;
    while (!HOSTS.every((host) => existsSync(join(lockDir(host), 'holder.json'))) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    interrupt.abort(new Error('interrupted (SIGINT)'));
    await assert.rejects(running, (error: Error) => {
      // (the lock's own note on the release may follow on the next line)
      assert.match(error.message, /^interrupted: the build of registry\.example\.com\/acme\/app:v2 was stopped; nothing was deployed(\n|$)/);
      return true;
    });
    assert.ok(events.includes('build aborted'));
    for (const host of HOSTS) assert.equal(existsSync(lockDir(host)), false, `${host}: the lock is released`);
  });

  test('redeploy follows the same rule: an unreachable host stops it before the build (exit 69) and names --skip-unreachable', async () => {
    const events: Event[] = [];
    const { deploy } = await setUp({
      events,
      probes: [() => snapshotOf(reachableHost('h1'), { host: 'h2', status: 'unreachable', message: 'connect ECONNREFUSED 10.0.0.2:22' })],
    });
    await assert.rejects(deploy({ mode: 'redeploy' }), (error: Error) => {
      assert.ok(error instanceof HostError);
      assert.equal(error.exitCode, 69);
      assert.match(error.message, /h2: unreachable: connect ECONNREFUSED 10\.0\.0\.2:22\n.*--skip-unreachable to deploy h1 and record h2 as behind/s);
      return true;
    });
    assert.ok(!events.includes('local: docker build -t'), 'nothing is built');
  });

  test('--skip-unreachable leaves an unusable host out (with a warning), still builds, and locks and reads only the others', async () => {
    for (const mode of ['deploy', 'redeploy'] as const) {
      const events: Event[] = [];
      const { deploy, ctx } = await setUp({
        events,
        probes: [() => snapshotOf(reachableHost('h1'), { host: 'h2', status: 'unreadable', message: 'docker printed more than 16 MiB' }), () => { throw STOP; }],
      });
      await assert.rejects(deploy({ mode, skipUnreachable: true }), (error) => error === STOP);
      assert.ok(ctx.lines.some((line) => line.includes('h2: unreadable: docker printed more than 16 MiB — skipped (--skip-unreachable); the release records it as behind')), ctx.lines.join('\n'));
      assert.ok(events.includes('local: docker build -t'));
      assert.ok(!events.some((e) => e.startsWith('host h2')), `nothing runs on h2: ${events.join('\n')}`);
      assert.ok(events.includes('probe h1'), 'under the lock only the usable host is read');
    }
  });
});

describe('builder failure messages', () => {
  test('an ssh:// builder.remote says it uses the system ssh settings, not ssh.keys', () => {
    const message = explainBuilderFailure({ remote: 'ssh://builder@build.example.com', code: 1, stderr: 'error during connect: ssh: Permission denied (publickey).' });
    assert.match(message, /^cannot reach the Docker daemon that builds images at builder\.remote \(ssh:\/\/builder@build\.example\.com\)\./);
    assert.match(message, /~\/\.ssh\/config, ssh-agent/);
    assert.match(message, /not with ssh\.keys/);
    assert.match(message, /`ssh builder@build\.example\.com docker version`/);
    assert.match(message, /Docker said: error during connect: ssh: Permission denied \(publickey\)\.$/);
  });

  test('no docker command, no permission, no answer', () => {
    assert.match(explainBuilderFailure({ code: 127, stderr: 'docker: command not found' }), /`docker` command is not installed on this machine/);
    assert.match(
      explainBuilderFailure({ code: 1, stderr: 'permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: …' }),
      /^this user may not use the Docker daemon that builds images \(unix:\/\/\/var\/run\/docker\.sock\): add it to the docker group/,
    );
    assert.match(explainBuilderFailure({ code: 124, dockerHost: 'tcp://10.0.0.9:2375', stderr: '' }), /\(tcp:\/\/10\.0\.0\.9:2375\) did not answer within 30s/);
    assert.match(explainBuilderFailure({ code: 1, stderr: '' }), /\(the default Docker socket\)/);
  });
});
