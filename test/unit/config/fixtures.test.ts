// The example projects in fixtures/configs/ load into the Config their files describe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../../src/config/load.ts';
import type { Config } from '../../../src/config/types.ts';

const fixtures = fileURLToPath(new URL('../../../fixtures/configs/', import.meta.url));
const load = (name: string, env: NodeJS.ProcessEnv = {}, destination?: string) =>
  loadConfig({ file: 'config/deploy.yml', cwd: `${fixtures}${name}`, env, ...(destination ? { destination } : {}) });
const roleSummary = (config: Config) => config.roles.map((role) => `${role.name}: ${role.hosts.join(' ')}${role.traefik.enabled ? ' (traefik)' : ''}`);

test('every valid fixture project is covered by a test below', () => {
  const projects = readdirSync(fixtures).filter((name) => name !== 'invalid').sort();
  assert.ok(projects.length >= 14, `only ${projects.length} fixture projects`);
  assert.deepEqual(projects, [
    'accessories', 'boot-rolling', 'builder-options', 'destinations', 'erb-forms', 'healthcheck', 'interpolation',
    'ipv6-hostnames', 'logging-volumes', 'mrsk-readme-plain', 'mrsk-readme-roles', 'per-role-env', 'primary-role', 'secrets',
    'ssh-proxy', 'traefik',
  ]);
});

test('MRSK README, plain list: every host is in role web behind Traefik, env is clear, registry from ERB ENV forms', async () => {
  const config = await load('mrsk-readme-plain', { REGISTRY_USERNAME: 'hey-user', REGISTRY_PASSWORD: 'hey-pass' });
  assert.equal(config.service, 'hey');
  // Kamal's rule: registry.server + '/' + image
  assert.equal(config.image, 'registry.digitalocean.com/37s/hey');
  assert.deepEqual(roleSummary(config), ['web: 164.90.145.60 164.92.105.119 (traefik)']);
  assert.equal(config.primaryHost, '164.90.145.60');
  assert.deepEqual(config.env.clear, { DATABASE_URL: 'mysql2://db1/hey_production/', REDIS_URL: 'redis://redis1:6379/1' });
  assert.equal(config.registry.server, 'registry.digitalocean.com');
  assert.equal(config.registry.username, 'hey-user');
  assert.equal(config.registry.password?.reveal(), 'hey-pass');
});

test('MRSK README, roles: job runs bin/jobs and is not proxied; web is primary', async () => {
  const config = await load('mrsk-readme-roles', { MRSK_REGISTRY_PASSWORD: 'from-env' });
  assert.deepEqual(roleSummary(config), ['web: 164.90.145.60 164.92.105.119 (traefik)', 'job: 164.90.145.61 164.92.105.120']);
  assert.deepEqual(config.roles[1]!.cmd, ['bin/jobs'], 'a string cmd is argv words');
  assert.equal(config.roles[0]!.cmd, undefined);
  assert.deepEqual(config.hosts, ['164.90.145.60', '164.92.105.119', '164.90.145.61', '164.92.105.120']);
  assert.equal(config.registry.password?.name, 'MRSK_REGISTRY_PASSWORD');
  assert.equal(config.registry.password?.reveal(), 'from-env');
  assert.deepEqual(config.roles[1]!.env.clear, { DATABASE_URL: 'mysql2://db1/hey_production/' });
});

test('destinations: no destination, staging and production each merge their file', async () => {
  const base = await load('destinations');
  assert.deepEqual(roleSummary(base), ['web: app1.internal.example.com (traefik)']);
  assert.equal(base.destination, undefined);
  assert.equal(base.env.secret.DATABASE_URL?.reveal(), 'postgres://shop:common@db.internal.example.com/shop');

  const staging = await load('destinations', {}, 'staging');
  assert.equal(staging.destination, 'staging');
  assert.deepEqual(roleSummary(staging), ['web: staging1.internal.example.com (traefik)']);
  // maps merge: RAILS_ENV kept from deploy.yml, LOG_LEVEL replaced by deploy.staging.yml
  assert.deepEqual(staging.env.clear, { RAILS_ENV: 'production', LOG_LEVEL: 'debug' });
  assert.equal(staging.env.secret.DATABASE_URL?.reveal(), 'postgres://shop:staging@db-staging.internal.example.com/shop');
  assert.equal(staging.registry.password?.reveal(), 'registry-token-common');
  assert.equal(staging.healthcheck.path, '/healthz');

  const production = await load('destinations', {}, 'production');
  assert.deepEqual(roleSummary(production), [
    'web: app1.internal.example.com app2.internal.example.com app3.internal.example.com (traefik)',
    'worker: worker1.internal.example.com',
  ]);
  assert.deepEqual(production.boot, { limit: 2, wait: 10, parallelRoles: false });
  assert.deepEqual(production.roles[1]!.cmd, ['bundle', 'exec', 'sidekiq']);
});

