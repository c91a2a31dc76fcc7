// Deploy version: --version > VERSION > git HEAD (+ _uncommitted_<hash> when dirty).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, UsageError } from '../../../src/errors.ts';
import { resolveVersion } from '../../../src/config/version.ts';

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false', ...args], { cwd, encoding: 'utf8' });

test('--version wins over VERSION, which wins over git', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mrsk-version-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  assert.equal(await resolveVersion({ explicit: 'v1.2.3', env: { VERSION: 'from-env' }, cwd: dir }), 'v1.2.3');
  assert.equal(await resolveVersion({ env: { VERSION: 'from-env' }, cwd: dir }), 'from-env');
});

test('outside git without a version: a config error saying what to do', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mrsk-version-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await assert.rejects(resolveVersion({ env: {}, cwd: dir }), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.message, 'cannot tell the version: not in a git repository with a commit; pass --version <version> or set VERSION');
    return true;
  });
});

test('versions must be docker-tag safe', async () => {
  await assert.rejects(resolveVersion({ explicit: 'a b', cwd: '.' }), UsageError);
  await assert.rejects(resolveVersion({ explicit: '-x', cwd: '.' }), UsageError);
  await assert.rejects(resolveVersion({ env: { VERSION: 'x/y' }, cwd: '.' }), ConfigError);
  assert.equal(await resolveVersion({ explicit: 'a'.repeat(128), cwd: '.' }), 'a'.repeat(128));
  await assert.rejects(resolveVersion({ explicit: 'a'.repeat(129), cwd: '.' }), UsageError);
});

test('git: the full HEAD sha when clean; _uncommitted_ + 16 hex of sha256(git diff HEAD) when dirty', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mrsk-version-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  git(dir, 'init', '-q');
  await writeFile(join(dir, 'app.txt'), 'one\n');
  git(dir, 'add', 'app.txt');
  git(dir, 'commit', '-qm', 'first');
  const head = git(dir, 'rev-parse', 'HEAD').trim();
  assert.match(head, /^[0-9a-f]{40}$/);
  assert.equal(await resolveVersion({ env: {}, cwd: dir }), head);

  await writeFile(join(dir, 'app.txt'), 'two\n');
  const diff = execFileSync('git', ['diff', 'HEAD'], { cwd: dir });
  const expected = `${head}_uncommitted_${createHash('sha256').update(diff).digest('hex').slice(0, 16)}`;
  assert.equal(await resolveVersion({ env: {}, cwd: dir }), expected);
  // a different change gives a different version
  await writeFile(join(dir, 'app.txt'), 'three\n');
  assert.notEqual(await resolveVersion({ env: {}, cwd: dir }), expected);
  // an untracked file alone also makes the tree dirty
  await writeFile(join(dir, 'app.txt'), 'one\n');
  assert.equal(await resolveVersion({ env: {}, cwd: dir }), head);
  await writeFile(join(dir, 'new.txt'), 'x\n');
  const withNew = await resolveVersion({ env: {}, cwd: dir });
  assert.match(withNew, new RegExp(`^${head}_uncommitted_[0-9a-f]{16}$`));
  // ... and what the untracked files hold is part of the version (names and contents)
  await writeFile(join(dir, 'new.txt'), 'y\n');
  const changedNew = await resolveVersion({ env: {}, cwd: dir });
  assert.notEqual(changedNew, withNew);
  await writeFile(join(dir, 'new.txt'), 'x\n');
  assert.equal(await resolveVersion({ env: {}, cwd: dir }), withNew);
  await mkdir(join(dir, 'sub'));
  await writeFile(join(dir, 'sub', 'other.txt'), 'x\n');
  assert.equal(await resolveVersion({ env: {}, cwd: join(dir, 'sub') }), await resolveVersion({ env: {}, cwd: dir }), 'the same from a subfolder');
  assert.notEqual(await resolveVersion({ env: {}, cwd: dir }), withNew);
});
