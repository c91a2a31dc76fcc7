// loadConfig end to end on temporary projects: file problems, destinations, secrets precedence,
// defaults and immutability.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, UsageError } from '../../../src/errors.ts';
import { destinationFile, loadConfig } from '../../../src/config/load.ts';

async function project(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'mrsk-load-'));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), text);
  }
  return root;
}

const minimal = 'service: app\nimage: acme/app\nservers:\n  - 10.0.0.1\n';

async function configError(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    assert.equal(error.exitCode, 78);
    return error.message;
  }
  assert.fail('expected the config to be rejected');
}

test('destinationFile puts the destination before the extension', () => {
  assert.equal(destinationFile('config/deploy.yml', 'staging'), join('config', 'deploy.staging.yml'));
  assert.equal(destinationFile('deploy.yaml', 'prod'), 'deploy.prod.yaml');
});

test('a missing file, a directory and an oversized file are clear errors, not crashes', async (t) => {
  const root = await project({ 'config/keep': '' });
  t.after(() => rm(root, { recursive: true, force: true }));
  assert.equal(await configError(loadConfig({ file: 'config/deploy.yml', cwd: root, env: {} })), 'config/deploy.yml: file not found (run "mrsk init" to create one, or pass -c <file>)');
  assert.equal(await configError(loadConfig({ file: 'config', cwd: root, env: {} })), 'config: is a directory, not a config file');
  // 50 MB, sparse: refused from its size before anything is read or parsed.
  await writeFile(join(root, 'huge.yml'), '');
  await truncate(join(root, 'huge.yml'), 50 * 1024 * 1024);
  const started = performance.now();
  assert.equal(await configError(loadConfig({ file: 'huge.yml', cwd: root, env: {} })), 'huge.yml: file is too large (52428800 bytes; a config file may have at most 1048576 bytes)');
  assert.ok(performance.now() - started < 1000);
});

test('an absolute config path inside the project is shown relative to it', async (t) => {
  const root = await project({ 'config/deploy.yml': `${minimal}bogus: 1\n` });
  t.after(() => rm(root, { recursive: true, force: true }));
  const message = await configError(loadConfig({ file: join(root, 'config/deploy.yml'), cwd: root, env: {} }));
  assert.match(message, /^config\/deploy\.yml:5:1 bogus: unknown key, allowed keys: service, image, servers, env, registry, builder, .*, minimum_version(, [a-z_]+)*$/);
});

test('a destination merges over the main file and its mistakes name the destination file', async (t) => {
  const root = await project({
    'config/deploy.yml': `${minimal}healthcheck:\n  port: 4000\n`,
    'config/deploy.staging.yml': 'healthcheck:\n  path: up\n  intervall: 2\nservers:\n  - 10.0.0.9\n  - 7\n',
  });
  t.after(() => rm(root, { recursive: true, force: true }));
  const message = await configError(loadConfig({ file: 'config/deploy.yml', cwd: root, destination: 'staging', env: {} }));
  assert.equal(
    message,
    [
      `${join('config', 'deploy.staging.yml')}:2:9 healthcheck.path: must start with "/"`,
      `${join('config', 'deploy.staging.yml')}:3:3 healthcheck.intervall: unknown key, did you mean "interval"?`,
      `${join('config', 'deploy.staging.yml')}:6:5 servers[1]: must be a host, or host: tag, or host: [tags]`,
    ].join('\n'),
  );
});

test('mistakes in the main file still point at the main file when a destination is merged', async (t) => {
  const root = await project({
    'config/deploy.yml': `${minimal}retain_containers: zero\n`,
    'config/deploy.prod.yml': 'servers:\n  - 10.0.0.2\n',
  });
  t.after(() => rm(root, { recursive: true, force: true }));
  assert.equal(
    await configError(loadConfig({ file: 'config/deploy.yml', cwd: root, destination: 'prod', env: {} })),
    'config/deploy.yml:5:20 retain_containers: must be a whole number',
  );
});

test('a missing destination file is a config error; a malformed destination name a usage error', async (t) => {
  const root = await project({ 'config/deploy.yml': minimal });
  t.after(() => rm(root, { recursive: true, force: true }));
  assert.equal(
    await configError(loadConfig({ file: 'config/deploy.yml', cwd: root, destination: 'qa', env: {} })),
    `${join('config', 'deploy.qa.yml')}: destination file not found (create it to use -d qa)`,
  );
  await assert.rejects(loadConfig({ file: 'config/deploy.yml', cwd: root, destination: '../etc', env: {} }), (error: unknown) => {
    assert.ok(error instanceof UsageError);
    assert.equal(error.message, `invalid destination "../etc": use lower-case letters, digits, '_', '.' or '-'`);
    return true;
  });
});

