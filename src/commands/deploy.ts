// mrsk deploy / redeploy: build and push the image of this version, log the hosts in to the
// registry, then converge them to it (lock → probe → plan → apply → audit).
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { RegisterCommand } from '../cli/program.ts';
import type { CommandContext } from '../cli/context.ts';
import type { Config } from '../config/types.ts';
import { resolveVersion } from '../config/version.ts';
import * as docker from '../docker/index.ts';
import { runLocal, runLocalRaw } from '../apply/local.ts';
import { run } from '../apply/remote.ts';
import { UsageError } from '../errors.ts';
import { openSession, requireHosts, type Session } from './common.ts';
import { converge } from './converge.ts';

interface DeployOptions {
  skipPush?: boolean;
  version?: string;
  lockWait?: string;
  force?: boolean;
}

/** Environment for local docker commands: builder.remote as DOCKER_HOST, legacy builder when buildx is missing. */
async function localDockerEnv(config: Config): Promise<{ env: NodeJS.ProcessEnv; buildx: boolean }> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (config.builder.remote && /^(unix|tcp|ssh):\/\//.test(config.builder.remote)) env.DOCKER_HOST = config.builder.remote;
  const buildx = (await runLocalRaw(['docker', 'buildx', 'version'], { env })).code === 0;
  // Without buildx the docker CLI only builds with the legacy builder, and only when told so.
  if (!buildx) env.DOCKER_BUILDKIT = '0';
  return { env, buildx };
}

export async function loginLocally(ctx: CommandContext, config: Config, env: NodeJS.ProcessEnv): Promise<void> {
  const { server, username, password } = config.registry;
  if (!username || !password) return;
  await runLocal(docker.login(server, username), { env, stdin: password.reveal(), secrets: config.secrets });
  ctx.out.info(`Logged in to ${server ?? 'Docker Hub'} locally as ${username}`);
}

export async function loginOnHosts(ctx: CommandContext, session: Session, hosts: readonly string[]): Promise<void> {
  const { server, username, password } = session.config.registry;
  if (!username || !password) return;
  await Promise.all(hosts.map((host) => run(session.remote, host, docker.login(server, username), { stdin: password.reveal() })));
  ctx.out.info(`Logged in to ${server ?? 'Docker Hub'} on ${hosts.length} host(s)`);
}

export async function buildAndPush(ctx: CommandContext, config: Config, version: string): Promise<void> {
  const { env, buildx } = await localDockerEnv(config);
  const wantsMultiarch = config.builder.multiarch || config.builder.arch.length > 0;
  if (wantsMultiarch && !buildx) {
    throw new UsageError('builder.multiarch / builder.arch need `docker buildx`, which is not installed here: install the buildx plugin, or remove those keys to build for this machine’s architecture');
  }
  await loginLocally(ctx, config, env);
  const ref = `${config.image}:${version}`;
  const started = Date.now();
  ctx.out.info(`Building ${ref}${wantsMultiarch ? ` for ${config.builder.arch.join(', ') || 'several architectures'}` : ''}…`);
  // A Dockerfile path is taken from the project root when it is there, else from the build context.
  const dockerfile = isAbsolute(config.builder.dockerfile) || existsSync(resolve(config.root, config.builder.dockerfile))
    ? config.builder.dockerfile
    : join(config.builder.context, config.builder.dockerfile);
  const argv = docker.build({ builder: { ...config.builder, dockerfile }, tags: [ref], labels: { service: config.service } });
  await runLocal(argv, {
    env: { ...env, ...docker.buildSecretEnv(config.builder) },
    cwd: config.root,
    secrets: config.secrets,
    onOutput: (chunk) => ctx.out.debug(chunk.trimEnd()),
  });
  if (!wantsMultiarch) await runLocal(docker.push(ref), { env, secrets: config.secrets });
  ctx.out.info(`Built and pushed ${ref} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

async function deploy(ctx: CommandContext, options: DeployOptions, mode: 'deploy' | 'redeploy'): Promise<number> {
  const session = await openSession(ctx);
  try {
    requireHosts(session.hosts);
    const version = await resolveVersion({ explicit: options.version, env: process.env, cwd: session.config.root });
    ctx.out.info(`${mode === 'deploy' ? 'Deploying' : 'Redeploying'} ${session.config.service} ${version} to ${session.hosts.join(', ')}`);
    if (!options.skipPush) await buildAndPush(ctx, session.config, version);
    if (mode === 'deploy') await loginOnHosts(ctx, session, session.hosts);
    const result = await converge(ctx, session, {
      command: `${mode} ${version}`,
      version,
      ask: false,
      lockWait: options.lockWait ? Number(options.lockWait) : undefined,
      forceLock: options.force,
      // redeploy skips first-time work: Traefik is expected to run already
      keepStep: mode === 'redeploy' ? (step) => step.action.kind !== 'traefik-run' : undefined,
    });
    ctx.out.info(
      `${mode === 'deploy' ? 'Deployed' : 'Redeployed'} ${session.config.service} ${version} to ${result.hosts.length} host(s) in ${(result.ms / 1000).toFixed(1)}s` +
        (result.plan.blockedHosts.length ? `; ${result.plan.blockedHosts.length} host(s) could not be reached` : ''),
    );
    return result.plan.blockedHosts.length > 0 ? 1 : 0;
  } finally {
    await session.close();
  }
}

export const register: RegisterCommand = (program, bind) => {
  for (const mode of ['deploy', 'redeploy'] as const) {
    program
      .command(mode)
      .description(
        mode === 'deploy'
          ? 'build, push and roll out a new version with zero downtime (registry login, Traefik, app)'
          : 'like deploy, without the first-time steps (registry login on hosts, Traefik boot)',
      )
      .option('--skip-push', 'deploy an image that is already in the registry')
      .option('--version <version>', 'version to deploy (default: VERSION, else git HEAD)')
      .option('--lock-wait <seconds>', 'wait this long for a held deploy lock')
      .option('--force', 'take over a deploy lock whose lease ran out')
      .action(bind<DeployOptions>((ctx, options) => deploy(ctx, options, mode)));
  }
};
