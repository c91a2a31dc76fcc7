// deriveDesired(config, version): what each host must run, and the spec hash that identifies it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchSize, deriveDesired } from '../../../src/desired/desired.ts';
import { expandDockerOptions, expandTraefikArgs } from '../../../src/desired/options.ts';
import { canonicalJson } from '../../../src/desired/canonical.ts';
import { DATABASE_URL_VALUE, makeConfig, makeEnv, makeRole } from '../helpers/config.ts';

const H1 = 'h1.example.com';
const H2 = 'h2.example.com';

test('each host gets the mrsk network and one container per role on it, primary role first', () => {
  const config = makeConfig({
    roles: [makeRole('job', { hosts: [H1], cmd: 'bin/jobs' }), makeRole('web', { hosts: [H1, H2] })],
    primaryRole: 'web',
  });
  const state = deriveDesired(config, 'v7');
  assert.deepEqual(Object.keys(state.hosts), [H1, H2]);
  assert.deepEqual(state.hosts[H1]!.containers.map((c) => c.name), ['app-web-v7', 'app-job-v7']);
  assert.deepEqual(state.hosts[H2]!.containers.map((c) => c.name), ['app-web-v7']);
  assert.equal(state.hosts[H1]!.network, 'mrsk');
  assert.equal(state.hosts[H1]!.retainContainers, 5);
  assert.equal(state.primaryRole, 'web');
});

test('a web container spec: name, image, env split, network, cord folder, healthcheck with the cord', () => {
  const web = deriveDesired(makeConfig(), 'v1').hosts[H1]!.containers[0]!;
  assert.equal(web.name, 'app-web-v1');
  assert.equal(web.image, 'registry.example.com/acme/app:v1');
  // Kamal's KAMAL_* variables (and the same as MRSK_*) follow the config's env
  assert.deepEqual(web.env, { RAILS_ENV: 'production', RAILS_LOG_LEVEL: 'info', KAMAL_CONTAINER_NAME: 'app-web-v1', KAMAL_VERSION: 'v1', KAMAL_HOST: H1, MRSK_CONTAINER_NAME: 'app-web-v1', MRSK_VERSION: 'v1', MRSK_HOST: H1 });
  assert.deepEqual(Object.keys(web.secretEnv), ['DATABASE_URL']);
  assert.equal(web.secretEnv.DATABASE_URL!.reveal(), DATABASE_URL_VALUE);
  assert.equal(web.network, 'mrsk');
  assert.equal(web.proxied, true);
  assert.equal(web.traefikService, 'app-web');
  assert.equal(web.cordDir, `.mrsk/app/cords/app-web-v1-${web.specHash.slice(3, 15)}`, 'one cord folder per container instance');
  assert.equal(web.cmd, undefined);
  // max_attempts (3) tries inside one run, the cord tested before each; Docker's retries is 1, so a
  // cut cord fails the next run; the timeout covers 3 tries of 5 s and 2 pauses of 1 s
  const check = '(wget -q -O /dev/null http://127.0.0.1:3000/up || curl -fsS -o /dev/null http://127.0.0.1:3000/up)';
  assert.deepEqual(web.healthcheck, {
    cmd: `i=1; while [ $i -lt 3 ]; do test -f /run/mrsk/cord/ok || exit 1; ${check} >/dev/null 2>&1 && exit 0; sleep 1; i=$((i + 1)); done; test -f /run/mrsk/cord/ok && ${check}`,
    interval: 1,
    timeout: 17,
    retries: 1,
    startPeriod: 30,
  });
});

