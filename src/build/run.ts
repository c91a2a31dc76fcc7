// Runs the build of one version on the deployer's machine: picks the context (a clean clone of
// HEAD unless builder.context is set), the platforms and the builder (src/build/plan.ts), creates
// a buildx builder instance when one is needed and missing, then builds and pushes.
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { CommandContext } from '../cli/context.ts';
import type { Config } from '../config/types.ts';
import * as docker from '../runtime/index.ts';
import { runLocal, type LocalExec } from '../apply/local.ts';
import { BuilderError } from '../errors.ts';
import { abbreviateVersions } from '../plan/short-version.ts';
import { cleanClone, type CleanClone } from './clone.ts';
import { localArch, planBuild, type BuildPlan } from './plan.ts';

export interface BuildImageOptions {
  /** The checked builder's environment (DOCKER_HOST=builder.remote when set) and whether buildx is installed. */
  readonly builder: { readonly env: NodeJS.ProcessEnv; readonly buildx: boolean };
  /** Architecture of each target host (from the probe). */
  readonly hostArches: Readonly<Record<string, string | undefined>>;
  readonly exec: LocalExec;
  readonly signal?: AbortSignal;
  /** This machine's architecture (default: the one node runs on); tests set it. */
  readonly localArch?: string;
}

/** The registry cache image of builder.cache.type registry: cache.image (with registry.server in front when it has no registry), else <image>-build-cache. */
export function cacheImage(config: Config): string | undefined {
  const cache = config.builder.cache;
  if (!cache || cache.type !== 'registry') return undefined;
  if (cache.image === undefined) return `${config.image}-build-cache`;
  const server = config.registry.server;
  return server && !cache.image.startsWith(`${server}/`) && !/^[^/]+[.:][^/]*\//.test(cache.image) ? `${server}/${cache.image}` : cache.image;
}

/** Builds `ref` and pushes it. Returns the plan it followed (for tests and messages). */
export async function buildImage(ctx: CommandContext, config: Config, ref: string, options: BuildImageOptions): Promise<BuildPlan> {
  const { exec, signal } = options;
  const plan = planBuild({ builder: config.builder, hostArches: options.hostArches, localArch: options.localArch ?? localArch(), buildx: options.builder.buildx });
  // builder.remote builds only what this machine does not run (Kamal 2): the rest uses this machine's daemon
  const env: NodeJS.ProcessEnv = { ...options.builder.env };
  if (plan.strategy !== 'remote' && config.builder.remote !== undefined) {
    if (process.env.DOCKER_HOST === undefined) delete env.DOCKER_HOST;
    else env.DOCKER_HOST = process.env.DOCKER_HOST;
    const here = await exec(docker.builderServerVersion(), { env, timeoutMs: 30_000, signal });
    if (here.code !== 0) {
      throw new BuilderError(
        `this machine builds ${plan.localPlatforms.join(', ')} itself (builder.remote only builds the platforms it does not run), but its Docker daemon does not answer` +
          `${here.stderr.trim() ? `: ${here.stderr.trim().split('\n').pop()}` : ''}. Start Docker here, or set builder.local: false to build everything on builder.remote.`,
      );
    }
  }

  let clone: CleanClone | undefined;
  let context: string;
  let from: string;
  if (config.builder.context !== undefined) {
    context = resolve(config.root, config.builder.context);
    from = `from ${config.builder.context} (builder.context, the work tree as it is)`;
  } else {
    clone = await cleanClone(config.root, config.service, signal);
    if (clone) {
      context = clone.root;
      from = `from a clean clone of HEAD ${clone.head.slice(0, 12)}`;
      if (clone.dirty) {
        ctx.out.warn(`Uncommitted changes and untracked files are not in the image: it is built from a clean clone of HEAD ${clone.head.slice(0, 12)} (Kamal's rule). Commit them, or set builder.context: "." to build the work tree as it is.`);
      }
    } else {
      context = config.root;
      from = 'from the project folder (not a git repository, so there is no commit to clone)';
    }
  }
  try {
    // A Dockerfile path is taken from the project root when it is there, else from the build context.
    const rootDir = clone ? clone.root : config.root;
    const dockerfile = isAbsolute(config.builder.dockerfile)
      ? config.builder.dockerfile
      : existsSync(resolve(rootDir, config.builder.dockerfile)) ? resolve(rootDir, config.builder.dockerfile) : join(context, config.builder.dockerfile);
    ctx.out.info(`Building ${abbreviateVersions(ref)} ${plan.summary}, ${from}…`);

    if (plan.builderName !== undefined && plan.create.length > 0) {
      const inspected = await exec(docker.inspectBuilder(plan.builderName), { env, signal });
      if (inspected.code !== 0) {
        ctx.out.info(`Creating the buildx builder ${plan.builderName}`);
        for (const argv of plan.create) await runLocal(argv, { env, secrets: config.secrets, signal }, exec);
      }
    }
    const argv = docker.build({
      builder: config.builder,
      tags: [ref],
      labels: { service: config.service },
      context,
      dockerfile,
      buildx: plan.buildx,
      platforms: plan.buildx ? plan.platforms : undefined,
      ...(plan.builderName !== undefined ? { builderName: plan.builderName } : {}),
      ...(cacheImage(config) !== undefined ? { cacheImage: cacheImage(config)! } : {}),
    });
    await runLocal(argv, {
      env: { ...env, ...docker.buildSecretEnv(config.builder) },
      cwd: config.root,
      secrets: config.secrets,
      signal,
      onOutput: (chunk) => ctx.out.debug(chunk.trimEnd()),
    }, exec);
    if (!plan.buildx) await runLocal(docker.push(ref), { env, secrets: config.secrets, signal }, exec);
    return plan;
  } finally {
    await clone?.remove();
  }
}
