// Where and for which platforms the image builds (Kamal 2's builder rules; mrsk's default arch).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { endpointSlug, localArch, planBuild } from '../../../src/build/plan.ts';
import type { BuilderConfig } from '../../../src/config/types.ts';
import { UsageError } from '../../../src/errors.ts';

const builder: BuilderConfig = { multiarch: false, arch: [], dockerfile: 'Dockerfile', args: {}, secrets: {} };
const plan = (over: Partial<BuilderConfig>, hostArches: Record<string, string | undefined> = { h1: 'amd64', h2: 'amd64' }, buildx = true, here = 'amd64') =>
  planBuild({ builder: { ...builder, ...over }, hostArches, localArch: here, buildx });

describe('platforms', () => {
  it('without builder.arch: the architecture the hosts report, built by the daemon\'s own builder (no buildx needed)', () => {
    const p = plan({}, { h1: 'amd64', h2: 'amd64' }, false);
    assert.deepEqual(p.platforms, ['amd64']);
    assert.equal(p.strategy, 'local');
    assert.equal(p.buildx, false);
    assert.equal(p.summary, 'for amd64 (the architecture all 2 hosts report), on this machine');
  });

  it('hosts of another architecture than this machine: built for theirs with buildx, and said so', () => {
    const p = plan({}, { h1: 'arm64' }, true, 'amd64');
    assert.deepEqual(p.platforms, ['arm64']);
    assert.equal(p.buildx, true);
    assert.equal(p.summary, 'for arm64 (the architecture the host reports), on this machine');
    assert.throws(() => plan({}, { h1: 'arm64' }, false, 'amd64'), (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.match(error.message, /needs `docker buildx`.*a platform this machine does not run \(arm64; this machine: amd64\).*builder\.remote/);
      return true;
    });
  });

  it('mixed hosts: every architecture, each host named; a host that did not say is named too', () => {
    const p = plan({}, { h1: 'amd64', h2: 'arm64', h3: undefined });
    assert.deepEqual(p.platforms, ['amd64', 'arm64']);
    assert.equal(p.platformsFrom, 'the architectures the hosts report: h1 amd64, h2 arm64; unknown for h3');
  });

  it('no host said: this machine\'s architecture', () => {
    const p = plan({}, { h1: undefined }, false, 'arm64');
    assert.deepEqual(p.platforms, ['arm64']);
    assert.match(p.platformsFrom, /this machine's/);
  });

  it('builder.arch wins over the hosts (Kamal 2); Kamal 1 multiarch means amd64 and arm64', () => {
    assert.deepEqual(plan({ arch: ['arm64'] }, { h1: 'amd64' }).platforms, ['arm64']);
    assert.equal(plan({ arch: ['arm64'] }).platformsFrom, 'builder.arch');
    assert.deepEqual(plan({ multiarch: true }).platforms, ['amd64', 'arm64']);
  });
});

describe('where it builds (builder.remote, builder.local, builder.driver)', () => {
  it('remote builds only what this machine does not run: a hybrid builder with a local and a remote node', () => {
    const p = plan({ arch: ['amd64', 'arm64'], remote: 'ssh://docker@build-1.example.com' });
    assert.equal(p.strategy, 'hybrid');
    assert.deepEqual([p.localPlatforms, p.remotePlatforms], [['amd64'], ['arm64']]);
    assert.equal(p.builderName, 'mrsk-hybrid-docker-container-docker-build-1-example-com');
    assert.deepEqual(p.create, [
      ['docker', 'buildx', 'create', '--name', p.builderName, '--driver', 'docker-container', '--platform', 'linux/amd64'],
      ['docker', 'buildx', 'create', '--append', '--name', p.builderName, '--driver', 'docker-container', '--platform', 'linux/arm64', 'ssh://docker@build-1.example.com'],
    ]);
    assert.equal(p.summary, 'for amd64, arm64 (builder.arch), amd64 on this machine, arm64 on builder.remote (ssh://docker@build-1.example.com)');
  });

  it('remote with only this machine\'s platform is not used (Kamal 2), and the output says how to use it', () => {
    const p = plan({ remote: 'ssh://b' });
    assert.equal(p.strategy, 'local');
    assert.deepEqual(p.create, []);
    assert.match(p.summary, /on this machine \(builder\.remote is only used for platforms this machine does not run; local: false builds everything there\)/);
  });

  it('remote with only foreign platforms, or local: false, builds everything there (through DOCKER_HOST, or a named builder with a driver)', () => {
    const foreign = plan({ remote: 'ssh://b' }, { h1: 'arm64' }, true, 'amd64');
    assert.equal(foreign.strategy, 'remote');
    assert.equal(foreign.builderName, undefined);
    assert.equal(foreign.summary, 'for arm64 (the architecture the host reports), on builder.remote (ssh://b)');
    const all = plan({ remote: 'ssh://b', local: false, driver: 'docker-container' });
    assert.equal(all.strategy, 'remote');
    assert.deepEqual(all.create, [['docker', 'buildx', 'create', '--name', 'mrsk-remote-docker-container-b', '--driver', 'docker-container', 'ssh://b']]);
  });

  it('Kamal 1 local.host is the local node\'s endpoint of a hybrid builder', () => {
    const p = plan({ arch: ['amd64', 'arm64'], remote: 'ssh://b', localHost: 'unix:///var/run/docker.sock' });
    assert.equal(p.create[0]!.at(-1), 'unix:///var/run/docker.sock');
  });

  it('driver docker-container builds in a builder instance of that name; driver docker uses the daemon\'s builder', () => {
    const container = plan({ driver: 'docker-container' });
    assert.equal(container.builderName, 'mrsk-local-docker-container');
    assert.equal(container.buildx, true);
    assert.deepEqual(container.create, [['docker', 'buildx', 'create', '--name', 'mrsk-local-docker-container', '--driver', 'docker-container']]);
    const own = plan({ driver: 'docker' }, undefined, false);
    assert.equal(own.builderName, undefined);
    assert.equal(own.buildx, false);
  });

  it('a key only buildx understands, without buildx, is refused naming the key', () => {
    assert.throws(() => plan({ ssh: 'default' }, undefined, false), /builder\.ssh/);
    assert.throws(() => plan({ cache: { type: 'registry' } }, undefined, false), /builder\.cache \(type registry\)/);
    assert.throws(() => plan({ arch: ['amd64', 'arm64'] }, undefined, false), /several platforms \(amd64, arm64\).*remove builder\.arch/);
  });
});

describe('names', () => {
  it('node architectures in docker words; endpoints as builder-name slugs', () => {
    assert.equal(localArch('x64'), 'amd64');
    assert.equal(localArch('arm64'), 'arm64');
    assert.equal(localArch('ia32'), '386');
    assert.equal(endpointSlug('ssh://docker@Build-1.example.com:2222'), 'docker-build-1-example-com-2222');
    assert.equal(endpointSlug('tcp://10.0.0.9:2376'), '10-0-0-9-2376');
  });
});
