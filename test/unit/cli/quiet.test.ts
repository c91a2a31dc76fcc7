// -q through the real bin: quiet means the command's final line and errors only, never the
// legend or the plan. And the plan's first line says which version is planned and why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { Output } from '../../../src/cli/output.ts';
import { spawnCollect, type Run } from '../../helpers/spawn-collect.ts';

const bin = fileURLToPath(new URL('../../../bin/mrsk.js', import.meta.url));


/** `node bin/mrsk.js ...args` in cwd; `unshare -n` (no network at all) when offline. */
function mrsk(cwd: string, args: string[], options: { offline?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  const argv = options.offline ? ['unshare', '-n', process.execPath, bin, ...args] : [process.execPath, bin, ...args];
  return spawnCollect(argv[0]!, argv.slice(1), { cwd, env: { PATH: process.env.PATH, HOME: cwd, NO_COLOR: '1', ...options.env } });
}

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mrsk-quiet-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** An app whose only host is loopback port 9 (nothing listens: refused at once, no traffic leaves the machine). */
async function appWithClosedHost(dir: string): Promise<void> {
  await mkdir(join(dir, 'config'), { recursive: true });
  await writeFile(
    join(dir, 'config/deploy.yml'),
    ['service: demo', 'image: demo/app', 'servers:', '  - 127.0.0.1', 'ssh:', '  port: 9', 'registry:', '  server: 127.0.0.1:5000', '  username: me', '  password: pw', ''].join('\n'),
  );
}

test('Output with quiet keeps only the last status line and prints it when the command ends', () => {
  let out = '';
  const sink = new Writable({ write: (chunk, _enc, done) => void ((out += chunk), done()) }) as unknown as NodeJS.WriteStream;
  const quiet = new Output({ quiet: true, env: {} }, sink, sink);
  quiet.info('Building…');
  quiet.info('Deployed demo v2 to 2 host(s) in 4.2s');
  quiet.print('a table asked for');
  assert.equal(out, 'a table asked for\n');
  quiet.finish();
  assert.equal(out, 'a table asked for\nDeployed demo v2 to 2 host(s) in 4.2s\n');
  quiet.finish();
  assert.equal(out, 'a table asked for\nDeployed demo v2 to 2 host(s) in 4.2s\n', 'printed once');
  out = '';
  const loud = new Output({ env: {} }, sink, sink);
  loud.info('Building…');
  loud.finish();
  assert.equal(out, 'Building…\n', 'without -q every line is printed as it comes');
});

test('init -q prints only the final line of init', async (t) => {
  const loud = await mrsk(await tempDir(t), ['init'], { offline: true });
  const quiet = await mrsk(await tempDir(t), ['init', '-q'], { offline: true });
  assert.equal(quiet.code, 0, quiet.stderr);
  const lastLine = loud.stdout.trimEnd().split('\n').pop();
  assert.equal(quiet.stdout, `${lastLine}\n`);
});

test('plan -q: no legend, no plan, no version line; the hosts that could not be planned and the summary line', async (t) => {
  const dir = await tempDir(t);
  await appWithClosedHost(dir);
  const quiet = await mrsk(dir, ['plan', '--version', 'v1', '-q']);
  assert.equal(quiet.code, 1, quiet.stderr);
  assert.match(quiet.stdout, /^Cannot plan 1 host:\n {2}127\.0\.0\.1: .*ECONNREFUSED.*\nNo changes on the hosts that could be planned\.\n$/);
  const loud = await mrsk(dir, ['plan', '--version', 'v1']);
  assert.ok(loud.stdout.startsWith('Planning version v1 (given with --version).\nImage 127.0.0.1:5000/demo/app: registry.server "127.0.0.1:5000" + "/" + image\n  "demo/app" (Kamal\'s rule).\n\nCannot plan 1 host:\n'), loud.stdout);
});

test('plan --next names the git HEAD it plans, 12 characters long', async (t) => {
  const dir = await tempDir(t);
  await appWithClosedHost(dir);
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: dir } }).trim();
  git('init', '-q');
  git('add', '.');
  git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '-m', 'one');
  const head = git('rev-parse', 'HEAD');
  const run = await mrsk(dir, ['plan', '--next']);
  assert.equal(run.code, 1, run.stderr);
  assert.ok(run.stdout.startsWith(`Planning version ${head.slice(0, 12)} (git HEAD, what \`mrsk deploy\` would ship).\n`), run.stdout);
  const json = await mrsk(dir, ['plan', '--next', '--json']);
  assert.equal(JSON.parse(json.stdout).version, head, '--json keeps the full version');
});

test('plan --next --version is refused before any connection (exit 64)', async (t) => {
  const dir = await tempDir(t);
  await appWithClosedHost(dir);
  const run = await mrsk(dir, ['plan', '--next', '--version', 'v1'], { offline: true });
  assert.equal(run.code, 64);
  assert.equal(run.stdout, '');
  assert.match(run.stderr, /--next and --version both pick the version to plan/);
});
