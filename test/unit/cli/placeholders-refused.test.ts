// A fresh `mrsk init` output is refused by every command that would connect to a host (exit 78,
// "edit config/deploy.yml … first", each placeholder at file:line:col) before any connection.
// Each run happens under `unshare -n` (a network namespace with no interface but a down
// loopback), so even a mistake in the check could never reach 192.0.2.1. Needs root, as the e2e
// suite does; without it the test fails rather than skip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../../bin/mrsk.js', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `mrsk ...args` in cwd, offline: `unshare -n` when offline is set. stdin is closed (no terminal). */
function mrsk(cwd: string, args: readonly string[], offline: boolean): Promise<Run> {
  const argv = offline ? ['unshare', '-n', process.execPath, bin, ...args] : [process.execPath, bin, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd, env: { PATH: process.env.PATH, HOME: cwd, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    // the refusal is immediate: a run still going after a minute is a failure, never a hang
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function freshInit(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mrsk-placeholders-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const init = await mrsk(dir, ['init', '--quiet'], false);
  assert.equal(init.code, 0, init.stderr);
  return dir;
}

/** The line:col of a value on the first line starting with `start`, in a file of dir. */
async function where(dir: string, file: string, start: string, value: string): Promise<string> {
  const lines = (await readFile(join(dir, file), 'utf8')).split('\n');
  const index = lines.findIndex((line) => line.trimStart().startsWith(start));
  assert.ok(index >= 0, `${file} has a line starting with ${start}`);
  return `${file}:${index + 1}:${lines[index]!.indexOf(value, lines[index]!.indexOf(start)) + 1}`;
}

test('unshare -n works here (the offline runs below depend on it)', async (t) => {
  const dir = await freshInit(t);
  const offline = await mrsk(dir, ['config', '--quiet'], true);
  assert.equal(offline.code, 0, `unshare -n failed (root needed): ${offline.stderr}`);
});

test('mrsk plan and mrsk deploy on a fresh init: exit 78, every placeholder named, nothing contacted', async (t) => {
  const dir = await freshInit(t);
  const expected = [
    'error: edit config/deploy.yml and .mrsk/secrets first: 4 placeholders from `mrsk init` are still there (nothing was contacted)',
    `error: ${await where(dir, 'config/deploy.yml', 'image:', 'my-user/my-app')} image: my-user/my-app: my-user is a placeholder: use your registry account or organisation (e.g. ghcr.io/acme/app)`,
    `error: ${await where(dir, 'config/deploy.yml', '- 192.0.2.1', '192.0.2.1')} servers.web[0]: 192.0.2.1 is a documentation address (RFC 5737), never a real server: put your server's address or host name here`,
    `error: ${await where(dir, 'config/deploy.yml', 'username:', 'my-user')} registry.username: my-user is a placeholder: put your registry user name here`,
    `error: ${await where(dir, '.mrsk/secrets', 'MRSK_REGISTRY_PASSWORD=', 'MRSK_REGISTRY_PASSWORD')} MRSK_REGISTRY_PASSWORD: still "change-me", the placeholder of \`mrsk init\`: put the real value here`,
    '',
  ].join('\n');
  for (const args of [['plan'], ['deploy'], ['deploy', '--skip-push', '--version', 'v1']]) {
    const run = await mrsk(dir, args, true);
    assert.equal(run.code, 78, `mrsk ${args.join(' ')}: ${run.stderr}`);
    assert.equal(run.stdout, '', `mrsk ${args.join(' ')} printed nothing else`);
    assert.equal(run.stderr, expected, `mrsk ${args.join(' ')}`);
  }
});

test('every command that would connect refuses the placeholders the same way', async (t) => {
  const dir = await freshInit(t);
  const commands = [
    ['redeploy'], ['setup'], ['apply', '-y'], ['rollback', 'v1'], ['prune'], ['remove', '-y'], ['drift'], ['releases'],
    ['details'], ['app', 'exec', 'ls'], ['app', 'logs'], ['app', 'stop'], ['traefik', 'boot'], ['registry', 'login'],
    ['lock', 'acquire', '-m', 'x'], ['audit'], ['console'], ['logs'],
  ];
  const headline = 'error: edit config/deploy.yml and .mrsk/secrets first: 4 placeholders from `mrsk init` are still there (nothing was contacted)\n';
  // a few at a time: each is a node start-up on a shared machine
  const pending = [...commands];
  const runs: [string[], Run][] = [];
  const workers = Array.from({ length: 4 }, async () => {
    for (let args = pending.shift(); args; args = pending.shift()) runs.push([args, await mrsk(dir, args, true)]);
  });
  // every run ends before any assertion, so the folder is never removed under a running one
  await Promise.all(workers);
  for (const [args, run] of runs) {
    assert.equal(run.code, 78, `mrsk ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
    assert.ok(run.stderr.startsWith(headline), `mrsk ${args.join(' ')}: ${run.stderr}`);
  }
  assert.equal(runs.length, commands.length);
});

test('mrsk config and mrsk init still work on the placeholders (they connect nowhere)', async (t) => {
  const dir = await freshInit(t);
  const config = await mrsk(dir, ['config'], true);
  assert.equal(config.code, 0, config.stderr);
  assert.match(config.stdout, /192\.0\.2\.1/);
  const again = await mrsk(dir, ['init', '--force', '--quiet'], true);
  assert.equal(again.code, 0, again.stderr);
});
