// `mrsk plan --next` previews the next deploy: the version `mrsk deploy` would resolve (VERSION,
// else git HEAD, marked _uncommitted_ for a dirty tree), and the plan's first line says which
// version and why. Resolution is checked against a real git repository in a temp folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseVersion } from '../../../src/commands/plan.ts';
import { UsageError } from '../../../src/errors.ts';

async function gitRepo(t: { after: (fn: () => Promise<void>) => void }): Promise<{ dir: string; head: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'mrsk-next-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: dir, GIT_CONFIG_NOSYSTEM: '1' } }).trim();
  git('init', '-q');
  await writeFile(join(dir, 'app.txt'), 'one\n');
  git('add', 'app.txt');
  git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '-m', 'one');
  return { dir, head: git('rev-parse', 'HEAD') };
}

test('--next plans git HEAD even when another version is deployed, and says so', async (t) => {
  const { dir, head } = await gitRepo(t);
  const chosen = await chooseVersion({ next: true, deployed: 'v1', env: {}, cwd: dir });
  assert.deepEqual(chosen, { version: head, reason: 'git HEAD, what `mrsk deploy` would ship' });
});

test('--next on a dirty tree plans the _uncommitted_ version deploy would ship', async (t) => {
  const { dir, head } = await gitRepo(t);
  await writeFile(join(dir, 'app.txt'), 'two\n');
  const chosen = await chooseVersion({ next: true, deployed: head, env: {}, cwd: dir });
  assert.match(chosen.version, new RegExp(`^${head}_uncommitted_[0-9a-f]{16}$`));
  assert.equal(chosen.reason, 'git HEAD with uncommitted changes, what `mrsk deploy` would ship');
});

test('--next takes VERSION from the environment first, as deploy does', async (t) => {
  const { dir } = await gitRepo(t);
  assert.deepEqual(await chooseVersion({ next: true, deployed: 'v1', env: { VERSION: 'v9' }, cwd: dir }), {
    version: 'v9',
    reason: 'VERSION from the environment, what `mrsk deploy` would ship',
  });
});

test('without --next: the deployed version, with a pointer to --next; before any deploy: what deploy would ship', async (t) => {
  const { dir, head } = await gitRepo(t);
  assert.deepEqual(await chooseVersion({ deployed: 'v1', env: {}, cwd: dir }), { version: 'v1', reason: 'deployed now; `mrsk plan --next` previews the next deploy' });
  assert.deepEqual(await chooseVersion({ env: {}, cwd: dir }), { version: head, reason: 'git HEAD, what `mrsk deploy` would ship; nothing is deployed yet' });
});

test('--version wins and is checked; --next with --version is a usage error', async (t) => {
  const { dir } = await gitRepo(t);
  assert.deepEqual(await chooseVersion({ explicit: 'v7', deployed: 'v1', env: { VERSION: 'v9' }, cwd: dir }), { version: 'v7', reason: 'given with --version' });
  await assert.rejects(chooseVersion({ explicit: 'v7', next: true, env: {}, cwd: dir }), UsageError);
  await assert.rejects(chooseVersion({ explicit: '-bad', env: {}, cwd: dir }), UsageError);
});
