// Builders for building the app image from BuilderConfig (run on the deployer's machine).
import type { BuilderConfig } from '../config/types.ts';
import { type Argv, keyValueFlags } from './argv.ts';

/** What to build: the builder settings plus the tags and labels of this version. */
export interface BuildRequest {
  readonly builder: BuilderConfig;
  /** Full references, e.g. `registry/acme/app:abc123` and `…:latest`. */
  readonly tags: readonly string[];
  readonly labels?: Readonly<Record<string, string>>;
  /** buildx builder instance to use (e.g. one created for builder.remote). */
  readonly builderName?: string;
}

/**
 * `docker build` for a local single-arch build, or `docker buildx build --platform … --push` when
 * architectures are given (multi-arch images can only be pushed, not loaded). Build secrets are
 * passed as `--secret id=NAME,env=NAME`: docker reads the value from its own environment (see
 * buildSecretEnv), so it is never on argv.
 */
export function build(request: BuildRequest): Argv {
  const { builder } = request;
  const useBuildx = builder.multiarch || builder.arch.length > 0 || request.builderName !== undefined;
  const argv = useBuildx ? ['docker', 'buildx', 'build'] : ['docker', 'build'];
  if (useBuildx) {
    argv.push('--push');
    if (builder.arch.length > 0) argv.push('--platform', builder.arch.map((arch) => `linux/${arch}`).join(','));
    if (request.builderName !== undefined) argv.push('--builder', request.builderName);
  }
  for (const ref of request.tags) argv.push('-t', ref);
  argv.push(...keyValueFlags('--label', request.labels ?? {}));
  argv.push(...keyValueFlags('--build-arg', builder.args));
  for (const name of Object.keys(builder.secrets).sort()) argv.push('--secret', `id=${name},env=${name}`);
  if (builder.cache) {
    const cache = `type=${builder.cache.type}${builder.cache.options ? `,${builder.cache.options}` : ''}`;
    argv.push('--cache-from', cache, '--cache-to', cache);
  }
  argv.push('--file', builder.dockerfile, builder.context);
  return argv;
}

/**
 * Environment for the build process: the build secrets by name, as `--secret …,env=NAME` expects.
 * Merge it into the local docker process's env only; it must never be logged.
 */
export function buildSecretEnv(builder: BuilderConfig): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, secret] of Object.entries(builder.secrets)) env[name] = secret.reveal();
  return env;
}

/** `docker buildx create` of a builder that runs on a remote docker host (builder.remote). */
export function createRemoteBuilder(name: string, remote: string): Argv {
  return ['docker', 'buildx', 'create', '--name', name, '--driver', 'docker-container', remote];
}

/** `docker version` of the daemon the docker CLI talks to: fails fast when that daemon cannot be reached. */
export function builderServerVersion(): Argv {
  return ['docker', 'version', '--format', '{{.Server.Version}}'];
}

/** Whether the buildx plugin is installed (exit 0). */
export function buildxVersion(): Argv {
  return ['docker', 'buildx', 'version'];
}