test('a custom healthcheck cmd replaces the HTTP check but still requires the cord before every try; odd paths are quoted', () => {
  const custom = deriveDesired(makeConfig({ healthcheck: { path: '/up', port: 3000, interval: 2, timeout: 3, maxAttempts: 4, cmd: 'bin/ready' } }), 'v1');
  assert.equal(
    custom.hosts[H1]!.containers[0]!.healthcheck!.cmd,
    'i=1; while [ $i -lt 4 ]; do test -f /run/mrsk/cord/ok || exit 1; (bin/ready) >/dev/null 2>&1 && exit 0; sleep 2; i=$((i + 1)); done; test -f /run/mrsk/cord/ok && (bin/ready)',
  );
  // one attempt: the plain cord-and-check, Docker's timeout the check's own
  const once = deriveDesired(makeConfig({ healthcheck: { path: '/up', port: 3000, interval: 2, timeout: 3, maxAttempts: 1, cmd: 'bin/ready' } }), 'v1');
  assert.deepEqual(once.hosts[H1]!.containers[0]!.healthcheck, { cmd: 'test -f /run/mrsk/cord/ok && (bin/ready)', interval: 2, timeout: 3, retries: 1, startPeriod: 30 });
  const odd = deriveDesired(makeConfig({ healthcheck: { path: "/up?x=1&y='2'", port: 8080, interval: 1, timeout: 5, maxAttempts: 7 } }), 'v1');
  assert.match(odd.hosts[H1]!.containers[0]!.healthcheck!.cmd, /wget -q -O \/dev\/null 'http:\/\/127\.0\.0\.1:8080\/up\?x=1&y='\\''2'\\'''/);
});

test('a non-proxied role has no healthcheck, no cord and no traefik labels; a string cmd is argv words (no shell)', () => {
  const job = deriveDesired(makeConfig(), 'v1').hosts[H1]!.containers[1]!;
  assert.equal(job.role, 'job');
  assert.equal(job.proxied, false);
  assert.equal(job.healthcheck, undefined);
  assert.equal(job.cordDir, undefined);
  assert.deepEqual(job.cmd, ['bin/jobs']);
  assert.deepEqual(Object.keys(job.labels).filter((key) => key.startsWith('traefik.')), []);
  const argv = deriveDesired(makeConfig({ roles: [makeRole('web', { hosts: [H1], cmd: ['bin/rails', 'server', '-b', '0.0.0.0'] })] }), 'v1');
  assert.deepEqual(argv.hosts[H1]!.containers[0]!.cmd, ['bin/rails', 'server', '-b', '0.0.0.0']);
});

test('labels: ownership, traefik router named per role (never per version), retry middleware, role labels merged', () => {
  const config = makeConfig({
    labels: { team: 'payments', 'mrsk.service': 'spoofed' },
    roles: [makeRole('web', { hosts: [H1], labels: { tier: 'front' }, traefik: { enabled: true, labels: { 'traefik.http.routers.app-web.rule': 'Host(`app.example.com`)' } } })],
  });
  const labels = deriveDesired(config, 'v3').hosts[H1]!.containers[0]!.labels;
  assert.equal(labels['mrsk.service'], 'app', 'a config label cannot disown the container');
  assert.equal(labels['mrsk.role'], 'web');
  assert.equal(labels['mrsk.version'], 'v3');
  assert.equal(labels['mrsk.destination'], undefined);
  assert.equal(labels.team, 'payments');
  assert.equal(labels.tier, 'front');
  assert.equal(labels['traefik.enable'], 'true');
  assert.equal(labels['traefik.docker.network'], 'mrsk');
  assert.equal(labels['traefik.http.routers.app-web.rule'], 'Host(`app.example.com`)');
  assert.equal(labels['traefik.http.routers.app-web.entrypoints'], 'web');
  assert.equal(labels['traefik.http.routers.app-web.service'], 'app-web');
  assert.equal(labels['traefik.http.routers.app-web.middlewares'], 'app-web-retry@docker');
  assert.equal(labels['traefik.http.services.app-web.loadbalancer.server.port'], '3000');
  assert.equal(labels['traefik.http.middlewares.app-web-retry.retry.attempts'], '5');
  assert.equal(labels['traefik.http.middlewares.app-web-retry.retry.initialinterval'], '500ms');
  assert.match(labels['mrsk.spec-hash']!, /^v1:[0-9a-f]{64}$/);
});

