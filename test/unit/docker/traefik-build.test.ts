import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BuilderConfig } from '../../../src/config/types.ts';
import type { TraefikSpec } from '../../../src/desired/types.ts';
import { build, buildSecretEnv, createRemoteBuilder, runTraefik, traefikApi } from '../../../src/docker/index.ts';
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
    assert.deepEqual(runTraefik(spec), [
      'docker', 'run', '-d', '--name', 'traefik', '--network', 'mrsk', '--restart', 'unless-stopped',
      '-p', '80:80', '-p', '127.0.0.1:8080:8080',
      '-v', '/var/run/docker.sock:/var/run/docker.sock',
      '--label', 'mrsk.managed=true', '--label', 'mrsk.traefik-spec-hash=v1:aa',
      '--log-opt', 'max-size=10m',
      'traefik:v3.6',
      '--providers.docker=true', '--providers.docker.exposedByDefault=false', '--api.insecure=true',
    ]);
  });

  it("reads Traefik's API from inside its container with wget", () => {
    assert.deepEqual(traefikApi('/api/http/services/app-web@docker'), [
      'docker', 'exec', 'traefik', 'wget', '-q', '-O', '-', 'http://127.0.0.1:8080/api/http/services/app-web@docker',
    ]);
  });
});

describe('build builders', () => {
  const local: BuilderConfig = {
    multiarch: false,
    arch: [],
    context: '.',
    dockerfile: 'Dockerfile',
    args: { RUBY_VERSION: '3.3', APP_ENV: 'production' },
    secrets: { GITHUB_TOKEN: new Secret('GITHUB_TOKEN', 'ghp_supersecret') },
  };

  it('builds locally with tags, labels, sorted build args and secrets by env name', () => {
    assert.deepEqual(build({ builder: local, tags: ['r/acme/app:v1', 'r/acme/app:latest'], labels: { service: 'app' } }), [
      'docker', 'build', '-t', 'r/acme/app:v1', '-t', 'r/acme/app:latest', '--label', 'service=app',
      '--build-arg', 'APP_ENV=production', '--build-arg', 'RUBY_VERSION=3.3',
      '--secret', 'id=GITHUB_TOKEN,env=GITHUB_TOKEN',
      '--file', 'Dockerfile', '.',
    ]);
  });

  it('keeps build secret values off argv and hands them over as environment', () => {
    const argv = build({ builder: local, tags: ['a:1'] });
    assert.ok(!argv.join(' ').includes('ghp_supersecret'));
    assert.deepEqual(buildSecretEnv(local), { GITHUB_TOKEN: 'ghp_supersecret' });
  });

  it('uses buildx with platforms, push, a named builder and cache for multi-arch builds', () => {
    const multi: BuilderConfig = {
      ...local, multiarch: true, arch: ['amd64', 'arm64'], args: {}, secrets: {},
      context: 'app', dockerfile: 'app/Dockerfile.prod', cache: { type: 'registry', options: 'ref=r/acme/app:cache' },
    };
    assert.deepEqual(build({ builder: multi, tags: ['r/acme/app:v1'], builderName: 'mrsk-remote' }), [
      'docker', 'buildx', 'build', '--push', '--platform', 'linux/amd64,linux/arm64', '--builder', 'mrsk-remote',
      '-t', 'r/acme/app:v1',
      '--cache-from', 'type=registry,ref=r/acme/app:cache', '--cache-to', 'type=registry,ref=r/acme/app:cache',
      '--file', 'app/Dockerfile.prod', 'app',
    ]);
  });

  it('creates a remote buildx builder', () => {
    assert.deepEqual(createRemoteBuilder('mrsk-remote', 'ssh://builder@10.0.0.9'), [
      'docker', 'buildx', 'create', '--name', 'mrsk-remote', '--driver', 'docker-container', 'ssh://builder@10.0.0.9',
    ]);
  });
});
