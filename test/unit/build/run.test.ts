// The build context: a clean clone of HEAD without builder.context (Kamal's rule), so uncommitted
// and untracked files never enter an image; builder.context builds the folder as it is.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { LocalExec } from '../../../src/apply/local.ts';
import { cleanClone } from '../../../src/build/clone.ts';
import { buildImage, cacheImage } from '../../../src/build/run.ts';
import type { CommandContext } from '../../../src/cli/context.ts';
import { Output } from '../../../src/cli/output.ts';
import { makeConfig } from '../helpers/config.ts';

const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd, encoding: 'utf8' });

async function repo(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mrsk-build-repo-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  git(dir, 'init', '-q');
  await mkdir(join(dir, 'app'));
  await writeFile(join(dir, 'app', 'Dockerfile'), 'FROM scratch\n');
  await writeFile(join(dir, 'app', 'index.html'), 'committed\n');
  git(dir, 'add', '.');
  git(dir, 'commit', '-qm', 'first');
  return dir;
}

function context(): CommandContext & { lines: string[] } {
  const lines: string[] = [];
  const sink = { isTTY: false, write: (text: string) => (lines.push(text), true) } as unknown as NodeJS.WriteStream;
  return { global: { config: 'config/deploy.yml' }, out: new Output({}, sink, sink), cwd: '/', signal: new AbortController().signal, lines };
}

describe('cleanClone', () => {
  it('holds the commit at HEAD only: no uncommitted change, no untracked file; the project folder maps into the clone', async (t) => {
    const dir = await repo(t);
    await writeFile(join(dir, 'app', 'index.html'), 'uncommitted\n');
    await writeFile(join(dir, 'app', 'secret.txt'), 'untracked\n');
    const clone = await cleanClone(join(dir, 'app'), 'demo');
    assert.ok(clone);
    try {
      assert.equal(clone.head, git(dir, 'rev-parse', 'HEAD').trim());
      assert.equal(clone.dirty, true);
      assert.equal(readFileSync(join(clone.root, 'index.html'), 'utf8'), 'committed\n');
      assert.ok(existsSync(join(clone.root, 'Dockerfile')));
      assert.ok(!existsSync(join(clone.root, 'secret.txt')), 'an untracked file is not in the clone');
    } finally {
      await clone.remove();
    }
    assert.ok(!existsSync(clone.root), 'removed');
  });

  it('clones a detached HEAD at its commit, and says a clean tree is clean', async (t) => {
    const dir = await repo(t);
    await writeFile(join(dir, 'app', 'index.html'), 'second\n');
    git(dir, 'commit', '-qam', 'second');
    const second = git(dir, 'rev-parse', 'HEAD').trim();
    git(dir, 'checkout', '-q', '--detach', 'HEAD~1');
    const clone = await cleanClone(dir, 'demo');
    assert.ok(clone);
    t.after(() => clone.remove());
    assert.notEqual(clone.head, second);
    assert.equal(clone.dirty, false);
    assert.equal(readFileSync(join(clone.root, 'app', 'index.html'), 'utf8'), 'committed\n');
  });

  it('outside a git work tree there is nothing to clone', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'mrsk-build-nogit-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    assert.equal(await cleanClone(dir, 'demo'), undefined);
  });
});