test('traefik labels are byte-identical across versions and never mention the version', () => {
  const config = makeConfig();
  const traefikOf = (version: string) =>
    Object.entries(deriveDesired(config, version).hosts[H1]!.containers[0]!.labels).filter(([key]) => key.startsWith('traefik.'));
  assert.deepEqual(traefikOf('v1'), traefikOf('2026-11-20-abcdef'));
  assert.ok(!JSON.stringify(traefikOf('abcdef123')).includes('abcdef123'));
});

test('a destination appears in names, the router, the cord folder and the mrsk.destination label', () => {
  const web = deriveDesired(makeConfig({ destination: 'staging' }), 'v1').hosts[H1]!.containers[0]!;
  assert.equal(web.name, 'app-web-staging-v1');
  assert.equal(web.labels['mrsk.destination'], 'staging');
  assert.equal(web.traefikService, 'app-web-staging');
  assert.equal(web.labels['traefik.http.routers.app-web-staging.service'], 'app-web-staging');
  assert.equal(web.cordDir, `.mrsk/app-staging/cords/app-web-staging-v1-${web.specHash.slice(3, 15)}`);
});

test('options maps expand to argv in config order; true is a bare flag, false is dropped', () => {
  assert.deepEqual(expandDockerOptions({ memory: '1g', 'add-host': ['a:10.0.0.1', 'b:10.0.0.2'], init: true, privileged: false, cpus: 2 }), [
    '--memory', '1g', '--add-host', 'a:10.0.0.1', '--add-host', 'b:10.0.0.2', '--init', '--cpus', '2',
  ]);
  const web = deriveDesired(makeConfig({ roles: [makeRole('web', { hosts: [H1], options: { memory: '512m' } })] }), 'v1').hosts[H1]!.containers[0]!;
  assert.deepEqual(web.options, ['--memory', '512m']);
  assert.deepEqual(expandTraefikArgs({ accesslog: true, 'log.level': 'DEBUG', 'metrics.prometheus': false }), [
    '--accesslog', '--log.level=DEBUG', '--metrics.prometheus=false',
  ]);
});

test('traefik spec: docker provider on mrsk, API on loopback, config args merged over the defaults by key', () => {
  const config = makeConfig({ traefik: { image: 'traefik:v3.6', args: { 'log.level': 'DEBUG', accesslog: true }, labels: { owner: 'ops' }, options: { memory: '256m' }, hostPort: 8000, apiPort: 9090 } });
  const traefik = deriveDesired(config, 'v1').hosts[H1]!.traefik!;
  assert.equal(traefik.name, 'traefik');
  assert.equal(traefik.image, 'traefik:v3.6');
  assert.deepEqual(traefik.args, [
    '--providers.docker=true',
    '--providers.docker.exposedByDefault=false',
    '--providers.docker.network=mrsk',
    '--providers.providersThrottleDuration=500ms',
    '--entrypoints.web.address=:80',
    '--entrypoints.websecure.address=:443',
    '--providers.file.directory=/etc/traefik/dynamic',
    '--providers.file.watch=true',
    '--certificatesresolvers.letsencrypt.acme.storage=/etc/traefik/acme/acme.json',
    '--certificatesresolvers.letsencrypt.acme.httpchallenge.entrypoint=web',
    '--entrypoints.traefik.address=:8080',
    '--api.insecure=true',
    '--ping=true',
    '--log.level=DEBUG',
    '--accesslog',
  ]);
  assert.deepEqual(traefik.ports, ['8000:80', '443:443', '127.0.0.1:9090:8080']);
  assert.deepEqual(traefik.volumes, ['/var/run/docker.sock:/var/run/docker.sock', '.mrsk/traefik/acme:/etc/traefik/acme', '.mrsk/traefik/dynamic:/etc/traefik/dynamic:ro']);
  assert.deepEqual(traefik.options, ['--memory', '256m']);
  assert.equal(traefik.labels['mrsk.traefik'], 'true');
  assert.equal(traefik.labels.owner, 'ops');
  assert.equal(traefik.labels['mrsk.spec-hash'], traefik.specHash);
  assert.equal(traefik.apiPort, 9090);
  assert.equal(traefik.network, 'mrsk');
});

