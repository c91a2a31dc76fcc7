import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerSpec } from '../../../src/desired/types.ts';
import {
  PS_ENTRY_FORMAT,
  containerLogs,
  execInContainer,
  inspectContainers,
  inspectHealth,
  listContainerIds,
  listContainers,
  removeContainer,
  renameContainer,
  runContainer,
  runOnce,
  startContainer,
  stopContainer,
  watchingHealthcheck,
} from '../../../src/runtime/index.ts';
import { InternalError } from '../../../src/errors.ts';
import { Secret } from '../../../src/secret.ts';

const webSpec: ContainerSpec = {
  name: 'app-web-prod-abc123',
  service: 'app',
  role: 'web',
  destination: 'prod',
  version: 'abc123',
  image: 'registry.example.com/acme/app:abc123',
  env: { RAILS_ENV: 'production', A_FIRST: 'x y', QUOTED: `it's "$HOME"` },
  secretEnv: { DATABASE_PASSWORD: new Secret('DATABASE_PASSWORD', 'hunter2-very-secret') },
  volumes: ['/data/storage:/rails/storage', 'cache:/cache'],
  labels: { 'mrsk.service': 'app', 'traefik.enable': 'true', 'mrsk.role': 'web' },
  healthcheck: { cmd: 'test -f /run/mrsk/cord/up && curl -fs http://localhost:3000/up', interval: 1, timeout: 5, retries: 7, startPeriod: 2 },
  logging: { driver: 'json-file', options: { 'max-size': '10m', 'max-file': '3' } },
  options: ['--memory', '512m', '--add-host', 'db:10.0.0.5'],
  network: 'mrsk',
  proxied: true,
  traefikService: 'app-web-prod',
  cordDir: '.mrsk/app-prod/cords/app-web-prod-abc123',
  specHash: 'v1:0000',
};

const jobSpec: ContainerSpec = {
  name: 'app-job-abc123',
  service: 'app',
  role: 'job',
  version: 'abc123',
  image: 'acme/app:abc123',
  cmd: ['bin/jobs', '--queue', 'default'],
  env: {},
  secretEnv: {},
  volumes: [],
  labels: { 'mrsk.service': 'app' },
  logging: { options: {} },
  options: [],
  network: 'mrsk',
  proxied: false,
  specHash: 'v1:1111',
};

describe('runContainer', () => {
  it('builds the full docker run argv of a proxied role: env sorted, secrets by file, labels sorted, cord mount, healthcheck, logging, options, image', () => {
    assert.deepEqual(runContainer('docker', webSpec, { envFile: '/root/.mrsk/app-prod/env/web.env', cordHostDir: '/root/.mrsk/app-prod/cords/app-web-prod-abc123' }), [
      'docker', 'run', '-d', '--name', 'app-web-prod-abc123', '--network', 'mrsk', '--restart', 'unless-stopped',
      '--env', 'A_FIRST=x y', '--env', `QUOTED=it's "$HOME"`, '--env', 'RAILS_ENV=production',
      '--env-file', '/root/.mrsk/app-prod/env/web.env',
      '--label', 'mrsk.role=web', '--label', 'mrsk.service=app', '--label', 'traefik.enable=true',
      '-v', '/data/storage:/rails/storage', '-v', 'cache:/cache',
      '-v', '/root/.mrsk/app-prod/cords/app-web-prod-abc123:/run/mrsk/cord',
      // Docker runs the check in its watching form (health-watch.ts), again 0.1 s after each run
      '--health-cmd', watchingHealthcheck(webSpec.healthcheck!).cmd,
      '--health-interval', '0.1s', '--health-timeout', '8s', '--health-retries', '7', '--health-start-period', '2s',
      '--log-driver', 'json-file', '--log-opt', 'max-file=3', '--log-opt', 'max-size=10m',
      '--memory', '512m', '--add-host', 'db:10.0.0.5',
      'registry.example.com/acme/app:abc123',
    ]);
  });

  it("runs a proxied container's check in Docker's watching form, Podman's as it is (with no start period), and a check of a container without a cord as it is", () => {
    const flags = (argv: readonly string[]) => argv.filter((word, i) => argv[i - 1]?.startsWith('--health-'));
    const plain = webSpec.healthcheck!;
    // Podman 4 ignores failures for the whole start period, even after passes: a drained young container would stay routed
    assert.deepEqual(flags(runContainer('podman', webSpec, { envFile: '/e', cordHostDir: '/c' })), [plain.cmd, '1s', '5s', '7', '0s']);
    assert.ok(watchingHealthcheck(plain).cmd.includes(`(${plain.cmd}) || exit 1`));
    const unproxied: ContainerSpec = { ...jobSpec, healthcheck: plain };
    assert.deepEqual(flags(runContainer('docker', unproxied)), [plain.cmd, '1s', '5s', '7', '2s']);
  });

  it('never puts a secret value or its name=value pair on argv', () => {
    const argv = runContainer('docker', webSpec, { envFile: '/env/web.env', cordHostDir: '/cord' });
    assert.ok(!argv.some((word) => word.includes('hunter2')), argv.join(' '));
    assert.ok(!argv.some((word) => word.startsWith('DATABASE_PASSWORD')));
  });

  it('falls back to the spec cord folder when no host path is given', () => {
    const argv = runContainer('docker', webSpec, { envFile: '/env/web.env' });
    assert.ok(argv.includes('.mrsk/app-prod/cords/app-web-prod-abc123:/run/mrsk/cord'));
  });

  it('builds a minimal argv for an unproxied role without healthcheck: no cord, no env file, cmd after the image', () => {
    assert.deepEqual(runContainer('docker', jobSpec), [
      'docker', 'run', '-d', '--name', 'app-job-abc123', '--network', 'mrsk', '--restart', 'unless-stopped',
      '--label', 'mrsk.service=app',
      'acme/app:abc123', 'bin/jobs', '--queue', 'default',
    ]);
  });

  it('refuses a spec with secrets but no env file, and a proxied spec without a cord folder', () => {
    assert.throws(() => runContainer('docker', webSpec, { cordHostDir: '/cord' }), InternalError);
    const { cordDir: _unused, ...withoutCord } = webSpec;
    assert.throws(() => runContainer('docker', withoutCord, { envFile: '/env' }), /cord folder/);
  });
});