test('per-role env: role values merge over the top-level env, secrets included', async () => {
  const config = await load('per-role-env');
  const [web, worker, cron] = config.roles;
  assert.deepEqual(web!.env.clear, { LOG_LEVEL: 'info', PORT: '3000', WEB_CONCURRENCY: '4' });
  assert.deepEqual(Object.keys(web!.env.secret), ['DATABASE_URL']);
  assert.deepEqual(worker!.env.clear, { LOG_LEVEL: 'warn', PORT: '3000', QUEUES: 'default,mailers' });
  assert.deepEqual(Object.keys(worker!.env.secret).sort(), ['DATABASE_URL', 'WORKER_API_KEY']);
  assert.equal(worker!.env.secret.WORKER_API_KEY?.reveal(), 'wk_live_0123456789');
  assert.equal(worker!.env.secret.DATABASE_URL?.reveal(), 'postgres://chat:s3cret@db/chat');
  assert.deepEqual(worker!.cmd, ['bin/worker', '--queues', 'default,mailers']);
  assert.deepEqual(cron!.env.clear, { LOG_LEVEL: 'info', PORT: '3000', CRON_TZ: 'UTC' });
  // a host in two roles is listed once
  assert.deepEqual(config.hosts, ['10.0.0.11', '10.0.0.12', '10.0.0.21']);
});

test('secrets: registry, env and builder secrets come from .mrsk/secrets; the file wins over the environment (Kamal)', async () => {
  const config = await load('secrets', { STRIPE_API_KEY: 'sk_from_env' });
  assert.equal(config.registry.password?.reveal(), 'ghp_from_file');
  assert.equal(config.env.secret.SECRET_KEY_BASE?.reveal(), 'line one\nline two');
  assert.equal(config.env.secret.STRIPE_API_KEY?.reveal(), 'sk_test_123');
  assert.equal(config.builder.secrets.NPM_TOKEN?.reveal(), 'npm_$literal');
  assert.deepEqual(config.secrets.map((secret) => secret.name).sort(), ['GHCR_TOKEN', 'NPM_TOKEN', 'SECRET_KEY_BASE', 'STRIPE_API_KEY']);
});

test('ssh-proxy: user, port, bastion, keys, strict checking and durations', async () => {
  const { ssh } = await load('ssh-proxy');
  assert.deepEqual(ssh, {
    user: 'deploy',
    port: 2222,
    proxy: 'jump@bastion.example.com:22',
    keys: ['~/.ssh/deploy_ed25519'],
    keyData: [],
    strictHostKeyChecking: 'true',
    maxConcurrent: 4,
    connectTimeout: 15,
    commandTimeout: 600,
    keepaliveInterval: 15,
  });
});

test('builder-options: multiarch build settings; the registry password from ${VAR} is a Secret', async () => {
  const config = await load('builder-options', { REGISTRY_PASSWORD: 'pw-from-env' });
  assert.deepEqual(config.builder, {
    multiarch: true,
    arch: ['amd64', 'arm64'],
    context: './services/api',
    dockerfile: 'services/api/Dockerfile.production',
    args: { NODE_VERSION: '20', BUILD_NUMBER: '42' },
    secrets: {},
    remote: 'ssh://builder@build.example.com',
    cache: { type: 'registry', options: 'mode=max,image=registry.example.com/acme/api-cache' },
  });
  assert.equal(String(config.registry.password), '[REDACTED]');
  assert.equal(config.registry.password?.reveal(), 'pw-from-env');
});

test('erb-forms: ENV["X"], ENV[\'X\'], ENV.fetch("X") and ENV.fetch("X", "default")', async () => {
  const config = await load('erb-forms', { DOCKER_USER: 'acme', BLOG_HOST: 'blog.example.com', SMTP_HOST: 'smtp.example.com' });
  assert.equal(config.image, 'acme/blog');
  assert.deepEqual(config.hosts, ['blog.example.com']);
  assert.deepEqual(config.env.clear, { SMTP_HOST: 'smtp.example.com', SMTP_PORT: '587', MIXED: 'acme and blog.example.com' });
});

test('traefik: args, labels, options and ports; admin opts in, job stays out', async () => {
  const config = await load('traefik');
  assert.deepEqual(roleSummary(config), ['web: 192.0.2.10 192.0.2.11 (traefik)', 'admin: 192.0.2.12 (traefik)', 'job: 192.0.2.12']);
  assert.deepEqual(config.roles[0]!.traefik.labels, { 'traefik.http.routers.portal-web.rule': 'Host(`portal.example.com`)' });
  assert.deepEqual(config.traefik, {
    image: 'traefik:v3.6.2',
    args: { accesslog: true, 'accesslog.format': 'json', 'log.level': 'DEBUG' },
    labels: { 'com.example.team': 'platform' },
    options: { memory: '256m', publish: ['443:443'] },
    hostPort: 8000,
    apiPort: 9090,
    publish: true,
  });
});