test('secrets (Kamal\'s precedence): .mrsk/secrets.<destination> beats .mrsk/secrets, which beats the environment', async (t) => {
  const root = await project({
    'config/deploy.yml': `${minimal}env:\n  secret: [A, B, C]\n`,
    'config/deploy.staging.yml': 'labels:\n  stage: staging\n',
    '.mrsk/secrets': 'A=common-a\nB=common-b\nC=common-c\n',
    '.mrsk/secrets.staging': 'B=staging-b\nC=staging-c\n',
  });
  t.after(() => rm(root, { recursive: true, force: true }));
  const config = await loadConfig({ file: 'config/deploy.yml', cwd: root, destination: 'staging', env: { C: 'env-c' } });
  const values = Object.fromEntries(Object.entries(config.env.secret).map(([name, secret]) => [name, secret.reveal()]));
  assert.deepEqual(values, { A: 'common-a', B: 'staging-b', C: 'staging-c' });
  const noDestination = await loadConfig({ file: 'config/deploy.yml', cwd: root, env: {} });
  assert.equal(noDestination.env.secret.B?.reveal(), 'common-b');
});

test('a missing secret names itself and every place looked; a bad secrets line is reported by line', async (t) => {
  const root = await project({
    'config/deploy.yml': `${minimal}env:\n  secret: [DB_PASSWORD]\n`,
    'config/deploy.staging.yml': 'labels: {}\n',
    '.mrsk/secrets': '# ok\nthis is not an assignment\n',
  });
  t.after(() => rm(root, { recursive: true, force: true }));
  assert.equal(
    await configError(loadConfig({ file: 'config/deploy.yml', cwd: root, destination: 'staging', env: {} })),
    [
      'config/deploy.yml:6:12 env.secret[0]: secret DB_PASSWORD is not set; looked in .mrsk/secrets.staging (not found), .mrsk/secrets, the environment',
      '.mrsk/secrets:2:1: expected NAME=value',
    ].join('\n'),
  );
});

test('the Config is deeply frozen and has every default filled in', async (t) => {
  const root = await project({ 'config/deploy.yml': minimal });
  t.after(() => rm(root, { recursive: true, force: true }));
  const config = await loadConfig({ file: 'config/deploy.yml', cwd: root, env: {} });
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.roles) && Object.isFrozen(config.roles[0]!.hosts) && Object.isFrozen(config.ssh));
  assert.throws(() => {
    (config.roles[0]!.hosts as string[]).push('x');
  }, TypeError);
  assert.equal(config.root, root);
  assert.equal(config.primaryRole, 'web');
  assert.deepEqual(config.healthcheck, { path: '/up', port: 3000, interval: 1, timeout: 5, maxAttempts: 3 });
  assert.deepEqual(config.traefik, { image: 'traefik:v3.6', args: {}, labels: {}, options: {}, hostPort: 80, apiPort: 8080, publish: true });
  assert.deepEqual(config.ssh, { user: 'root', port: 22, keys: [], keyData: [], strictHostKeyChecking: 'accept-new', maxConcurrent: 30, connectTimeout: 10, commandTimeout: 300, keepaliveInterval: 15 });
  assert.equal(config.retainContainers, 5);
  assert.equal(config.readinessDelay, 7);
  assert.equal(config.deployTimeout, 30);
  assert.equal(config.drainTimeout, 30);
  assert.deepEqual(config.boot, { wait: 0, parallelRoles: false });
  assert.deepEqual(config.registry, {});
  assert.deepEqual(config.secrets, []);
});

test('interpolation problems are not reported a second time by the schema', async (t) => {
  const root = await project({ 'config/deploy.yml': `${minimal}healthcheck:\n  port: \${PORT}\n` });
  t.after(() => rm(root, { recursive: true, force: true }));
  assert.equal(
    await configError(loadConfig({ file: 'config/deploy.yml', cwd: root, env: {} })),
    'config/deploy.yml:6:9 healthcheck.port: environment variable PORT is not set (set it, or give a default: ${PORT:-default})',
  );
  const config = await loadConfig({ file: 'config/deploy.yml', cwd: root, env: { PORT: '8080' } });
  assert.equal(config.healthcheck.port, 8080);
});

test('without env, process.env is used', async (t) => {
  const root = await project({ 'config/deploy.yml': 'service: app\nimage: acme/app\nservers:\n  - ${MRSK_TEST_HOST_FOR_LOAD}\n' });
  t.after(() => rm(root, { recursive: true, force: true }));
  process.env.MRSK_TEST_HOST_FOR_LOAD = '10.9.8.7';
  t.after(() => delete process.env.MRSK_TEST_HOST_FOR_LOAD);
  const config = await loadConfig({ file: 'config/deploy.yml', cwd: root });
  assert.deepEqual(config.hosts, ['10.9.8.7']);
});
