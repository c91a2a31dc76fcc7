// The probe script run by a real /bin/sh and a real docker client through LocalRunner: docker
// problems for real (missing binary, no daemon, socket permission), and, when a dockerd is
// reachable, real containers of every kind parsed into the snapshot.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { ContainerSpec } from '../../../src/desired/types.ts';
import { removeContainer, removeImage, runContainer, stopContainer } from '../../../src/runtime/index.ts';
import { probeHosts } from '../../../src/probe/probe.ts';
import { probeScript } from '../../../src/probe/script.ts';
import type { ReachableHost, UnreachableHost } from '../../../src/probe/types.ts';
import { Secret } from '../../../src/secret.ts';
import { LocalRunner } from '../../helpers/local-runner.ts';

const run = promisify(execFile);
const scratch = mkdtempSync(join(tmpdir(), 'mrsk-probe-it-'));
chmodSync(scratch, 0o755); // the permission test runs as nobody and must reach its home in here
after(() => rmSync(scratch, { recursive: true, force: true }));

function homeDir(name: string): string {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  return dir;
}

async function hasCommand(name: string): Promise<boolean> {
  return run('/bin/sh', ['-c', `command -v ${name}`]).then(() => true, () => false);
}

/** The first docker daemon that answers: MRSK_TEST_DOCKER_HOST, DOCKER_HOST, the default socket, the test bed's host 1. */
async function findDockerHost(): Promise<string | undefined> {
  const candidates = [
    process.env.MRSK_TEST_DOCKER_HOST,
    process.env.DOCKER_HOST,
    'unix:///var/run/docker.sock',
    `unix://${process.env.MRSK_TESTBED_DIR ?? '/tmp/mrsk-testbed'}/h1/run/docker.sock`,
  ].filter((c): c is string => Boolean(c));
  for (const candidate of candidates) {
    const answered = await run('docker', ['version', '--format', '{{.Server.Version}}'], { env: { ...process.env, DOCKER_HOST: candidate }, timeout: 5000 })
      .then(() => true, () => false);
    if (answered) return candidate;
  }
  return undefined;
}

