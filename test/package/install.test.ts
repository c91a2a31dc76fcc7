// The package as users get it: `npm pack` (prepack builds dist/) → `npm install -g` of the tarball
// into a clean prefix → `mrsk` runs the compiled dist/ with no TypeScript loader (tsx and
// typescript are dev dependencies, src/ is not shipped), and answers like the checkout does.
// Needs the npm registry for the package's dependencies (npm's cache serves them when it can).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnCollect, type Run } from '../helpers/spawn-collect.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const checkoutBin = join(repo, 'bin/mrsk.js');
const invalidDir = join(repo, 'fixtures/configs/invalid');
const version = (JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as { version: string }).version;
// node itself on PATH (the installed bin starts with #!/usr/bin/env node), nothing else from here
const PATH = `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`;


/** Runs a command; mrsk gets a bare environment, npm this process's (its CA certificates, proxy). */
function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = { PATH, NO_COLOR: '1', HOME: process.env.HOME }): Promise<Run> {
  return spawnCollect(command, args, { cwd, env });
}

const NPM_ENV = { ...process.env, npm_config_update_notifier: 'false', npm_config_fetch_retries: '1' };

let work = '';
let prefix = '';
let installed = '';
let mrsk = '';

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'mrsk-package-'));
  prefix = join(work, 'prefix');
  const pack = await run('npm', ['pack', '--pack-destination', work, '--json'], repo, NPM_ENV);
  assert.equal(pack.code, 0, `npm pack failed:\n${pack.stderr}`);
  const [{ filename }] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as [{ filename: string }];
  const install = await run('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', join(work, filename)], work, NPM_ENV);
  assert.equal(install.code, 0, `npm install -g failed:\n${install.stderr}`);
  mrsk = join(prefix, 'bin/mrsk');
  installed = join(prefix, 'lib/node_modules/mrsk');
}, { timeout: 600_000 });

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

test('the installed package ships dist/ and no sources, and has no TypeScript loader or compiler', () => {
  assert.ok(existsSync(join(installed, 'dist/cli/main.js')), 'dist/cli/main.js');
  assert.ok(existsSync(join(installed, 'dist/cli/deploy-validator.js')), 'the validator generated at build time');
  assert.ok(!existsSync(join(installed, 'src')), 'src/ is not shipped');
  const modules = readdirSync(join(installed, 'node_modules'));
  for (const dev of ['tsx', 'typescript', 'esbuild']) assert.ok(!modules.includes(dev), `${dev} installed`);
});

test('mrsk --version and mrsk --help from the installed package', async () => {
  const versionRun = await run(mrsk, ['--version'], work);
  assert.deepEqual(versionRun, { code: 0, stdout: `${version}\n`, stderr: '' });
  const help = await run(mrsk, ['--help'], work);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^Usage: mrsk /);
  for (const command of ['init', 'config', 'plan', 'deploy', 'rollback']) assert.match(help.stdout, new RegExp(`\\n  ${command}\\b`));
});

test('mrsk init, then mrsk config, in a new folder', async (t) => {
  const app = await mkdtemp(join(work, 'app-'));
  t.after(() => rm(app, { recursive: true, force: true }));
  const init = await run(mrsk, ['init'], app);
  assert.equal(init.code, 0, init.stderr);
  assert.ok(existsSync(join(app, 'config/deploy.yml')));
  const config = await run(mrsk, ['config'], app);
  assert.equal(config.code, 0, config.stderr);
  assert.match(config.stdout, /^service: /m);
  const json = await run(mrsk, ['config', '--json'], app);
  assert.equal(json.code, 0, json.stderr);
  assert.ok((JSON.parse(json.stdout) as { service?: string }).service);
});

test('every invalid fixture gets the same message and exit code from the installed package as from the checkout', async () => {
  const files = readdirSync(invalidDir).filter((name) => /\.ya?ml$/.test(name)).sort();
  assert.ok(files.length > 20, `${files.length} invalid fixtures`);
  const pending = [...files];
  const worker = async () => {
    for (let file = pending.shift(); file !== undefined; file = pending.shift()) {
      const [fromPackage, fromCheckout] = await Promise.all([
        run(mrsk, ['config', '-c', file], invalidDir),
        run(process.execPath, [checkoutBin, 'config', '-c', file], invalidDir),
      ]);
      assert.deepEqual(fromPackage, fromCheckout, file);
      assert.notEqual(fromPackage.code, 0, file);
    }
  };
  await Promise.all([worker(), worker()]);
});
