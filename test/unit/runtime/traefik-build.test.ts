import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BuilderConfig } from '../../../src/config/types.ts';
import type { TraefikSpec } from '../../../src/desired/types.ts';
import {
  appendToBuilder, build, buildSecretEnv, buildxOnlyKeys, cacheFlags, createHybridBuilder, createLocalBuilder, createRemoteBuilder,
  inspectBuilder, removeTraefikFile, runTraefik, traefikApi,
} from '../../../src/runtime/index.ts';
import { Secret } from '../../../src/secret.ts';

describe('Traefik builders', () => {
  const spec: TraefikSpec = {
    name: 'traefik',
    image: 'traefik:v3.6',
    args: ['--providers.docker=true', '--providers.docker.exposedByDefault=false', '--api.insecure=true'],
    ports: ['80:80', '127.0.0.1:8080:8080'],
    volumes: ['/var/run/docker.sock:/var/run/docker.sock'],
    labels: { 'mrsk.traefik-spec-hash': 'v1:aa', 'mrsk.managed': 'true' },
    options: ['--log-opt', 'max-size=10m'],
    network: 'mrsk',
    apiPort: 8080,
    specHash: 'v1:aa',
  };

  it('runs Traefik with ports, the docker socket, sorted labels, options, image and args', () => {
    assert.deepEqual(runTraefik('docker', spec), {
      script:
        'docker run -d --name traefik --network mrsk --restart unless-stopped -p 80:80 -p 127.0.0.1:8080:8080 ' +
        '-v /var/run/docker.sock:/var/run/docker.sock ' +
        '--label mrsk.managed=true --label mrsk.traefik-spec-hash=v1:aa --log-opt max-size=10m traefik:v3.6 ' +
        '--providers.docker=true --providers.docker.exposedByDefault=false --api.insecure=true',
    });
  });

  it("makes home-relative volume folders (0700, as the SSH user) and mounts them from $HOME", () => {
    const withState = { ...spec, volumes: [...spec.volumes, '.mrsk/traefik/acme:/etc/traefik/acme', '.mrsk/traefik/dynamic:/etc/traefik/dynamic:ro'] };
    const { script } = runTraefik('docker', withState);
    assert.ok(
      script.startsWith('mkdir -p "$HOME"/.mrsk/traefik/acme "$HOME"/.mrsk/traefik/dynamic && chmod 700 "$HOME"/.mrsk/traefik/acme "$HOME"/.mrsk/traefik/dynamic && docker run -d '),
      script,
    );
    assert.ok(script.includes(' -v /var/run/docker.sock:/var/run/docker.sock -v "$HOME"/.mrsk/traefik/acme:/etc/traefik/acme -v "$HOME"/.mrsk/traefik/dynamic:/etc/traefik/dynamic:ro --label '), script);
  });

  it('removes an app file with rm -f (gone already is fine)', () => {
    assert.deepEqual(removeTraefikFile('/home/deploy/.mrsk/traefik/dynamic/app.yml'), ['rm', '-f', '/home/deploy/.mrsk/traefik/dynamic/app.yml']);
  });

  it("reads Traefik's API from inside its container with wget", () => {
    assert.deepEqual(traefikApi('docker', '/api/http/services/app-web@docker'), [
      'docker', 'exec', 'traefik', 'wget', '-q', '-O', '-', 'http://127.0.0.1:8080/api/http/services/app-web@docker',
    ]);
  });
});

