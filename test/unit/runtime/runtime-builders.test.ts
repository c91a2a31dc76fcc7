// Every host-command builder for both runtimes. Podman reads Docker's command lines, so a builder
// must give Podman the same words with only the command changed; the few places that differ
// (inspect's id field, ps labels, Traefik's API socket, health checks) are spelled out here.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accessorySpecFor } from '../../../src/desired/accessory.ts';
import { deriveDesired, traefikSpecFor } from '../../../src/desired/desired.ts';
import { runAccessory } from '../../../src/runtime/accessory.ts';
import * as runtime from '../../../src/runtime/index.ts';
import {
  IMAGE_ENTRY_FORMAT,
  PS_ENTRY_FORMAT,
  RUNTIME_NAMES,
  RUNTIMES,
  TRAEFIK_API_SOCKET_VOLUME,
  type Argv,
  type RuntimeName,
  containerSummaryFormat,
  idField,
  imageSummaryFormat,
  listContainers,
  listImages,
  psLabel,
  runTraefik,
} from '../../../src/runtime/index.ts';
import { makeConfig, makeEnv, makeRole } from '../helpers/config.ts';

const config = makeConfig();
const desired = deriveDesired(config, 'v1');
const [web, job] = desired.hosts['h1.example.com']!.containers;
const traefik = traefikSpecFor(config);
const accessory = accessorySpecFor(makeConfig({ roles: [makeRole('web', { hosts: ['h1.example.com'] })] }), {
  name: 'db',
  image: 'registry.example.com/postgres:16',
  hosts: ['h1.example.com'],
  port: '127.0.0.1:5432:5432',
  env: makeEnv({ PGDATA: '/data' }, { POSTGRES_PASSWORD: 'pg-pass-xyz' }),
  volumes: ['pg:/var/lib/postgresql'],
  labels: {},
  options: {},
  files: [{ local: 'a.conf', localPath: '/p/a.conf', remote: '/etc/a.conf', mode: '0644', hash: 'sha256:1' }],
  directories: [{ local: 'pg', remote: '/data' }],
});

/** One call of every builder that takes the host's runtime and returns argv, with realistic arguments. */
const BUILDERS: Readonly<Record<string, (rt: RuntimeName) => Argv>> = {
  containerLogs: (rt) => runtime.containerLogs(rt, 'app-web-v1', { lines: 10, since: '5m', follow: true, timestamps: true }),
  copyFolderContentsOut: (rt) => runtime.copyFolderContentsOut(rt, 'app-web-v1-assets', '/app/public/', '/home/deploy/assets'),
  createNetwork: (rt) => runtime.createNetwork(rt, 'mrsk'),
  createStoppedContainer: (rt) => runtime.createStoppedContainer(rt, 'app-web-v1-assets', 'registry.example.com/acme/app:v1'),
  execInContainer: (rt) => runtime.execInContainer(rt, 'app-web-v1', ['bin/rails', 'console'], { interactive: true, tty: true }),
  inspectContainers: (rt) => runtime.inspectContainers(rt, ['a', 'b'], { format: '{{json .State}}' }),
  inspectHealth: (rt) => runtime.inspectHealth(rt, 'app-web-v1'),
  inspectImages: (rt) => runtime.inspectImages(rt, ['sha256:1'], { format: '{{json .RepoTags}}' }),
  inspectNetwork: (rt) => runtime.inspectNetwork(rt, 'mrsk'),
  listContainerIds: (rt) => runtime.listContainerIds(rt, { label: ['mrsk.service=app', 'mrsk.role=web'], status: 'running' }, { all: true }),
  listContainers: (rt) => runtime.listContainers(rt, { label: 'mrsk.service=app' }, { all: true }),
  listImageIds: (rt) => runtime.listImageIds(rt, ['registry.example.com/acme/app', 'registry.example.com/acme/worker']),
  listImages: (rt) => runtime.listImages(rt, 'registry.example.com/acme/app'),
  listNetworks: (rt) => runtime.listNetworks(rt),
  login: (rt) => runtime.login(rt, 'registry.example.com', 'deploy'),
  logout: (rt) => runtime.logout(rt, 'registry.example.com'),
  pullImage: (rt) => runtime.pullImage(rt, 'registry.example.com/acme/app:v1'),
  removeContainer: (rt) => runtime.removeContainer(rt, 'app-web-v1', { force: true }),
  removeImage: (rt) => runtime.removeImage(rt, 'registry.example.com/acme/app:v1'),
  removeNetwork: (rt) => runtime.removeNetwork(rt, 'mrsk'),
  renameContainer: (rt) => runtime.renameContainer(rt, 'c1', 'app-web-v1_replaced_c1'),
  restartContainer: (rt) => runtime.restartContainer(rt, 'traefik', 10),
  runAccessory: (rt) => runAccessory(rt, accessory, { envFile: '/home/deploy/.mrsk/app/env/app-db.env', fileHostPaths: ['/home/deploy/a.conf'], directoryHostPaths: ['/home/deploy/pg'] }),
  runContainer: (rt) => runtime.runContainer(rt, web!, { envFile: '/home/deploy/.mrsk/app/env/web.env', cordHostDir: '/home/deploy/cord' }),
  runOnce: (rt) => runtime.runOnce(rt, 'registry.example.com/acme/app:v1', ['bin/rails', 'db:migrate'], { network: 'mrsk', env: { A: '1' }, envFile: '/e', interactive: true }),
  runtimeVersion: (rt) => runtime.runtimeVersion(rt),
  startContainer: (rt) => runtime.startContainer(rt, 'app-web-v1'),
  stopContainer: (rt) => runtime.stopContainer(rt, 'app-web-v1', 30),
  traefikApi: (rt) => runtime.traefikApi(rt, '/api/http/services'),
  traefikApiTwice: (rt) => runtime.traefikApiTwice(rt, '/api/http/services', '/api/http/routers', '@@mrsk-probe traefik-routers@@'),
};