test('boot-rolling: percentage batches, durations in seconds, roles started at once', async () => {
  const config = await load('boot-rolling');
  assert.equal(config.hosts.length, 8);
  assert.deepEqual(config.boot, { limit: '25%', wait: 120, parallelRoles: true });
  assert.equal(config.readinessDelay, 3);
  assert.equal(config.deployTimeout, 90);
  assert.equal(config.drainTimeout, 45);
});

test('accessories: placement by host and by roles, ports as strings, secrets resolved', async () => {
  const config = await load('accessories');
  const [mysql, redis] = config.accessories;
  assert.equal(mysql!.name, 'mysql');
  assert.deepEqual(mysql!.hosts, ['198.51.100.9']);
  assert.equal(mysql!.port, '3306');
  assert.deepEqual(mysql!.env.clear, { MYSQL_ROOT_HOST: '%' });
  assert.equal(mysql!.env.secret.MYSQL_ROOT_PASSWORD?.reveal(), 'forum-root-pw');
  assert.deepEqual(mysql!.volumes, ['/var/lib/mysql:/var/lib/mysql']);
  assert.deepEqual(redis!.hosts, ['198.51.100.1', '198.51.100.2', '198.51.100.3']);
  assert.equal(redis!.port, '127.0.0.1:6379:6379');
  assert.equal(redis!.cmd, 'redis-server --appendonly yes');
  assert.deepEqual(redis!.options, { memory: '512m' });
  assert.ok(config.secrets.some((secret) => secret.name === 'MYSQL_ROOT_PASSWORD'));
});

test('healthcheck: every setting, durations converted', async () => {
  const { healthcheck } = await load('healthcheck');
  assert.deepEqual(healthcheck, { path: '/status/ready', port: 4000, interval: 2, timeout: 10, maxAttempts: 30, cmd: 'curl -fsS http://localhost:4000/status/ready' });
});

test('logging-volumes: logging, volumes, labels merged per role, docker options with lists', async () => {
  const config = await load('logging-volumes');
  assert.deepEqual(config.logging, { driver: 'json-file', options: { 'max-size': '10m', 'max-file': '5' } });
  assert.deepEqual(config.volumes, ['/srv/media/uploads:/app/uploads', '/srv/media/tmp:/app/tmp:rw']);
  assert.deepEqual(config.roles[0]!.labels, { 'com.example.owner': 'media-team', 'com.example.tier': 'frontend' });
  assert.deepEqual(config.roles[0]!.options, { memory: '1g', cpus: 2, 'add-host': ['db.local:10.0.0.5', 'cache.local:10.0.0.6'] });
});

test('interpolation: defaults, required values, $$, typed plain values and x- anchors', async () => {
  const config = await load('interpolation', { APP_PORT: '4567', REGION: 'eu-west-1' });
  assert.equal(config.service, 'notes');
  assert.deepEqual(config.hosts, ['app.example.com']);
  assert.equal(config.healthcheck.port, 4567);
  assert.deepEqual(config.env.clear, { GREETING: 'costs $5', REGION: 'eu-west-1', EMPTY_DEFAULT: '', QUOTED_PORT: '4567' });
  const other = await load('interpolation', { APP_PORT: '80', REGION: 'us', APP_HOST: '10.1.1.1', SERVICE_NAME: 'notes-b' });
  assert.equal(other.service, 'notes-b');
  assert.deepEqual(other.hosts, ['10.1.1.1']);
});

test('primary-role: the primary role comes first and gives the primary host; aliases and minimum_version kept', async () => {
  const config = await load('primary-role');
  assert.equal(config.primaryRole, 'api');
  assert.equal(config.primaryHost, '172.16.0.10');
  assert.deepEqual(roleSummary(config), ['api: 172.16.0.10 172.16.0.11 (traefik)', 'worker: 172.16.0.20']);
  assert.equal(config.retainContainers, 3);
  assert.equal(config.minimumVersion, '0.1');
  assert.deepEqual(config.aliases, { console: 'app exec -i --reuse "bin/console"', logs: 'app logs -f' });
});

test('ipv6-hostnames: IPv6 addresses and names are hosts', async () => {
  const config = await load('ipv6-hostnames');
  assert.deepEqual(config.hosts, ['2001:db8::10', 'edge-1.example.com', 'localhost']);
  assert.equal(config.ssh.strictHostKeyChecking, 'accept-new');
});