describe('build builders', () => {
  const local: BuilderConfig = {
    multiarch: false,
    arch: [],
    dockerfile: 'Dockerfile',
    args: { RUBY_VERSION: '3.3', APP_ENV: 'production' },
    secrets: { GITHUB_TOKEN: new Secret('GITHUB_TOKEN', 'ghp_supersecret') },
  };

  it('builds with the daemon\'s own builder: tags, labels, sorted build args and secrets by env name', () => {
    assert.deepEqual(build({ builder: local, tags: ['r/acme/app:v1', 'r/acme/app:latest'], labels: { service: 'app' }, context: '/tmp/clone/src', dockerfile: '/tmp/clone/src/Dockerfile', buildx: false }), [
      'docker', 'build', '-t', 'r/acme/app:v1', '-t', 'r/acme/app:latest', '--label', 'service=app',
      '--build-arg', 'APP_ENV=production', '--build-arg', 'RUBY_VERSION=3.3',
      '--secret', 'id=GITHUB_TOKEN,env=GITHUB_TOKEN',
      '--file', '/tmp/clone/src/Dockerfile', '/tmp/clone/src',
    ]);
  });

  it('gives platforms and a builder only to buildx', () => {
    assert.deepEqual(build({ builder: { ...local, args: {}, secrets: {} }, tags: ['a:1'], context: '.', dockerfile: 'Dockerfile', buildx: false, platforms: ['amd64'], builderName: 'x' }), [
      'docker', 'build', '-t', 'a:1', '--file', 'Dockerfile', '.',
    ]);
  });

  it('keeps build secret values off argv and hands them over as environment', () => {
    const argv = build({ builder: local, tags: ['a:1'], context: '.', dockerfile: 'Dockerfile', buildx: false });
    assert.ok(!argv.join(' ').includes('ghp_supersecret'));
    assert.deepEqual(buildSecretEnv(local), { GITHUB_TOKEN: 'ghp_supersecret' });
  });

  it('uses buildx with push, platforms, a named builder, target, ssh, attestations and a registry cache (Kamal 2 keys)', () => {
    const full: BuilderConfig = {
      ...local, arch: ['amd64', 'arm64'], args: {}, secrets: {}, dockerfile: 'app/Dockerfile.prod',
      target: 'production', ssh: 'default=/run/agent.sock', provenance: 'mode=max', sbom: true,
      cache: { type: 'registry', options: 'mode=max', image: 'acme/app-cache' },
    };
    assert.deepEqual(build({ builder: full, tags: ['r/acme/app:v1'], context: 'app', dockerfile: 'app/Dockerfile.prod', buildx: true, platforms: ['amd64', 'arm64'], builderName: 'mrsk-hybrid-docker-container-builder', cacheImage: 'r/acme/app-cache' }), [
      'docker', 'buildx', 'build', '--push', '--platform', 'linux/amd64,linux/arm64', '--builder', 'mrsk-hybrid-docker-container-builder',
      '-t', 'r/acme/app:v1',
      '--target', 'production', '--ssh', 'default=/run/agent.sock', '--provenance', 'mode=max', '--sbom', 'true',
      '--cache-from', 'type=registry,ref=r/acme/app-cache', '--cache-to', 'type=registry,mode=max,ref=r/acme/app-cache',
      '--file', 'app/Dockerfile.prod', 'app',
    ]);
  });

  it('passes provenance: false through, so buildx makes no attestation', () => {
    const argv = build({ builder: { ...local, secrets: {}, args: {}, provenance: false }, tags: ['a:1'], context: '.', dockerfile: 'Dockerfile', buildx: true });
    assert.deepEqual(argv.slice(argv.indexOf('--provenance'), argv.indexOf('--provenance') + 2), ['--provenance', 'false']);
  });

  it('caches: registry reads and writes its ref (options to the writer); gha has no ref; inline/local keep options both ways; a ref in options is kept as written', () => {
    const with_ = (cache: BuilderConfig['cache']) => ({ ...local, cache });
    assert.deepEqual(cacheFlags(with_({ type: 'registry' }), 'r/app-build-cache'), ['--cache-from', 'type=registry,ref=r/app-build-cache', '--cache-to', 'type=registry,ref=r/app-build-cache']);
    assert.deepEqual(cacheFlags(with_({ type: 'gha', options: 'mode=max' })), ['--cache-from', 'type=gha', '--cache-to', 'type=gha,mode=max']);
    assert.deepEqual(cacheFlags(with_({ type: 'local', options: 'src=/c' })), ['--cache-from', 'type=local,src=/c', '--cache-to', 'type=local,src=/c']);
    assert.deepEqual(cacheFlags(with_({ type: 'registry', options: 'ref=r/acme/app:cache' }), 'r/app-build-cache'), [
      '--cache-from', 'type=registry,ref=r/acme/app:cache', '--cache-to', 'type=registry,ref=r/acme/app:cache',
    ]);
    assert.deepEqual(cacheFlags(local), []);
  });

  it('creates buildx builders: local with a driver, remote at an endpoint, hybrid as a local node plus an appended remote one', () => {
    assert.deepEqual(createLocalBuilder('mrsk-local-docker-container', 'docker-container'), ['docker', 'buildx', 'create', '--name', 'mrsk-local-docker-container', '--driver', 'docker-container']);
    assert.deepEqual(createRemoteBuilder('mrsk-remote', 'ssh://builder@10.0.0.9'), [
      'docker', 'buildx', 'create', '--name', 'mrsk-remote', '--driver', 'docker-container', 'ssh://builder@10.0.0.9',
    ]);
    assert.deepEqual(createHybridBuilder('h', 'docker-container', ['amd64']), ['docker', 'buildx', 'create', '--name', 'h', '--driver', 'docker-container', '--platform', 'linux/amd64']);
    assert.deepEqual(createHybridBuilder('h', 'docker-container', ['amd64'], 'unix:///run/docker.sock').at(-1), 'unix:///run/docker.sock');
    assert.deepEqual(appendToBuilder('h', 'docker-container', ['arm64'], 'ssh://b'), [
      'docker', 'buildx', 'create', '--append', '--name', 'h', '--driver', 'docker-container', '--platform', 'linux/arm64', 'ssh://b',
    ]);
    assert.deepEqual(inspectBuilder('h'), ['docker', 'buildx', 'inspect', 'h']);
  });

  it('names the keys that need buildx', () => {
    assert.deepEqual(buildxOnlyKeys(local), []);
    assert.deepEqual(buildxOnlyKeys({ ...local, driver: 'docker', target: 't' }), []);
    assert.deepEqual(buildxOnlyKeys({ ...local, ssh: 'default', sbom: false, cache: { type: 'gha' }, driver: 'docker-container' }), [
      'builder.ssh', 'builder.sbom', 'builder.cache (type gha)', 'builder.driver (docker-container)',
    ]);
  });
});