/** Builders whose output is not argv, or that differ between the runtimes on purpose (tested below). */
const NOT_IN_TABLE = ['bindSourcesToMake', 'runContainerIfNameFree', 'containerSummaryFormat', 'idField', 'imageRef', 'imageSummaryFormat', 'inspectContainerWhenStarted', 'psLabel', 'runHealthCheck', 'runTraefik', 'traefikApiUntil', 'traefikGetDefinition'];

/** Exported functions of a module whose first parameter is the host's runtime (`rt`). */
function runtimeBuilders(module: Record<string, unknown>): string[] {
  return Object.entries(module)
    .filter(([, value]) => typeof value === 'function' && /^function\s*\w*\s*\(\s*rt\b/.test(String(value)))
    .map(([name]) => name)
    .sort();
}

describe('host builders for docker and podman', () => {
  it('the table holds every builder of src/runtime that takes the runtime (a new one must be added here)', async () => {
    const accessoryModule = await import('../../../src/runtime/accessory.ts');
    const found = [...runtimeBuilders(runtime), ...runtimeBuilders(accessoryModule)].sort();
    assert.deepEqual(found, [...Object.keys(BUILDERS), ...NOT_IN_TABLE].sort());
  });

  for (const [name, build] of Object.entries(BUILDERS)) {
    it(`${name}: podman's argv is docker's with podman as the command`, () => {
      // a proxied container's health flags differ on purpose (Docker's watching form: container.test.ts)
      const comparable = (argv: Argv) => (name === 'runContainer' ? argv.map((word, i) => (argv[i - 1]?.startsWith('--health-') ? '<health>' : word)) : argv);
      const docker = comparable(build('docker'));
      const podman = comparable(build('podman'));
      assert.equal(docker[0], 'docker');
      assert.equal(podman[0], 'podman');
      assert.deepEqual(podman.slice(1), docker.slice(1));
      assert.ok(docker.length > 1);
      assert.ok(!podman.slice(1).includes('docker'), `no docker word in podman's argv: ${podman.join(' ')}`);
    });
  }

  it('the waiting scripts print what their one-look argv prints, for each runtime; Podman runs the health check before each look', () => {
    for (const rt of RUNTIME_NAMES) {
      const drive = runtime.runHealthCheck(rt, 'app-web-v1');
      const started = runtime.inspectContainerWhenStarted(rt, 'app-web-v1', { seconds: 3, pauseSeconds: 0.1, ...(drive ? { before: drive } : {}) });
      assert.deepEqual(started.answersAs, runtime.inspectContainers(rt, ['app-web-v1']));
      assert.ok(started.script.endsWith(`; ${rt} inspect --type container app-web-v1`), started.script);
      const until = runtime.traefikApiUntil(rt, '/api/http/services/app-web@docker', { lacks: '"http://172.18.0.2:3000":' }, { seconds: 3, pauseSeconds: 0.1, ...(drive ? { before: drive } : {}) });
      assert.deepEqual(until.answersAs, runtime.traefikApi(rt, '/api/http/services/app-web@docker'));
      // the text is matched literally (quoted in the case pattern), JSON quotes and all
      assert.ok(until.script.includes(`*'"http://172.18.0.2:3000":'*) ;; *) break ;;`), until.script);
      // Traefik's API is read through its port on the host's loopback first, asked of this runtime
      assert.ok(until.script.startsWith(`api=$(${rt} port traefik 8080/tcp 2>/dev/null | sed -n `), until.script);
      assert.ok(until.script.includes(`traefik_get() { host_get "$1" || ${rt} exec traefik wget -q -O - "http://127.0.0.1:8080$1"; };`), until.script);
      assert.ok(until.script.includes("out=$(traefik_get /api/http/services/app-web@docker) || exit $?;"), until.script);
      for (const script of [started.script, until.script]) {
        assert.equal(script.includes('podman healthcheck run app-web-v1 >/dev/null 2>&1;'), rt === 'podman', script);
        if (rt === 'podman') assert.ok(!/\bdocker\b/.test(script.replaceAll('@docker', '')), script); // (Traefik's provider is called docker)
        assert.match(script, /(^|; )end=\$\(\(\$\(date \+%s\) \+ 3\)\); while :; do /);
        assert.match(script, /\[ "\$\(date \+%s\)" -ge "\$end" \] && break; sleep 0\.1; done;/);
      }
    }
    assert.ok(runtime.traefikApiUntil('docker', '/ping', { contains: 'OK' }, { seconds: 3, pauseSeconds: 0.2 }).script.includes('case $out in *OK*) break ;; esac'));
    // `between`: after a look that did not end the wait, before the pause (Podman's check while Traefik does not route yet)
    const nudged = runtime.traefikApiUntil('podman', '/api/http/services/app-web@docker', { contains: '"http://172.18.0.3:3000":"UP"' }, { seconds: 3, pauseSeconds: 0.1, between: ['podman', 'healthcheck', 'run', 'app-web-v2'] }).script;
    assert.ok(nudged.includes('[ "$(date +%s)" -ge "$end" ] && break; podman healthcheck run app-web-v2 >/dev/null 2>&1; sleep 0.1; done;'), nudged);
    assert.ok(nudged.includes('while :; do out=$(traefik_get'), nudged);
  });

  it('every runtime is covered: the names are the commands', () => {
    assert.deepEqual([...RUNTIME_NAMES], ['docker', 'podman']);
    for (const rt of RUNTIME_NAMES) assert.equal(runtime.runtimeVersion(rt)[0], rt);
  });

  it('secrets stay off argv for both runtimes', () => {
    for (const rt of RUNTIME_NAMES) {
      assert.ok(!BUILDERS.runAccessory!(rt).join(' ').includes('pg-pass-xyz'));
      assert.ok(!BUILDERS.runContainer!(rt).join(' ').includes('hunter2'));
    }
    assert.ok(job, 'the config has a job role on h1');
  });
});

describe('where the runtimes differ', () => {
  it("idField: Docker's JSON key Id, Podman's Go field ID", () => {
    assert.equal(idField('docker'), 'Id');
    assert.equal(idField('podman'), 'ID');
  });

  it('psLabel: Docker has .Label, Podman indexes its Labels map; the key is a quoted Go string', () => {
    assert.equal(psLabel('docker', 'mrsk.service'), '{{.Label "mrsk.service"}}');
    assert.equal(psLabel('podman', 'mrsk.service'), '{{index .Labels "mrsk.service"}}');
    assert.equal(psLabel('podman', 'a"b'), '{{index .Labels "a\\"b"}}');
  });

  it('containerSummaryFormat: the same JSON line, only the id field differs; no Config.Env (secrets)', () => {
    const docker = containerSummaryFormat('docker');
    const podman = containerSummaryFormat('podman');
    assert.equal(
      docker,
      '{"Id":{{json .Id}},"Name":{{json .Name}},"Created":{{json .Created}},"Image":{{json .Image}},"RestartCount":{{json .RestartCount}},' +
        '"Config":{"Image":{{json .Config.Image}},"Labels":{{json .Config.Labels}}},"State":{{json .State}},"NetworkSettings":{"Networks":{{json .NetworkSettings.Networks}}}}',
    );
    assert.equal(podman, docker.replace('{"Id":{{json .Id}}', '{"Id":{{json .ID}}'));
    for (const format of [docker, podman]) assert.ok(!format.includes('Env'));
  });

  it('imageSummaryFormat: the same JSON line, only the id field differs', () => {
    assert.equal(imageSummaryFormat('docker'), '{"Id":{{json .Id}},"RepoTags":{{json .RepoTags}},"Created":{{json .Created}},"Config":{"Labels":{{json .Config.Labels}}}}');
    assert.equal(imageSummaryFormat('podman'), '{"Id":{{json .ID}},"RepoTags":{{json .RepoTags}},"Created":{{json .Created}},"Config":{"Labels":{{json .Config.Labels}}}}');
  });

  it('ps and image ls print named fields (not {{json .}}, which Podman prints in its own shape), unless a format is given', () => {
    for (const rt of RUNTIME_NAMES) {
      const ps = listContainers(rt, { label: 'mrsk.service=app' });
      assert.deepEqual(ps.slice(-2), ['--format', PS_ENTRY_FORMAT]);
      assert.deepEqual(listContainers(rt, {}, { format: '{{.Names}}' }).slice(-2), ['--format', '{{.Names}}']);
      assert.deepEqual(listImages(rt, 'acme/app').slice(-2), ['--format', IMAGE_ENTRY_FORMAT]);
    }
    const fields = (format: string) => [...format.matchAll(/"(\w+)":\{\{json \.(\w+)\}\}/g)].map((m) => [m[1], m[2]]);
    // each JSON key is the field it prints, so parsePsLines reads Docker's {{json .}} keys
    for (const [key, field] of fields(PS_ENTRY_FORMAT)) assert.equal(key, field);
    assert.deepEqual(fields(PS_ENTRY_FORMAT).map(([key]) => key), ['ID', 'Image', 'Command', 'CreatedAt', 'RunningFor', 'Status', 'State', 'Ports', 'Names', 'Labels']);
    for (const [key, field] of fields(IMAGE_ENTRY_FORMAT)) assert.equal(key, field);
    assert.deepEqual(fields(IMAGE_ENTRY_FORMAT).map(([key]) => key), ['ID', 'Repository', 'Tag', 'CreatedSince', 'Size']);
  });

  it('bindSourcesToMake: Podman refuses a missing bind-mount folder, so its absolute sources are made first; Docker makes them itself', () => {
    const volumes = ['/data/storage:/rails/storage', 'cache:/cache', '/data/storage:/other:ro', '/etc/app.conf:/etc/app.conf:ro', 'relative/dir:/x'];
    assert.deepEqual(runtime.bindSourcesToMake('podman', volumes), ['/data/storage', '/etc/app.conf']);
    assert.deepEqual(runtime.bindSourcesToMake('docker', volumes), []);
    assert.deepEqual(runtime.bindSourcesToMake('podman', []), []);
    assert.deepEqual(runtime.bindSourcesToMake('podman', ['named:/data']), [], 'named volumes are the runtime\'s');
  });

  it('runHealthCheck: Podman runs a check on demand; Docker runs its own, so there is nothing to run', () => {
    assert.deepEqual(runtime.runHealthCheck('podman', 'app-web-v1'), ['podman', 'healthcheck', 'run', 'app-web-v1']);
    assert.equal(runtime.runHealthCheck('docker', 'app-web-v1'), undefined);
  });

  it("runTraefik: Traefik reads the runtime's API as /var/run/docker.sock; the spec (and its hash) is the same for both", () => {
    assert.ok(traefik.volumes.includes(TRAEFIK_API_SOCKET_VOLUME));
    const docker = runTraefik('docker', traefik).script;
    const podman = runTraefik('podman', traefik).script;
    assert.ok(docker.includes(' -v /var/run/docker.sock:/var/run/docker.sock '), docker);
    assert.ok(podman.includes(' -v /run/podman/podman.sock:/var/run/docker.sock '), podman);
    assert.equal(RUNTIMES.podman.apiSocket, '/run/podman/podman.sock');
    assert.ok(!podman.includes('/var/run/docker.sock:'), 'podman mounts no docker socket');
    // everything else is word for word the same, but for the Docker Hub image's qualified name
    assert.equal(podman, docker.replace('docker run', 'podman run').replace('-v /var/run/docker.sock:/var/run/docker.sock', '-v /run/podman/podman.sock:/var/run/docker.sock').replace(` ${traefik.image} `, ` ${runtime.imageRef('podman', traefik.image)} `));
    assert.ok(docker.startsWith('mkdir -p ') && docker.includes('docker run -d --name traefik'), docker);
    // the spec does not depend on the runtime: a host that moves from docker to podman keeps its hash
    const podmanConfig = { ...config, runtime: 'podman' } as typeof config;
    assert.deepEqual(traefikSpecFor(podmanConfig), traefik);
    assert.equal(traefikSpecFor(podmanConfig).specHash, traefik.specHash);
  });
});

describe('Docker Hub short names on Podman', () => {
  it('Podman gets the qualified name (its registries.conf may search nowhere); Docker the name as written; ids pass', () => {
    const cases: [string, string][] = [
      ['traefik:v3.6', 'docker.io/library/traefik:v3.6'],
      ['traefik', 'docker.io/library/traefik'],
      ['acme/app:v1', 'docker.io/acme/app:v1'],
      ['acme/app@sha256:' + 'a'.repeat(64), 'docker.io/acme/app@sha256:' + 'a'.repeat(64)],
      ['docker.io/library/redis:7', 'docker.io/library/redis:7'],
      ['registry.example.com/acme/app:v1', 'registry.example.com/acme/app:v1'],
      ['10.0.0.1:5000/app:v1', '10.0.0.1:5000/app:v1'],
      ['localhost/app:v1', 'localhost/app:v1'],
      ['ghcr.io/acme/app', 'ghcr.io/acme/app'],
      ['sha256:' + 'b'.repeat(64), 'sha256:' + 'b'.repeat(64)],
      ['b'.repeat(64), 'b'.repeat(64)],
      ['0123456789ab', '0123456789ab'],
    ];
    for (const [ref, podman] of cases) {
      assert.equal(runtime.imageRef('podman', ref), podman, ref);
      assert.equal(runtime.imageRef('docker', ref), ref, ref);
    }
  });

  it('what Podman reports reads back in the configuration\'s form', () => {
    assert.equal(runtime.familiarImageName('docker.io/library/traefik:v3.6'), 'traefik:v3.6');
    assert.equal(runtime.familiarImageName('docker.io/acme/app:v1'), 'acme/app:v1');
    assert.equal(runtime.familiarImageName('registry.example.com/acme/app:v1'), 'registry.example.com/acme/app:v1');
    for (const ref of ['traefik:v3.6', 'acme/app:v1', 'postgres']) assert.equal(runtime.familiarImageName(runtime.imageRef('podman', ref)), ref);
  });

  it('every builder that names an image qualifies a short one for Podman only', () => {
    assert.deepEqual(runtime.pullImage('podman', 'traefik:v3.6'), ['podman', 'pull', 'docker.io/library/traefik:v3.6']);
    assert.deepEqual(runtime.pullImage('docker', 'traefik:v3.6'), ['docker', 'pull', 'traefik:v3.6']);
    assert.equal(runtime.runOnce('podman', 'acme/app:v1', ['true']).at(-2), 'docker.io/acme/app:v1');
    assert.equal(runtime.createStoppedContainer('podman', 'x', 'acme/app:v1').at(-1), 'docker.io/acme/app:v1');
    assert.deepEqual(runtime.removeImage('podman', 'postgres:16'), ['podman', 'image', 'rm', 'docker.io/library/postgres:16']);
    assert.ok(runtime.listImageIds('podman', ['acme/app']).includes('reference=docker.io/acme/app'));
    assert.ok(runtime.listImages('podman', 'acme/app').includes('reference=docker.io/acme/app'));
  });
});
