// asset_path (Kamal's asset bridging): during a rollout the old and the new version's fingerprinted
// assets are both served. The config key (top level, role wins), the mount in the desired spec
// (hashed only when set), the plan step before the new container runs, the exact host script and
// that running it twice is harmless.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ConfigError } from '../../../src/errors.ts';
import { loadConfig } from '../../../src/config/load.ts';
import { deriveDesired } from '../../../src/desired/desired.ts';
import { diff } from '../../../src/plan/diff.ts';
import { runContainer } from '../../../src/runtime/container.ts';
import { assetsScratchName, prepareAssetsScript, removeAssetsScript } from '../../../src/host/assets.ts';
import { makeConfig } from '../helpers/config.ts';
import { deployedSnapshot, emptySnapshot } from '../helpers/snapshot.ts';

async function load(t: TestContext, deployYml: string) {
  const root = await mkdtemp(join(tmpdir(), 'mrsk-assets-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await mkdir(join(root, 'config'), { recursive: true });
  await writeFile(join(root, 'config/deploy.yml'), deployYml);
  return loadConfig({ file: 'config/deploy.yml', cwd: root, env: {} });
}

const BASE = 'service: app\nimage: acme/app\n';

test('asset_path: the top level applies to every role, a role\'s own asset_path wins', async (t) => {
  const config = await load(
    t,
    `${BASE}asset_path: /rails/public/assets\nservers:\n  web:\n    hosts: [10.0.0.1]\n  admin:\n    hosts: [10.0.0.2]\n    traefik: true\n    asset_path: /admin/public/packs\n`,
  );
  assert.equal(config.assetPath, '/rails/public/assets');
  assert.deepEqual(Object.fromEntries(config.roles.map((r) => [r.name, r.assetPath])), { web: '/rails/public/assets', admin: '/admin/public/packs' });
});

test('asset_path: a relative path, a trailing slash, ".." and ":" are refused at load with the key path', async (t) => {
  for (const bad of ['public/assets', '/rails/public/assets/', '/rails/../etc', '/a:b']) {
    await assert.rejects(load(t, `${BASE}asset_path: ${JSON.stringify(bad)}\nservers: [10.0.0.1]\n`), (error: unknown) => {
      assert.ok(error instanceof ConfigError, String(error));
      assert.match(error.message, /asset_path/);
      assert.match(error.message, /must be an absolute path inside the image/);
      return true;
    });
  }
});

const withAssets = (assetPath = '/app/public/assets') =>
  makeConfig({ roles: makeConfig().roles.map((r) => (r.name === 'web' ? { ...r, assetPath } : r)) });

test('desired: a routed container with asset_path mounts ~/.mrsk/<app>/assets/<role>/<version> over it; workers get none', () => {
  const state = deriveDesired(withAssets(), 'v2');
  const [web, job] = state.hosts['h1.example.com']!.containers;
  assert.deepEqual(web!.assets, { path: '/app/public/assets', hostDir: '.mrsk/app/assets/web/v2' });
  assert.equal(job!.assets, undefined);
  const argv = runContainer('docker', web!, { envFile: '/home/u/.mrsk/app/env/app-web-v2.env', cordHostDir: '/c', assetsHostDir: '/home/u/.mrsk/app/assets/web/v2' });
  const volume = argv.indexOf('/home/u/.mrsk/app/assets/web/v2:/app/public/assets');
  assert.ok(volume > 0 && argv[volume - 1] === '-v', argv.join(' '));
  const staging = deriveDesired(makeConfig({ ...withAssets(), destination: 'staging' }), 'v2');
  assert.equal(staging.hosts['h1.example.com']!.containers[0]!.assets!.hostDir, '.mrsk/app-staging/assets/web/v2');
});

test('desired: without asset_path the spec and its hash are what they were; with it the hash changes', () => {
  const plain = deriveDesired(makeConfig(), 'v1').hosts['h1.example.com']!.containers[0]!;
  assert.equal('assets' in plain, false);
  const bridged = deriveDesired(withAssets(), 'v1').hosts['h1.example.com']!.containers[0]!;
  assert.notEqual(bridged.specHash, plain.specHash);
  const other = deriveDesired(withAssets('/other'), 'v1').hosts['h1.example.com']!.containers[0]!;
  assert.notEqual(other.specHash, bridged.specHash);
});

const kindsOn = (steps: readonly { host: string; id: string; action: { kind: string } }[], host: string) =>
  steps.filter((s) => s.host === host).map((s) => s.id);

test('plan: assets-prepare runs after the pull and before the new container, merging the serving version\'s folder', () => {
  const config = withAssets();
  const plan = diff(deriveDesired(config, 'v2'), deployedSnapshot(config, 'v1'));
  const steps = plan.steps.filter((s) => s.host === 'h1.example.com');
  const ids = kindsOn(steps, 'h1.example.com');
  const prepare = steps.find((s) => s.action.kind === 'assets-prepare')!;
  const run = steps.find((s) => s.action.kind === 'container-run' && s.action.spec.role === 'web')!;
  const pull = steps.find((s) => s.action.kind === 'image-pull')!;
  assert.ok(ids.indexOf(pull.id) < ids.indexOf(prepare.id) && ids.indexOf(prepare.id) < ids.indexOf(run.id), ids.join(' '));
  assert.ok(prepare.dependsOn.includes(pull.id));
  assert.ok(run.dependsOn.includes(prepare.id));
  assert.equal(prepare.address, run.address);
  assert.deepEqual(prepare.action, {
    kind: 'assets-prepare',
    name: 'app-web-v2',
    image: 'registry.example.com/acme/app:v2',
    assetPath: '/app/public/assets',
    hostDir: '.mrsk/app/assets/web/v2',
    previousDirs: ['.mrsk/app/assets/web/v1'],
  });
  // Only the routed role gets one; a first deploy has nothing to merge.
  assert.equal(plan.steps.filter((s) => s.action.kind === 'assets-prepare').length, 2);
  const first = diff(deriveDesired(config, 'v1'), emptySnapshot(config));
  const firstPrepare = first.steps.find((s) => s.action.kind === 'assets-prepare');
  assert.deepEqual(firstPrepare && firstPrepare.action.kind === 'assets-prepare' ? firstPrepare.action.previousDirs : undefined, []);
});

test('plan: without asset_path there is no assets step and no folder on container-remove', () => {
  const config = makeConfig({ retainContainers: 1 });
  const plan = diff(deriveDesired(config, 'v2'), deployedSnapshot(config, 'v1', deployedSnapshot(config, 'v0')));
  assert.equal(plan.steps.some((s) => s.action.kind === 'assets-prepare'), false);
  assert.equal(plan.steps.some((s) => s.action.kind === 'container-remove' && s.action.assetsDir !== undefined), false);
});

test('plan: a pruned version\'s asset folder goes with its container; the converged plan has nothing to do', () => {
  const config = makeConfig({ ...withAssets(), retainContainers: 1 });
  const plan = diff(deriveDesired(config, 'v2'), deployedSnapshot(config, 'v1', deployedSnapshot(config, 'v0')));
  const removes = plan.steps.filter((s) => s.action.kind === 'container-remove').map((s) => (s.action.kind === 'container-remove' ? [s.action.name, s.action.assetsDir] : []));
  assert.deepEqual(removes.filter(([name]) => name!.startsWith('app-web')), [
    ['app-web-v0', '.mrsk/app/assets/web/v0'],
    ['app-web-v0', '.mrsk/app/assets/web/v0'],
  ]);
  assert.deepEqual(removes.filter(([name]) => name!.startsWith('app-job')), [['app-job-v0', undefined]]);
  assert.equal(diff(deriveDesired(config, 'v1'), deployedSnapshot(config, 'v1')).steps.length, 0);
});

const SCRIPT_INPUT = {
  runtime: 'docker' as const,
  image: 'registry.example.com/acme/app:v2',
  assetPath: '/app/public/assets',
  dir: '/home/deploy/.mrsk/app/assets/web/v2',
  previousDirs: ['/home/deploy/.mrsk/app/assets/web/v1'],
  scratchName: assetsScratchName('app-web-v2'),
};

test('host script: copy out of a never-started container, then merge both ways without overwriting (exact text)', () => {
  assert.equal(
    prepareAssetsScript(SCRIPT_INPUT),
    [
      'set -e',
      'mkdir -p /home/deploy/.mrsk/app/assets/web/v2',
      'docker rm -f app-web-v2-assets >/dev/null 2>&1 || true',
      'docker create --name app-web-v2-assets --entrypoint /bin/true registry.example.com/acme/app:v2 >/dev/null',
      'docker cp app-web-v2-assets:/app/public/assets/. /home/deploy/.mrsk/app/assets/web/v2 || { rc=$?; docker rm -f app-web-v2-assets >/dev/null 2>&1 || true; exit $rc; }',
      'docker rm -f app-web-v2-assets >/dev/null 2>&1 || true',
      'if [ -d /home/deploy/.mrsk/app/assets/web/v1 ]; then',
      '  cp -Rn /home/deploy/.mrsk/app/assets/web/v1/. /home/deploy/.mrsk/app/assets/web/v2/ || true',
      '  cp -Rn /home/deploy/.mrsk/app/assets/web/v2/. /home/deploy/.mrsk/app/assets/web/v1/ || true',
      '  (cd /home/deploy/.mrsk/app/assets/web/v1 && find . ! -type d) | (cd /home/deploy/.mrsk/app/assets/web/v2 && while IFS= read -r f; do [ -e "$f" ] || { echo "asset bridging: $f was not copied" >&2; exit 1; }; done)',
      '  (cd /home/deploy/.mrsk/app/assets/web/v2 && find . ! -type d) | (cd /home/deploy/.mrsk/app/assets/web/v1 && while IFS= read -r f; do [ -e "$f" ] || { echo "asset bridging: $f was not copied" >&2; exit 1; }; done)',
      'fi',
    ].join('\n'),
  );
  assert.equal(removeAssetsScript('/home/deploy/.mrsk/app/assets/web/v0'), 'rm -rf /home/deploy/.mrsk/app/assets/web/v0');
});

test('host script: config values are quoted, never shell syntax', () => {
  const script = prepareAssetsScript({ ...SCRIPT_INPUT, assetPath: "/a b/$(touch x)'", previousDirs: [] });
  assert.ok(script.includes(`docker cp 'app-web-v2-assets:/a b/$(touch x)'\\''/.' `), script);
});

/** A stand-in for docker: `create` remembers the image's folder, `cp` copies it, `rm` forgets it. */
const FAKE_DOCKER = `#!/bin/sh
state="$FAKE_DOCKER_STATE"
case "$1" in
  create) [ -e "$state/scratch" ] && { echo "name in use" >&2; exit 1; }; echo "$FAKE_IMAGE_ROOT" > "$state/scratch"; echo id ;;
  cp) src="\${2#*:}"; root="$(cat "$state/scratch")"; cp -R "$root$src" "$3" ;;
  rm) rm -f "$state/scratch" ;;
  *) exit 2 ;;
esac
`;

async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name);
      out[path.slice(dir.length + 1)] = await readFile(path, 'utf8');
    }
  }
  return out;
}