test('only hosts that carry a proxied role get traefik', () => {
  const config = makeConfig({ roles: [makeRole('web', { hosts: [H1] }), makeRole('job', { hosts: [H2], cmd: 'bin/jobs' })] });
  const state = deriveDesired(config, 'v1');
  assert.ok(state.hosts[H1]!.traefik);
  assert.equal(state.hosts[H2]!.traefik, undefined);
});

test('batches follow boot.limit as a count or a percentage, hosts in config order', () => {
  const hosts = ['a', 'b', 'c', 'd', 'e'];
  const config = (limit?: number | string) => makeConfig({ roles: [makeRole('web', { hosts })], boot: { ...(limit !== undefined ? { limit } : {}), wait: 15, parallelRoles: false } });
  assert.deepEqual(deriveDesired(config(), 'v1').batches, [hosts]);
  assert.deepEqual(deriveDesired(config(2), 'v1').batches, [['a', 'b'], ['c', 'd'], ['e']]);
  assert.deepEqual(deriveDesired(config('40%'), 'v1').batches, [['a', 'b'], ['c', 'd'], ['e']]);
  assert.deepEqual(deriveDesired(config('10%'), 'v1').batches, [['a'], ['b'], ['c'], ['d'], ['e']]);
  assert.equal(deriveDesired(config(2), 'v1').batchWait, 15);
  assert.equal(batchSize('100%', 3), 3);
  assert.equal(batchSize(0, 3), 1);
});

// Changed on purpose with issue 12 (Kamal's meaning): Kamal's service/role labels, max-size=10m logs, KAMAL_*/MRSK_* env.
// Traefik's changed on purpose with issue 13: entrypoint websecure (:443), the file provider and the letsencrypt resolver.
test('the spec hash is pinned for the default fixture config (a change here changes every deployed container)', () => {
  const state = deriveDesired(makeConfig(), 'v1');
  assert.equal(state.hosts[H1]!.containers[0]!.specHash, 'v1:26bc955e946d6220980aef8ea5df3bc43b134d2d22c8a7353802541d2b4326d7');
  assert.equal(state.hosts[H1]!.containers[1]!.specHash, 'v1:14a0e524fe39bcafaa233e7e7841fe85e2a2801d559210363e23148a9fbf3531');
  assert.equal(state.hosts[H1]!.traefik!.specHash, 'v1:a198cf18de8c222dc059d18300c06af30d2d6cfc2c159957d5fe0e81bd78a631');
});

test('the spec hash is stable, and changes with image, env, secret value, cmd, volumes, labels and options', () => {
  const base = makeConfig();
  const hashOf = (config = base, version = 'v1', role = 0) => deriveDesired(config, version).hosts[H1]!.containers[role]!.specHash;
  assert.equal(hashOf(), hashOf(makeConfig()), 'same config and version, same hash');
  const variants = {
    version: hashOf(base, 'v2'),
    clearEnv: hashOf(makeConfig({ roles: [makeRole('web', { hosts: [H1, H2], env: makeEnv({ RAILS_ENV: 'staging', RAILS_LOG_LEVEL: 'info' }, { DATABASE_URL: DATABASE_URL_VALUE }) }), base.roles[1]!] })),
    secretValue: hashOf(makeConfig({ roles: [makeRole('web', { hosts: [H1, H2], env: makeEnv({ RAILS_ENV: 'production', RAILS_LOG_LEVEL: 'info' }, { DATABASE_URL: 'other' }) }), base.roles[1]!] })),
    volumes: hashOf(makeConfig({ volumes: ['/data:/data'] })),
    labels: hashOf(makeConfig({ labels: { team: 'x' } })),
    options: hashOf(makeConfig({ roles: [makeRole('web', { hosts: [H1, H2], options: { memory: '1g' } }), base.roles[1]!] })),
    healthcheck: hashOf(makeConfig({ healthcheck: { ...base.healthcheck, path: '/health' } })),
  };
  const all = [hashOf(), ...Object.values(variants)];
  assert.equal(new Set(all).size, all.length, `some change did not change the hash: ${canonicalJson(variants)}`);
  const cmd = hashOf(makeConfig({ roles: [base.roles[0]!, makeRole('job', { hosts: [H1], cmd: 'bin/jobs --queue x' })] }), 'v1', 1);
  assert.notEqual(cmd, hashOf(base, 'v1', 1));
});