describe('container lifecycle builders', () => {
  it('start, stop with a timeout, rm with and without force', () => {
    assert.deepEqual(startContainer('docker', 'abc'), ['docker', 'start', 'abc']);
    assert.deepEqual(stopContainer('docker', 'abc', 30), ['docker', 'stop', '-t', '30', 'abc']);
    assert.deepEqual(removeContainer('docker', 'abc'), ['docker', 'rm', 'abc']);
    assert.deepEqual(removeContainer('docker', 'abc', { force: true }), ['docker', 'rm', '-f', 'abc']);
    assert.deepEqual(renameContainer('docker', 'abc', 'app-web-v1_replaced_abc'), ['docker', 'rename', 'abc', 'app-web-v1_replaced_abc']);
  });

  it('inspects health as one JSON State line, and containers with an optional format', () => {
    assert.deepEqual(inspectHealth('docker', 'app-web-v1'), ['docker', 'inspect', '-f', '{{json .State}}', 'app-web-v1']);
    assert.deepEqual(inspectContainers('docker', ['a', 'b']), ['docker', 'inspect', '--type', 'container', 'a', 'b']);
    assert.deepEqual(inspectContainers('docker', ['a'], { format: '{{.Id}}' }), ['docker', 'inspect', '--type', 'container', '--format', '{{.Id}}', 'a']);
  });

  it('logs with every option, and with none', () => {
    assert.deepEqual(containerLogs('docker', 'app-web-v1'), ['docker', 'logs', 'app-web-v1']);
    assert.deepEqual(containerLogs('docker', 'app-web-v1', { lines: 50, since: '10m', follow: true, timestamps: true }), [
      'docker', 'logs', '--tail', '50', '--since', '10m', '--follow', '--timestamps', 'app-web-v1',
    ]);
  });

  it('exec in a running container, interactive with a tty or not', () => {
    assert.deepEqual(execInContainer('docker', 'app-web-v1', ['bin/rails', 'db:migrate']), ['docker', 'exec', 'app-web-v1', 'bin/rails', 'db:migrate']);
    assert.deepEqual(execInContainer('docker', 'app-web-v1', ['sh'], { interactive: true, tty: true }), ['docker', 'exec', '-i', '-t', 'app-web-v1', 'sh']);
  });

  it('runs a one-off container removed on exit', () => {
    assert.deepEqual(runOnce('docker', 'acme/app:v1', ['bin/rails', 'console'], { envFile: '/root/.mrsk/app/env/web.env', network: 'mrsk', interactive: true }), [
      'docker', 'run', '--rm', '-i', '-t', '--network', 'mrsk', '--env-file', '/root/.mrsk/app/env/web.env', 'acme/app:v1', 'bin/rails', 'console',
    ]);
    assert.deepEqual(runOnce('docker', 'acme/app:v1', ['true']), ['docker', 'run', '--rm', 'acme/app:v1', 'true']);
  });

  it('lists containers with sorted filters, repeated filters for arrays, full ids and JSON lines', () => {
    assert.deepEqual(listContainers('docker', { status: 'running', label: ['mrsk.service=app', 'mrsk.role=web'] }, { all: true }), [
      'docker', 'ps', '-a', '--no-trunc',
      '--filter', 'label=mrsk.service=app', '--filter', 'label=mrsk.role=web', '--filter', 'status=running',
      '--format', PS_ENTRY_FORMAT,
    ]);
    assert.deepEqual(listContainers('docker', { name: '^traefik$' }, { format: '{{.Image}}' }), ['docker', 'ps', '--no-trunc', '--filter', 'name=^traefik$', '--format', '{{.Image}}']);
    assert.deepEqual(listContainerIds('docker', { label: 'mrsk.service=app' }, { all: true }), ['docker', 'ps', '-a', '--no-trunc', '--filter', 'label=mrsk.service=app', '-q']);
  });
});
