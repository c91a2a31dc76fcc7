// Each deploy.yml key means what Kamal's documentation says it means. One test per semantic, each
// stating the Kamal expectation it checks.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ConfigError } from '../../../src/errors.ts';
import { loadConfig, type LoadConfigOptions } from '../../../src/config/load.ts';
import { evaluateDotenv, loadSecretSources, type CommandRunner } from '../../../src/config/secrets.ts';
import { splitShellWords } from '../../../src/config/shell-words.ts';
import { deriveDesired } from '../../../src/desired/desired.ts';
import { diff } from '../../../src/plan/diff.ts';
import { scenarios } from '../helpers/scenarios.ts';

async function project(t: TestContext, files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'mrsk-kamal-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  for (const [file, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, file)), { recursive: true });
    await writeFile(join(root, file), text);
  }
  return root;
}

async function load(t: TestContext, deployYml: string, extra: Record<string, string> = {}, options: Partial<LoadConfigOptions> = {}) {
  const root = await project(t, { 'config/deploy.yml': deployYml, ...extra });
  return loadConfig({ file: 'config/deploy.yml', cwd: root, env: {}, ...options });
}

async function refusal(t: TestContext, deployYml: string, extra: Record<string, string> = {}, options: Partial<LoadConfigOptions> = {}): Promise<string> {
  try {
    await load(t, deployYml, extra, options);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    assert.equal(error.exitCode, 78);
    return error.message;
  }
  assert.fail('the config loaded');
}

const BASE = 'service: app\nservers: [10.0.0.1]\n';