test('secret values never appear in a spec: not in labels, not in JSON, not in the parts summary', () => {
  const state = deriveDesired(makeConfig(), 'v1');
  const json = JSON.stringify(state);
  assert.ok(!json.includes(DATABASE_URL_VALUE));
  assert.ok(!json.includes('hunter2'));
  assert.ok(json.includes('"DATABASE_URL":"[REDACTED]"'));
  const parts = JSON.parse(state.hosts[H1]!.containers[0]!.labels['mrsk.spec-parts']!) as { secrets: Record<string, string>; env: Record<string, string> };
  assert.match(parts.secrets.DATABASE_URL!, /^[0-9a-f]{16}$/);
  assert.deepEqual(parts.env, { RAILS_ENV: 'production', RAILS_LOG_LEVEL: 'info', KAMAL_CONTAINER_NAME: 'app-web-v1', KAMAL_VERSION: 'v1', KAMAL_HOST: H1, MRSK_CONTAINER_NAME: 'app-web-v1', MRSK_VERSION: 'v1', MRSK_HOST: H1 });
});

test('the secret HMAC is keyed per project: the same secret gives different digests for another destination', () => {
  const digestOf = (destination?: string) =>
    (JSON.parse(deriveDesired(makeConfig(destination ? { destination } : {}), 'v1').hosts[H1]!.containers[0]!.labels['mrsk.spec-parts']!) as { secrets: Record<string, string> }).secrets.DATABASE_URL;
  assert.notEqual(digestOf(), digestOf('staging'));
  assert.equal(digestOf('staging'), digestOf('staging'));
});

test('the traefik spec hash is sha256 over the canonical JSON (sorted keys) of the spec without derived labels', async () => {
  const { createHash } = await import('node:crypto');
  const traefik = deriveDesired(makeConfig(), 'v1').hosts[H1]!.traefik!;
  // Written out by hand in sorted-key order: the documented algorithm, independent of canonicalJson.
  const canonical =
    '{"apiPort":8080,"args":["--providers.docker=true","--providers.docker.exposedByDefault=false","--providers.docker.network=mrsk","--providers.providersThrottleDuration=500ms",' +
    '"--entrypoints.web.address=:80","--entrypoints.websecure.address=:443","--providers.file.directory=/etc/traefik/dynamic","--providers.file.watch=true",' +
    '"--certificatesresolvers.letsencrypt.acme.storage=/etc/traefik/acme/acme.json","--certificatesresolvers.letsencrypt.acme.httpchallenge.entrypoint=web",' +
    '"--entrypoints.traefik.address=:8080","--api.insecure=true","--ping=true","--log.level=INFO"],' +
    '"image":"traefik:v3.6","labels":{"mrsk.traefik":"true"},"name":"traefik","network":"mrsk","options":[],' +
    '"ports":["80:80","443:443","127.0.0.1:8080:8080"],' +
    '"volumes":["/var/run/docker.sock:/var/run/docker.sock",".mrsk/traefik/acme:/etc/traefik/acme",".mrsk/traefik/dynamic:/etc/traefik/dynamic:ro"]}';
  assert.equal(traefik.specHash, `v1:${createHash('sha256').update(canonical).digest('hex')}`);
});
