// mrsk deploy / redeploy: check the builder, read the hosts, then build and push the image of
// this version while the hosts are logged in to the registry and locked; then converge them to
// it (probe under the lock → plan → apply → audit). A host that cannot be used stops the deploy
// before the build starts; a failed login or lock stops the build.
import type { RegisterCommand } from '../cli/program.ts';
import type { CommandContext } from '../cli/context.ts';
import { resolveVersion } from '../config/version.ts';
import { requireHosts } from './shared/common.ts';
import { shortVersion } from '../plan/short-version.ts';
import { deployedSummary, deployTo, unexpectedlyBlocked } from './shared/deploy.ts';
import { lockOptions, parseLockRequest, type LockOptionValues } from './shared/options.ts';
import { withSession } from './shared/session.ts';

interface DeployOptions extends LockOptionValues {
  skipPush?: boolean;
  skipUnreachable?: boolean;
  version?: string;
  skipHooks?: boolean;
  takeover?: boolean;
}

async function deploy(ctx: CommandContext, options: DeployOptions, mode: 'deploy' | 'redeploy'): Promise<number> {
  const started = Date.now();
  const lock = parseLockRequest(options);
  return withSession(ctx, async (session) => {
    requireHosts(session.hosts);
    const version = await resolveVersion({ explicit: options.version, env: process.env, cwd: session.config.root });
    ctx.out.info(`${mode === 'deploy' ? 'Deploying' : 'Redeploying'} ${session.config.service} ${shortVersion(version)} to ${session.hosts.join(', ')}`);
    const result = await deployTo(ctx, session, {
      mode,
      version,
      skipPush: options.skipPush,
      lockWait: lock.waitSeconds,
      force: lock.force,
      skipUnreachable: options.skipUnreachable,
      skipHooks: options.skipHooks,
      ...(mode === 'deploy' ? { takeover: options.takeover } : {}),
    });
    ctx.out.info(`${mode === 'deploy' ? 'Deployed' : 'Redeployed'} ${session.config.service} ${shortVersion(version)} to ${deployedSummary(result, started)}`);
    return unexpectedlyBlocked(result) > 0 ? 1 : 0;
  }, { app: true });
}

export const register: RegisterCommand = (program, bind) => {
  for (const mode of ['deploy', 'redeploy'] as const) {
    const command = program
      .command(mode)
      .description(
        mode === 'deploy'
          ? 'build, push and roll out a new version with zero downtime (registry login, Traefik, app)'
          : 'like deploy, without the first-time steps (registry login on hosts, Traefik boot)',
      )
      .option('--skip-push', 'deploy an image that is already in the registry')
      .option('--version <version>', 'version to deploy (default: VERSION, else git HEAD)');
    lockOptions(command)
      .option('--skip-unreachable', 'deploy the hosts that can be used and record the others as behind (default: any such host stops the deploy)')
      .option('-H, --skip-hooks', 'run none of the hooks (.kamal/hooks or .mrsk/hooks: pre-connect, pre-build, pre-deploy, post-deploy)');
    // redeploy never touches Traefik, so it cannot take a Kamal host over
    if (mode === 'deploy') command.option('--takeover', "on hosts Kamal runs, replace Kamal's traefik (HTTP fails for a few seconds; see mrsk plan)");
    command.action(bind<DeployOptions>((ctx, options) => deploy(ctx, options, mode)));
  }
};