describe('probe problems through a real shell and docker client', async () => {
  const dockerClient = await hasCommand('docker');

  it('a host without docker is docker-missing; an unknown host is unreachable; hosts keep their order, one command each', async () => {
    // a PATH with a shell and nothing else, like a server where docker was never installed
    const bin = homeDir('bare-bin');
    symlinkSync('/bin/sh', join(bin, 'sh'));
    const runner = new LocalRunner({ bare: { home: homeDir('bare'), env: { PATH: bin } } });
    const snapshot = await probeHosts(runner, ['nowhere', 'bare'], 'app');
    assert.deepEqual(Object.keys(snapshot.hosts), ['nowhere', 'bare']);
    const bare = snapshot.hosts['bare'] as UnreachableHost;
    assert.equal(bare.status, 'docker-missing');
    const nowhere = snapshot.hosts['nowhere'] as UnreachableHost;
    assert.equal(nowhere.status, 'unreachable');
    assert.match(nowhere.message, /ECONNREFUSED/);
    assert.deepEqual(runner.stats(), { bare: { connections: 1, commands: 1 } });
    assert.ok(!Number.isNaN(Date.parse(snapshot.takenAt)));
  });

  it('a stopped daemon is docker-down with docker\'s own message', async () => {
    assert.ok(dockerClient, 'the docker client must be on PATH (test/bed/install-deps.sh installs docker.io)');
    const socket = join(scratch, 'stopped.sock');
    const runner = new LocalRunner({ h: { home: homeDir('down'), env: { DOCKER_HOST: `unix://${socket}` } } });
    const snapshot = await probeHosts(runner, ['h'], 'app');
    const host = snapshot.hosts['h'] as UnreachableHost;
    assert.equal(host.status, 'docker-down', host.message);
    assert.ok(host.message.includes(socket), host.message);
  });

  const root = process.getuid?.() === 0;
  it(
    'a user outside the socket\'s group gets permission-denied',
    async () => {
      assert.ok(dockerClient, 'the docker client must be on PATH (test/bed/install-deps.sh installs docker.io)');
      assert.ok(root, 'this test runs the probe as another user, which needs root');
      // a root-only socket, as /var/run/docker.sock is for users outside the docker group
      const socket = join(scratch, 'root-only.sock');
      const server: Server = createServer((connection) => connection.destroy());
      await new Promise<void>((resolve) => server.listen(socket, resolve));
      chmodSync(socket, 0o600);
      try {
        const runner = new LocalRunner({ h: { home: homeDir('nobody'), uid: 65534, gid: 65534, env: { DOCKER_HOST: `unix://${socket}` } } });
        const host = (await probeHosts(runner, ['h'], 'app')).hosts['h'] as UnreachableHost;
        assert.equal(host.status, 'permission-denied', host.message);
        assert.match(host.message, /docker group/);
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    },
  );
});

describe('probe against a real dockerd', async () => {
  const dockerHost = (await hasCommand('docker')) ? await findDockerHost() : undefined;
  const busybox = await hasCommand('busybox');
  const unavailable = (!dockerHost && 'no docker daemon reachable (set MRSK_TEST_DOCKER_HOST, or bring the test bed up)') ||
    (!busybox && 'busybox-static is needed to make a test image');

  const suffix = randomBytes(4).toString('hex');
  const service = `probeit${suffix}`;
  const image = `mrsk-probe-it:${suffix}`;
  const env = { ...process.env, DOCKER_HOST: dockerHost ?? '' };
  const docker = (argv: readonly string[]) => run(argv[0]!, argv.slice(1), { env, timeout: 30_000 });
  const home = homeDir('docker');
  const secretValue = `s3cret-${suffix}`;
  const names = { web: `${service}-web-it-v1`, worker: `${service}-worker-it-v1` };

  before(async () => {
    // a set-up that cannot be made is a failure, never a skip (test/run.sh brings the bed's dockerd up)
    if (unavailable) throw new Error(`cannot set up the probe's real-dockerd test: ${unavailable}`);
    // a busybox image made here: nothing is pulled
    const rootfs = join(scratch, 'rootfs');
    mkdirSync(join(rootfs, 'bin'), { recursive: true });
    await run('/bin/sh', ['-c', `cp "$(command -v busybox)" ${rootfs}/bin/busybox && ln -s busybox ${rootfs}/bin/sh && ln -s busybox ${rootfs}/bin/sleep`]);
    await run('/bin/sh', ['-c', `tar -C ${rootfs} -c . | docker import - ${image}`], { env });
    writeFileSync(join(home, 'web.env'), `SECRET_TOKEN=${secretValue}\n`, { mode: 0o600 });
    const spec = (role: 'web' | 'worker', cmd: string[], healthcheck?: ContainerSpec['healthcheck']): ContainerSpec => ({
      name: names[role], service, role, destination: 'it', version: 'v1', image, cmd,
      env: { ROLE: role }, secretEnv: role === 'web' ? { SECRET_TOKEN: new Secret('SECRET_TOKEN', secretValue) } : {},
      volumes: [], labels: { 'mrsk.service': service, 'mrsk.role': role, 'mrsk.destination': 'it', 'mrsk.version': 'v1' },
      ...(healthcheck ? { healthcheck } : {}), logging: { options: {} }, options: [], network: 'bridge', proxied: false,
      specHash: 'v1:test',
    });
    await docker(runContainer('docker', spec('web', ['sleep', '1000'], { cmd: 'true', interval: 1, timeout: 2, retries: 2, startPeriod: 0 }), { envFile: join(home, 'web.env') }));
    await docker(runContainer('docker', spec('worker', ['sh', '-c', "trap 'exit 3' TERM; sleep 1000 & wait"])));
    await docker(stopContainer('docker', names.worker, 5)); // exits 3 on SIGTERM; stopped by hand, so not restarted
    for (let i = 0; i < 50; i++) {
      const { stdout } = await docker(['docker', 'inspect', '-f', '{{.State.Health.Status}}', names.web]);
      if (stdout.trim() === 'healthy') break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    mkdirSync(join(home, '.mrsk', `${service}-it`, 'lock'), { recursive: true });
    writeFileSync(join(home, '.mrsk', `${service}-it`, 'lock', 'holder.json'), JSON.stringify({
      holder: 'ci@runner', command: 'mrsk apply', acquiredAt: '2026-01-01T00:00:00Z', leaseExpiresAt: '2026-01-01T00:15:00Z', id: 'l1',
    }));
  });

  after(async () => {
    if (unavailable) return;
    for (const name of Object.values(names)) await docker(removeContainer('docker', name, { force: true })).catch(() => {});
    await docker(removeImage('docker', image)).catch(() => {});
  });

  it('sees running+healthy and exited(3) containers, images, networks, lock; and no secret leaves the host', async () => {
    const runner = new LocalRunner({ local: { home, env: { DOCKER_HOST: dockerHost! } } });
    const snapshot = await probeHosts(runner, ['local'], service, 'it', { imageRepo: 'mrsk-probe-it' });
    const host = snapshot.hosts['local'] as ReachableHost;
    assert.equal(host.status, 'ok', 'message' in host ? String((host as unknown as UnreachableHost).message) : '');
    const { stdout: version } = await docker(['docker', 'version', '--format', '{{.Server.Version}}']);
    assert.equal(host.dockerVersion, version.trim());
    assert.equal(host.home, home);
    assert.equal(host.runtime, 'docker');
    assert.equal(host.podmanService, undefined);
    // runtime auto: docker's engine answers, so the host reads the same
    const autoRunner = new LocalRunner({ local: { home, env: { DOCKER_HOST: dockerHost! } } });
    const auto = (await probeHosts(autoRunner, ['local'], service, 'it', { imageRepo: 'mrsk-probe-it', runtimeOf: () => 'auto' })).hosts['local'] as ReachableHost;
    assert.equal(auto.runtime, 'docker');
    assert.deepEqual(auto.containers.map((c) => [c.name, c.state, c.health]), host.containers.map((c) => [c.name, c.state, c.health]));

    const ours = host.containers.filter((c) => c.name !== 'traefik');
    assert.deepEqual(ours.map((c) => c.name), [names.web, names.worker]);
    const [web, worker] = ours as [typeof ours[0], typeof ours[0]];
    assert.equal(web.state, 'running');
    assert.equal(web.health, 'healthy');
    assert.equal(web.image, image);
    assert.equal(web.labels['mrsk.role'], 'web');
    assert.equal(worker.state, 'exited');
    assert.equal(worker.exitCode, 3);
    assert.equal(worker.health, undefined);
    assert.ok(worker.finishedAt);

    assert.deepEqual(host.images.map((i) => i.tags), [[image]]);
    assert.equal(host.images[0]!.id, web.imageId);
    assert.ok(host.networks.includes('bridge'));
    assert.equal(host.lock?.holder, 'ci@runner');
    assert.equal(host.release, undefined);
    assert.deepEqual(runner.stats(), { local: { connections: 1, commands: 1 } });

    // the raw probe output carries no env: the secret from --env-file stays on the host
    const raw = await runner.exec('local', { script: probeScript(service, 'it') });
    assert.ok(raw.stdout.includes(names.web));
    assert.ok(!raw.stdout.includes(secretValue));
  });
});
