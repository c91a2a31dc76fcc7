// Builders for building the app image from BuilderConfig (run on the deployer's machine).
import type { BuilderConfig } from '../config/types.ts';
import { type Argv, keyValueFlags } from './argv.ts';
import type { RuntimeName } from './runtime.ts';

/** What to build: the builder settings plus where, for which platforms, and the tags of this version. */
export interface BuildRequest {
  readonly builder: BuilderConfig;
  /** Full references, e.g. `registry/acme/app:abc123` and `…:latest`. */
  readonly tags: readonly string[];
  readonly labels?: Readonly<Record<string, string>>;
  /** The folder sent as build context (a clean clone of HEAD, or builder.context). */
  readonly context: string;
  /** The Dockerfile as given to --file (resolved by the caller). */
  readonly dockerfile: string;
  /**
   * `docker buildx build --push` (true) or `docker build` (false: pushed afterwards with `docker
   * push`). Platforms, a named builder, --ssh, attestations and registry/gha caches need buildx.
   */
  readonly buildx: boolean;
  /** Architectures in docker's words (amd64, arm64); given only to buildx, as `--platform linux/…`. */
  readonly platforms?: readonly string[];
  /** buildx builder instance to use (mrsk-local-…, mrsk-remote-…, mrsk-hybrid-…). */
  readonly builderName?: string;
  /** Registry cache reference (builder.cache.type registry), resolved by the caller. */
  readonly cacheImage?: string;
}

/**
 * `docker build` for a build with the daemon's own builder, or `docker buildx build --push` (a
 * multi-platform image can only be pushed, not loaded). Build secrets are passed as
 * `--secret id=NAME,env=NAME`: docker reads the value from its own environment (see
 * buildSecretEnv), so it is never on argv.
 */
export function build(request: BuildRequest): Argv {
  const { builder } = request;
  const argv = request.buildx ? ['docker', 'buildx', 'build', '--push'] : ['docker', 'build'];
  if (request.buildx) {
    if (request.platforms && request.platforms.length > 0) argv.push('--platform', platformList(request.platforms));
    if (request.builderName !== undefined) argv.push('--builder', request.builderName);
  }
  for (const ref of request.tags) argv.push('-t', ref);
  argv.push(...keyValueFlags('--label', request.labels ?? {}));
  argv.push(...keyValueFlags('--build-arg', builder.args));
  for (const name of Object.keys(builder.secrets).sort()) argv.push('--secret', `id=${name},env=${name}`);
  if (builder.target !== undefined) argv.push('--target', builder.target);
  if (builder.ssh !== undefined) argv.push('--ssh', builder.ssh);
  if (builder.provenance !== undefined) argv.push('--provenance', String(builder.provenance));
  if (builder.sbom !== undefined) argv.push('--sbom', String(builder.sbom));
  argv.push(...cacheFlags(builder, request.cacheImage));
  argv.push('--file', request.dockerfile, request.context);
  return argv;
}

/**
 * --cache-from / --cache-to. registry: reads and writes `ref=<cache image>` (options go to the
 * writer only, e.g. mode=max); gha: the same without a ref; inline and local keep their options on
 * both sides. A registry cache whose options already name a ref= gets no second one.
 */
export function cacheFlags(builder: BuilderConfig, cacheImage?: string): string[] {
  const cache = builder.cache;
  if (!cache) return [];
  const options = cache.options ? `,${cache.options}` : '';
  if (cache.type === 'registry' && cacheImage !== undefined && !/(^|,)ref=/.test(cache.options ?? '')) {
    return ['--cache-from', `type=registry,ref=${cacheImage}`, '--cache-to', `type=registry${options},ref=${cacheImage}`];
  }
  if (cache.type === 'gha') return ['--cache-from', 'type=gha', '--cache-to', `type=gha${options}`];
  return ['--cache-from', `type=${cache.type}${options}`, '--cache-to', `type=${cache.type}${options}`];
}

/** Why a build needs buildx: the config keys that only buildx understands (empty: `docker build` will do). */
export function buildxOnlyKeys(builder: BuilderConfig): string[] {
  const keys: string[] = [];
  if (builder.ssh !== undefined) keys.push('builder.ssh');
  if (builder.provenance !== undefined) keys.push('builder.provenance');
  if (builder.sbom !== undefined) keys.push('builder.sbom');
  if (builder.cache && ['registry', 'gha'].includes(builder.cache.type)) keys.push(`builder.cache (type ${builder.cache.type})`);
  if (builder.driver !== undefined && builder.driver !== 'docker') keys.push(`builder.driver (${builder.driver})`);
  return keys;
}

/** `linux/amd64,linux/arm64`. */
export function platformList(arches: readonly string[]): string {
  return arches.map((arch) => `linux/${arch}`).join(',');
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

/** `docker buildx inspect NAME`: exit 0 when the builder instance exists. */
export function inspectBuilder(name: string): Argv {
  return ['docker', 'buildx', 'inspect', name];
}

/** A buildx builder on this machine's daemon (builder.driver other than docker). */
export function createLocalBuilder(name: string, driver: string): Argv {
  return ['docker', 'buildx', 'create', '--name', name, '--driver', driver];
}

/** `docker buildx create` of a builder that runs on a remote docker host (builder.remote). */
export function createRemoteBuilder(name: string, remote: string, driver = 'docker-container'): Argv {
  return ['docker', 'buildx', 'create', '--name', name, '--driver', driver, remote];
}

/**
 * A hybrid builder: one node here for the local platforms (endpoint: builder.local.host, else the
 * current docker endpoint), then appendToBuilder adds the remote node for the others.
 */
export function createHybridBuilder(name: string, driver: string, localPlatforms: readonly string[], localEndpoint?: string): Argv {
  return ['docker', 'buildx', 'create', '--name', name, '--driver', driver, '--platform', platformList(localPlatforms), ...(localEndpoint ? [localEndpoint] : [])];
}

/** Adds a node at `endpoint` building `platforms` to the builder NAME. */
export function appendToBuilder(name: string, driver: string, platforms: readonly string[], endpoint: string): Argv {
  return ['docker', 'buildx', 'create', '--append', '--name', name, '--driver', driver, '--platform', platformList(platforms), endpoint];
}

/** `docker version` of the daemon the docker CLI talks to: fails fast when that daemon cannot be reached. */
export function builderServerVersion(): Argv {
  return ['docker', 'version', '--format', '{{.Server.Version}}'];
}

/** Whether the buildx plugin is installed (exit 0). */
export function buildxVersion(): Argv {
  return ['docker', 'buildx', 'version'];
}

/** The runtime of the machine mrsk runs on, which builds and pushes images: Docker (buildx or the legacy builder). */
export const LOCAL_RUNTIME: RuntimeName = 'docker';