test('host script: run twice with a docker stand-in, both folders end with both versions\' files and nothing is overwritten', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'mrsk-assets-run-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const files: Record<string, string> = {
    'bin/docker': FAKE_DOCKER,
    'image/app/public/assets/app-v2.css': 'v2 css\n',
    'image/app/public/assets/shared.txt': 'from v2\n',
    'image/app/public/assets/js/app-v2.js': 'v2 js\n',
    'v1/app-v1.css': 'v1 css\n',
    'v1/shared.txt': 'from v1\n',
  };
  for (const [file, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, file)), { recursive: true });
    await writeFile(join(root, file), text);
  }
  await chmod(join(root, 'bin/docker'), 0o755);
  await mkdir(join(root, 'state'));
  const script = prepareAssetsScript({ ...SCRIPT_INPUT, dir: join(root, 'v2'), previousDirs: [join(root, 'v1'), join(root, 'v0-gone')] });
  const env = { ...process.env, PATH: `${join(root, 'bin')}:${process.env.PATH}`, FAKE_DOCKER_STATE: join(root, 'state'), FAKE_IMAGE_ROOT: join(root, 'image') };
  for (let i = 0; i < 2; i++) {
    execFileSync('sh', ['-c', script], { env, stdio: 'pipe' });
    assert.deepEqual(await tree(join(root, 'v2')), {
      'app-v2.css': 'v2 css\n',
      'shared.txt': 'from v2\n',
      'js/app-v2.js': 'v2 js\n',
      'app-v1.css': 'v1 css\n',
    });
    assert.deepEqual(await tree(join(root, 'v1')), {
      'app-v1.css': 'v1 css\n',
      'shared.txt': 'from v1\n',
      'app-v2.css': 'v2 css\n',
      'js/app-v2.js': 'v2 js\n',
    });
    assert.deepEqual(await readdir(join(root, 'state')), [], 'the scratch container is removed');
  }
});