test('image: Kamal prefixes registry.server to image; an already prefixed image (older mrsk files) is not prefixed twice', async (t) => {
  const prefixed = await load(t, `${BASE}image: acme/app\nregistry:\n  server: ghcr.io\n  username: me\n  password: x\n`);
  assert.equal(prefixed.image, 'ghcr.io/acme/app');
  assert.match(prefixed.imageRule!, /registry\.server "ghcr\.io" \+ "\/" \+ image "acme\/app" \(Kamal's rule\)/);
  const asWritten = await load(t, `${BASE}image: ghcr.io/acme/app\nregistry:\n  server: ghcr.io\n`);
  assert.equal(asWritten.image, 'ghcr.io/acme/app');
  assert.match(asWritten.imageRule!, /already starts with registry\.server "ghcr\.io\/"/);
  const hub = await load(t, `${BASE}image: acme/app\n`);
  assert.equal(hub.image, 'acme/app');
  assert.match(hub.imageRule!, /no registry\.server/);
});

test('image: with a local registry it is prefixed too, and may be left out (it is the service name)', async (t) => {
  const local = await load(t, `${BASE}image: app\nregistry:\n  server: localhost:5555\n`);
  assert.equal(local.image, 'localhost:5555/app');
  const omitted = await load(t, 'service: MyApp\nservers: [10.0.0.1]\nregistry:\n  server: localhost:5555\n');
  assert.equal(omitted.image, 'localhost:5555/myapp');
  assert.match(await refusal(t, BASE), /config\/deploy\.yml:1:1: missing required key "image" \(it may be left out only with a local registry/);
});

test('image: the one resolved reference is what containers run and what the plan pulls', async (t) => {
  const config = await load(t, `${BASE}image: acme/app\nregistry:\n  server: registry.example.com\n`);
  const state = deriveDesired(config, 'v1');
  assert.equal(state.hosts['10.0.0.1']!.containers[0]!.image, 'registry.example.com/acme/app:v1');
});

test('cmd: a string is split into words as a POSIX shell would (quotes, backslashes), a leading exec dropped', () => {
  assert.deepEqual(splitShellWords('bin/jobs --queue "high priority" \'a b\' c\\ d'), { ok: true, words: ['bin/jobs', '--queue', 'high priority', 'a b', 'c d'] });
  assert.deepEqual(splitShellWords('exec bundle exec sidekiq -C config/sidekiq.yml'), { ok: true, words: ['bundle', 'exec', 'sidekiq', '-C', 'config/sidekiq.yml'] });
  assert.deepEqual(splitShellWords('./bin/thrust ./bin/rails server'), { ok: true, words: ['./bin/thrust', './bin/rails', 'server'] });
  assert.deepEqual(splitShellWords('echo "a \\"quoted\\" word" x=1'), { ok: true, words: ['echo', 'a "quoted" word', 'x=1'] });
});

test('cmd: anything a shell would do rather than split is refused, with the reason', () => {
  const reasons: Record<string, RegExp> = {
    'a; b': /separator/,
    'a && b': /"&&"/,
    'a || b': /"\|\|"/,
    'a | b': /pipe/,
    'a &': /background/,
    'a > log': /redirection/,
    'a < in': /redirection/,
    'echo $HOME': /"\$" expansion/,
    'echo $(date)': /command substitution/,
    'echo `date`': /backticks/,
    'echo "$HOME"': /inside double quotes/,
    "trap 'exit 0' TERM": /builtin "trap"/,
    'cd /app': /builtin "cd"/,
    'RAILS_ENV=production bin/rails s': /variable assignment/,
    '~/bin/app': /home expansion/,
    'echo "open': /unterminated double quote/,
  };
  for (const [cmd, reason] of Object.entries(reasons)) {
    const result = splitShellWords(cmd);
    assert.equal(result.ok, false, cmd);
    if (!result.ok) assert.match(result.reason, reason, cmd);
  }
});

test('cmd: a string needing a shell is refused at load with file:line:col and the exact list form to write', async (t) => {
  const message = await refusal(t, `service: app\nimage: acme/app\nprimary_role: job\nservers:\n  job:\n    hosts: [10.0.0.1]\n    cmd: bin/jobs && echo done\n`);
  assert.equal(
    message,
    'config/deploy.yml:7:10 servers.job.cmd: this cmd needs a shell (a background or "&&" operator): a string cmd runs as argv words without a shell, so the app is PID 1 and gets SIGTERM; to keep the shell, write: cmd: ["sh", "-c", "bin/jobs && echo done"]',
  );
  const lists = await load(t, `service: app\nimage: acme/app\nprimary_role: job\nservers:\n  job:\n    hosts: [10.0.0.1]\n    cmd: ["sh", "-c", "bin/jobs && echo done"]\n`);
  assert.deepEqual(deriveDesired(lists, 'v1').hosts['10.0.0.1']!.containers[0]!.cmd, ['sh', '-c', 'bin/jobs && echo done'], 'a list passes through unchanged');
});

test('routing role: the primary role gets Traefik and the health-gated cutover by default, not a role named web', async (t) => {
  const config = await load(t, 'service: app\nimage: acme/app\nprimary_role: api\nservers:\n  web: [10.0.0.1]\n  api: [10.0.0.2]\n');
  assert.deepEqual(config.roles.map((role) => [role.name, role.traefik.enabled]), [['api', true], ['web', false]]);
  const override = await load(t, 'service: app\nimage: acme/app\nprimary_role: api\nservers:\n  web:\n    hosts: [10.0.0.1]\n    traefik: true\n  api:\n    hosts: [10.0.0.2]\n    traefik: false\n');
  assert.deepEqual(override.roles.map((role) => [role.name, role.traefik.enabled]), [['api', false], ['web', true]]);
});

test('labels: user labels override the generated Traefik labels key by key; Kamal\'s service/role/destination labels are set; mrsk.* cannot be overridden', async (t) => {
  const config = await load(
    t,
    'service: app\nimage: acme/app\nservers:\n  web:\n    hosts: [10.0.0.1]\n    labels:\n      traefik.http.routers.app-web.rule: Host(`app.example.com`)\nlabels:\n  team: payments\n  mrsk.service: other\n',
    { 'config/deploy.staging.yml': 'labels:\n  stage: yes\n' },
    { destination: 'staging' },
  );
  const labels = deriveDesired(config, 'v1').hosts['10.0.0.1']!.containers[0]!.labels;
  assert.equal(labels['traefik.http.routers.app-web-staging.rule'], 'PathPrefix(`/`)', 'the generated rule of the staging router stays');
  assert.equal(labels['traefik.http.routers.app-web.rule'], 'Host(`app.example.com`)');
  assert.equal(labels.service, 'app');
  assert.equal(labels.role, 'web');
  assert.equal(labels.destination, 'staging');
  assert.equal(labels.team, 'payments');
  assert.equal(labels['mrsk.service'], 'app');
  const plain = await load(t, 'service: app\nimage: acme/app\nservers: [10.0.0.1]\nlabels:\n  traefik.http.routers.app-web.rule: Host(`a.example.com`)\n');
  assert.equal(deriveDesired(plain, 'v1').hosts['10.0.0.1']!.containers[0]!.labels['traefik.http.routers.app-web.rule'], 'Host(`a.example.com`)', 'a top-level label wins too');
});

test('logging: without logging every container gets max-size=10m; role logging merges over the top level', async (t) => {
  const none = await load(t, `${BASE}image: acme/app\n`);
  assert.deepEqual(deriveDesired(none, 'v1').hosts['10.0.0.1']!.containers[0]!.logging, { options: { 'max-size': '10m' } });
  const merged = await load(
    t,
    'service: app\nimage: acme/app\nlogging:\n  driver: json-file\n  options:\n    max-size: 100m\n    max-file: "3"\nservers:\n  web: [10.0.0.1]\n  job:\n    hosts: [10.0.0.1]\n    cmd: bin/jobs\n    logging:\n      options:\n        max-size: 5m\n',
  );
  const [web, job] = deriveDesired(merged, 'v1').hosts['10.0.0.1']!.containers;
  assert.deepEqual(web!.logging, { driver: 'json-file', options: { 'max-size': '100m', 'max-file': '3' } });
  assert.deepEqual(job!.logging, { driver: 'json-file', options: { 'max-size': '5m', 'max-file': '3' } });
  const driverOnly = await load(t, `${BASE}image: acme/app\nlogging:\n  driver: journald\n`);
  assert.deepEqual(deriveDesired(driverOnly, 'v1').hosts['10.0.0.1']!.containers[0]!.logging, { driver: 'journald', options: {} }, 'a given logging is used as written');
});

test('env: KAMAL_CONTAINER_NAME, KAMAL_VERSION, KAMAL_HOST, KAMAL_DESTINATION and the same as MRSK_*; the spec is per host and stable', async (t) => {
  const config = await load(t, 'service: app\nimage: acme/app\nservers: [10.0.0.1, 10.0.0.2]\nenv:\n  KAMAL_HOST: mine\n', { 'config/deploy.production.yml': '{}\n' }, { destination: 'production' });
  const state = deriveDesired(config, 'v9');
  const one = state.hosts['10.0.0.1']!.containers[0]!;
  const two = state.hosts['10.0.0.2']!.containers[0]!;
  assert.deepEqual(one.env, {
    KAMAL_CONTAINER_NAME: 'app-web-production-v9', KAMAL_VERSION: 'v9', KAMAL_HOST: '10.0.0.1', KAMAL_DESTINATION: 'production',
    MRSK_CONTAINER_NAME: 'app-web-production-v9', MRSK_VERSION: 'v9', MRSK_HOST: '10.0.0.1', MRSK_DESTINATION: 'production',
  });
  assert.equal(two.env.KAMAL_HOST, '10.0.0.2');
  assert.notEqual(one.specHash, two.specHash, 'each host has its own spec');
  assert.equal(deriveDesired(config, 'v9').hosts['10.0.0.1']!.containers[0]!.specHash, one.specHash, 'same config, same hash');
  const again = await load(t, 'service: app\nimage: acme/app\nservers: [10.0.0.1, 10.0.0.2]\nenv:\n  KAMAL_HOST: mine\n', { 'config/deploy.production.yml': '{}\n' }, { destination: 'production' });
  assert.equal(deriveDesired(again, 'v9').hosts['10.0.0.1']!.containers[0]!.specHash, one.specHash, 'same file loaded again, same hash');
});

test('hosts: tagged hosts (one tag or a list) select env.tags, merged over the role env in the host\'s tag order', async (t) => {
  const config = await load(
    t,
    'service: app\nimage: acme/app\nservers:\n  web:\n    - 10.0.0.1: experiments\n    - 10.0.0.2: [experiments, eu]\n    - 10.0.0.3\nenv:\n  clear:\n    MODE: normal\n    REGION: us\n  tags:\n    experiments:\n      MODE: experimental\n    eu:\n      clear:\n        REGION: eu\n',
  );
  assert.deepEqual(config.hosts, ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
  const envOn = (host: string) => {
    const { MODE, REGION } = deriveDesired(config, 'v1').hosts[host]!.containers[0]!.env;
    return { MODE, REGION };
  };
  assert.deepEqual(envOn('10.0.0.1'), { MODE: 'experimental', REGION: 'us' });
  assert.deepEqual(envOn('10.0.0.2'), { MODE: 'experimental', REGION: 'eu' });
  assert.deepEqual(envOn('10.0.0.3'), { MODE: 'normal', REGION: 'us' });
});

test('hosts: allow_empty_roles keeps an empty role (it runs nowhere); without it an empty role is an error', async (t) => {
  const yml = 'service: app\nimage: acme/app\nservers:\n  web: [10.0.0.1]\n  job:\n    hosts: []\n    cmd: bin/jobs\n';
  assert.match(await refusal(t, yml), /servers\.job\.hosts: role job has no hosts \(set allow_empty_roles: true/);
  const allowed = await load(t, `${yml}allow_empty_roles: true\n`);
  assert.deepEqual(allowed.roles.map((role) => role.name), ['web']);
});

test('require_destination: refused without -d (exit 78), loads with one', async (t) => {
  const yml = `${BASE}image: acme/app\nrequire_destination: true\n`;
  assert.equal(await refusal(t, yml), 'config/deploy.yml:4:22 require_destination: this config requires a destination: run with -d <destination> (config/deploy.<destination>.yml)');
  const staged = await load(t, yml, { 'config/deploy.staging.yml': 'servers: [10.0.0.9]\n' }, { destination: 'staging' });
  assert.deepEqual(staged.hosts, ['10.0.0.9']);
});

test('ports may be strings ("2222"), as Kamal files write them', async (t) => {
  const config = await load(t, `${BASE}image: acme/app\nssh:\n  port: "2222"\nhealthcheck:\n  port: "8080"\ntraefik:\n  host_port: "8000"\n`);
  assert.equal(config.ssh.port, 2222);
  assert.equal(config.healthcheck.port, 8080);
  assert.equal(config.traefik.hostPort, 8000);
});

test('stop_timeout / stop_wait_time (top level and role) are the stop grace; drain_timeout when absent', async (t) => {
  const config = await load(t, 'service: app\nimage: acme/app\nstop_wait_time: 20\nservers:\n  web: [10.0.0.1]\n  job:\n    hosts: [10.0.0.1]\n    cmd: bin/jobs\n    stop_timeout: 90s\n');
  const [web, job] = deriveDesired(config, 'v1').hosts['10.0.0.1']!.containers;
  assert.equal(web!.stopTimeout, 20);
  assert.equal(job!.stopTimeout, 90);
  const none = await load(t, `${BASE}image: acme/app\n`);
  assert.equal(deriveDesired(none, 'v1').hosts['10.0.0.1']!.containers[0]!.stopTimeout, undefined);
});

test('per-role healthcheck (Kamal 1) merges over the top level and sets the routed port', async (t) => {
  const config = await load(t, 'service: app\nimage: acme/app\nhealthcheck:\n  path: /up\n  port: 3000\nservers:\n  web: [10.0.0.1]\n  admin:\n    hosts: [10.0.0.1]\n    traefik: true\n    healthcheck:\n      port: 4000\n');
  const admin = deriveDesired(config, 'v1').hosts['10.0.0.1']!.containers.find((c) => c.role === 'admin')!;
  assert.match(admin.healthcheck!.cmd, /http:\/\/127\.0\.0\.1:4000\/up/);
  assert.equal(admin.labels['traefik.http.services.app-admin.loadbalancer.server.port'], '4000');
});

test('traefik: args given as lists repeat the flag; traefik.env clear values; publish: false publishes only the loopback API', async (t) => {
  const config = await load(t, `${BASE}image: acme/app\ntraefik:\n  args:\n    entrypoints.web.http.middlewares: [a@file, b@file]\n  env:\n    TZ: UTC\n  publish: false\n`);
  const traefik = deriveDesired(config, 'v1').hosts['10.0.0.1']!.traefik!;
  assert.deepEqual(traefik.args.filter((arg) => arg.includes('middlewares')), ['--entrypoints.web.http.middlewares=a@file', '--entrypoints.web.http.middlewares=b@file']);
  assert.deepEqual(traefik.env, { TZ: 'UTC' });
  assert.deepEqual(traefik.ports, ['127.0.0.1:8080:8080']);
  assert.match(await refusal(t, `${BASE}image: acme/app\ntraefik:\n  env:\n    secret: [TOKEN]\n`, { '.mrsk/secrets': 'TOKEN=x\n' }), /traefik\.env\.secret: secrets in traefik\.env are not supported/);
});

test('mixed-case service names: container names and routers are lower-cased as Kamal does', async (t) => {
  const config = await load(t, 'service: MyApp\nimage: acme/myapp\nservers: [10.0.0.1]\n');
  const web = deriveDesired(config, 'v1').hosts['10.0.0.1']!.containers[0]!;
  assert.equal(web.name, 'myapp-web-v1');
  assert.equal(web.traefikService, 'myapp-web');
  assert.equal(web.labels['mrsk.service'], 'MyApp');
});

test('volumes: options (/d:/d:Z, ro,Z) and anonymous volumes are accepted and passed as written', async (t) => {
  const config = await load(t, `${BASE}image: acme/app\nvolumes:\n  - /data:/data:Z\n  - /cfg:/cfg:ro,Z\n  - /cache\n`);
  assert.deepEqual(deriveDesired(config, 'v1').hosts['10.0.0.1']!.containers[0]!.volumes, ['/data:/data:Z', '/cfg:/cfg:ro,Z', '/cache']);
});

test('minimum_version: an older mrsk refuses the file (exit 78) naming both versions', async (t) => {
  assert.match(await refusal(t, `${BASE}image: acme/app\nminimum_version: "2.3.0"\n`, {}, { mrskVersion: '0.1.0' }), /minimum_version: this config needs mrsk 2\.3\.0 or newer \(minimum_version\); this is mrsk 0\.1\.0\. mrsk's version numbers are its own, not Kamal's/);
  await load(t, `${BASE}image: acme/app\nminimum_version: "0.1"\n`, {}, { mrskVersion: '0.1.0' });
  await load(t, `${BASE}image: acme/app\nminimum_version: "0.9.2"\n`, {}, { mrskVersion: '0.10.0' });
});

test('keys mrsk does not support are refused naming the mrsk equivalent or saying there is none', async (t) => {
  assert.match(await refusal(t, `${BASE}image: acme/app\nsshkit:\n  max_concurrent_starts: 10\n`), /sshkit: unknown key, mrsk does not use SSHKit; the nearest settings are under "ssh"/);
  assert.match(await refusal(t, `${BASE}image: acme/app\noutput:\n  file: log\n`), /output: unknown key, mrsk has no output loggers/);
  assert.match(await refusal(t, `${BASE}image: acme/app\nregistry:\n  password: <%= Rails.application.credentials.registry_password %>\n`), /mrsk does not run Ruby/);
  assert.match(
    await refusal(t, 'service: app\nimage: acme/app\nservers:\n  web:\n    hosts: [10.0.0.1]\n    proxy:\n      logging:\n        request_headers: [A]\n'),
    /servers\.web\.proxy\.logging: has no per-app Traefik equivalent/,
  );
});

test('secrets: Kamal 2 files, the destination file replacing .kamal/secrets, secrets-common under both; a file wins over the environment', async (t) => {
  const yml = `${BASE}image: acme/app\nenv:\n  secret: [A, B, C, D]\n`;
  const files = {
    '.kamal/secrets': 'A=kamal\nB=kamal\n',
    '.kamal/secrets.staging': 'A=staging\n',
    '.kamal/secrets-common': 'A=common\nB=common\nC=common\n',
    'config/deploy.staging.yml': '{}\n',
  };
  const values = (config: Awaited<ReturnType<typeof load>>) => Object.fromEntries(Object.entries(config.env.secret).map(([name, secret]) => [name, secret.reveal()]));
  assert.deepEqual(values(await load(t, yml, files, { env: { D: 'env', C: 'env' } })), { A: 'kamal', B: 'kamal', C: 'common', D: 'env' });
  assert.deepEqual(values(await load(t, yml, files, { env: { D: 'env' }, destination: 'staging' })), { A: 'staging', B: 'common', C: 'common', D: 'env' });
});

test('secrets: Kamal 1 .env / .env.<destination> are read when there is no .kamal/secrets*', async (t) => {
  const yml = `${BASE}image: acme/app\nenv:\n  secret: [A, B]\n`;
  const config = await load(t, yml, { '.env': 'A=dotenv\nB=dotenv\n', '.env.production': 'B=production\n', 'config/deploy.production.yml': '{}\n' }, { destination: 'production' });
  assert.equal(config.env.secret.A!.reveal(), 'dotenv');
  assert.equal(config.env.secret.B!.reveal(), 'production');
  assert.match(await refusal(t, yml, { '.env': 'A=dotenv\nB=dotenv\n', '.kamal/secrets': 'B=kamal\n' }), /secret A is not set; looked in \.mrsk\/secrets \(not found\), \.kamal\/secrets, the environment/);
});

test('secrets: $VAR, ${VAR} and $(command) are evaluated locally; single quotes stay literal; \\$ is a dollar', async () => {
  const ran: string[] = [];
  const runner: CommandRunner = async (command, env) => {
    ran.push(command);
    return { ok: true, stdout: command === 'echo token' ? 'tok-123' : `from:${env.FIRST ?? ''}` };
  };
  const { values, problems } = await evaluateDotenv(
    'FIRST=one\nSECOND=$FIRST-${HOME_DIR}\nTOKEN=$(echo token)\nUSES=$(use first)\nLITERAL=\'$(not run) $FIRST\'\nDOLLAR="a\\$b"\nMISSING=$NOPE.\n',
    { HOME_DIR: '/home/me' },
    '/tmp',
    runner,
  );
  assert.deepEqual(problems, []);
  assert.deepEqual(Object.fromEntries(values), {
    FIRST: 'one', SECOND: 'one-/home/me', TOKEN: 'tok-123', USES: 'from:one', LITERAL: '$(not run) $FIRST', DOLLAR: 'a$b', MISSING: '.',
  });
  assert.deepEqual(ran, ['echo token', 'use first']);
});

test('secrets: a failing command fails the load with its stderr, never the values; each file is evaluated once per run', async (t) => {
  const root = await project(t, { '.kamal/secrets': 'GOOD=$(printf hunter2)\nBAD=$(echo oops >&2; exit 3)\n' });
  const first = await loadSecretSources(root, undefined, { PATH: process.env.PATH });
  assert.deepEqual(first.problems, [{ file: '.kamal/secrets', line: 2, message: 'BAD: the command $(echo oops >&2; exit 3) failed (exit 3: oops)' }]);
  assert.ok(!JSON.stringify(first.problems).includes('hunter2'));
  let runs = 0;
  const counting: CommandRunner = async () => {
    runs += 1;
    return { ok: true, stdout: 'v' };
  };
  const counted = await project(t, { '.kamal/secrets': 'X=$(anything)\n' });
  await loadSecretSources(counted, undefined, {}, counting);
  assert.equal(runs, 1);
  // the real runner caches per run: the same file twice runs its commands once
  const marker = join(counted, 'runs');
  await writeFile(join(counted, '.kamal/secrets'), `X=$(echo x >> ${marker}; echo v)\n`);
  await loadSecretSources(counted, undefined, { PATH: process.env.PATH });
  await loadSecretSources(counted, undefined, { PATH: process.env.PATH });
  const { readFile } = await import('node:fs/promises');
  assert.equal((await readFile(marker, 'utf8')).trim().split('\n').length, 1);
});

test('secrets: NAME:SECRET_NAME aliases and registry.username as a secret list', async (t) => {
  const config = await load(
    t,
    `${BASE}image: acme/app\nregistry:\n  username: [KAMAL_REGISTRY_USERNAME]\n  password: [KAMAL_REGISTRY_PASSWORD]\nenv:\n  secret:\n    - DATABASE_URL:STAGING_DATABASE_URL\n`,
    { '.kamal/secrets': 'KAMAL_REGISTRY_USERNAME=robot\nKAMAL_REGISTRY_PASSWORD=pw\nSTAGING_DATABASE_URL=postgres://staging\n' },
  );
  assert.equal(config.registry.username, 'robot');
  assert.equal(config.env.secret.DATABASE_URL!.reveal(), 'postgres://staging');
  assert.equal(config.env.secret.DATABASE_URL!.name, 'DATABASE_URL');
  assert.ok(config.secrets.some((secret) => secret.reveal() === 'robot'), 'the user name is redacted from remote output like a secret');
});

test('the plan stops a role\'s old container with its stop_timeout (drain_timeout for the others)', () => {
  const scenario = scenarios().find((s) => s.name === 'new-version')!;
  const config = { ...scenario.config, roles: scenario.config.roles.map((role) => (role.name === 'job' ? { ...role, stopTimeout: 45 } : role)) };
  const plan = diff(deriveDesired(config, scenario.version), scenario.snapshot, scenario.options);
  const stops = plan.steps.filter((step) => step.host === 'h1.example.com' && step.action.kind === 'container-stop').map((step) => step.action as { name: string; timeout: number });
  assert.deepEqual(stops.map((stop) => [stop.name, stop.timeout]), [['app-web-v1', 30], ['app-job-v1', 45]]);
});