describe('buildImage', () => {
  const recorder = () => {
    const calls: { argv: readonly string[]; contextFile?: string }[] = [];
    const exec: LocalExec = async (argv) => {
      const context = argv.at(-1)!;
      calls.push({ argv, ...(argv[1] === 'build' && existsSync(join(context, 'index.html')) ? { contextFile: readFileSync(join(context, 'index.html'), 'utf8') } : {}) });
      return { code: 0, stdout: '', stderr: '' };
    };
    return { calls, exec };
  };

  it('without builder.context builds a clean clone of HEAD, warns about the uncommitted changes it leaves out, then pushes', async (t) => {
    const dir = await repo(t);
    await writeFile(join(dir, 'app', 'index.html'), 'uncommitted\n');
    const ctx = context();
    const { calls, exec } = recorder();
    const config = makeConfig({ root: join(dir, 'app'), image: 'r/acme/app', builder: { multiarch: false, arch: [], dockerfile: 'Dockerfile', args: {}, secrets: {} } });
    const plan = await buildImage(ctx, config, 'r/acme/app:v1', { builder: { env: {}, buildx: false }, hostArches: { h1: 'amd64' }, exec, localArch: 'amd64' });
    assert.equal(plan.strategy, 'local');
    const build = calls.find((call) => call.argv[1] === 'build')!;
    assert.equal(build.contextFile, 'committed\n', 'the image gets the committed file');
    assert.match(build.argv.at(-1)!, /mrsk-clone-/);
    assert.equal(build.argv.at(-2), join(build.argv.at(-1)!, 'Dockerfile'));
    assert.ok(!existsSync(build.argv.at(-1)!), 'the clone is removed after the build');
    assert.deepEqual(calls.at(-1)!.argv, ['docker', 'push', 'r/acme/app:v1']);
    const output = ctx.lines.join('');
    assert.match(output, /Uncommitted changes and untracked files are not in the image: it is built from a clean clone of HEAD [0-9a-f]{12}/);
    assert.match(output, /Building r\/acme\/app:v1 for amd64 \(the architecture the host reports\), on this machine, from a clean clone of HEAD [0-9a-f]{12}/);
  });

  it('with builder.context builds that folder as it is, uncommitted changes included', async (t) => {
    const dir = await repo(t);
    await writeFile(join(dir, 'app', 'index.html'), 'uncommitted\n');
    const { calls, exec } = recorder();
    const config = makeConfig({ root: dir, builder: { multiarch: false, arch: [], context: 'app', dockerfile: 'Dockerfile', args: {}, secrets: {} } });
    await buildImage(context(), config, 'r/app:v1', { builder: { env: {}, buildx: false }, hostArches: {}, exec, localArch: 'amd64' });
    const build = calls.find((call) => call.argv[1] === 'build')!;
    assert.equal(build.argv.at(-1), join(dir, 'app'));
    assert.equal(build.contextFile, 'uncommitted\n');
    assert.equal(build.argv.at(-2), join(dir, 'app', 'Dockerfile'));
  });

  it('creates a missing buildx builder once, then builds with it and pushes through buildx', async (t) => {
    const dir = await repo(t);
    const calls: string[] = [];
    const exec: LocalExec = async (argv) => {
      calls.push(argv.slice(0, 4).join(' '));
      return { code: argv[2] === 'inspect' ? 1 : 0, stdout: '', stderr: '' };
    };
    const config = makeConfig({ root: dir, builder: { multiarch: false, arch: ['arm64'], context: 'app', dockerfile: 'Dockerfile', args: {}, secrets: {}, driver: 'docker-container' } });
    await buildImage(context(), config, 'r/app:v1', { builder: { env: {}, buildx: true }, hostArches: {}, exec, localArch: 'amd64' });
    assert.deepEqual(calls, ['docker buildx inspect mrsk-local-docker-container', 'docker buildx create --name', 'docker buildx build --push']);
  });

  it('the registry cache image: cache.image under registry.server, else <image>-build-cache', () => {
    const base = makeConfig({ image: 'ghcr.io/acme/app', registry: { server: 'ghcr.io' } });
    const withCache = (image?: string) => ({ ...base, builder: { ...base.builder, cache: { type: 'registry', ...(image ? { image } : {}) } } });
    assert.equal(cacheImage(withCache()), 'ghcr.io/acme/app-build-cache');
    assert.equal(cacheImage(withCache('acme/cache')), 'ghcr.io/acme/cache');
    assert.equal(cacheImage(withCache('ghcr.io/acme/cache')), 'ghcr.io/acme/cache');
    assert.equal(cacheImage(base), undefined);
  });
});
