// mrsk registry login|logout: log this machine (for builds and pushes) and the hosts (for pulls)
// in to, or out of, the configured registry. The password travels on stdin only.
import type { RegisterCommand } from '../cli/program.ts';
import type { CommandContext } from '../cli/context.ts';
import * as docker from '../runtime/index.ts';
import { LOCAL_RUNTIME } from '../runtime/build.ts';
import { runLocal } from '../apply/local.ts';
import { resolveRuntime, run } from '../apply/remote.ts';
import { UsageError } from '../errors.ts';
import { combinedExitCode, runPerHost } from '../ops/hosts.ts';
import { formatSummary } from '../views/hosts.ts';
import { printSections } from './shared/per-host.ts';
import { requireHosts } from './shared/common.ts';
import { withSession } from './shared/session.ts';

interface RegistryOptions {
  skipLocal?: boolean;
  skipRemote?: boolean;
}

async function registry(ctx: CommandContext, options: RegistryOptions, action: 'login' | 'logout'): Promise<number> {
  return withSession(ctx, async (session) => {
    const { server, username, password } = session.config.registry;
    const where = server ?? 'Docker Hub';
    if (action === 'login' && (!username || !password)) {
      throw new UsageError('registry.username and registry.password are not configured: nothing to log in with');
    }
    if (!options.skipLocal) {
      const argv = action === 'login' ? docker.login(LOCAL_RUNTIME, server, username!) : docker.logout(LOCAL_RUNTIME, server);
      await runLocal(argv, { stdin: action === 'login' ? password!.reveal() : undefined, secrets: session.config.secrets, signal: ctx.signal });
      ctx.out.info(`${action === 'login' ? `Logged in to ${where} as ${username}` : `Logged out of ${where}`} locally`);
    }
    if (options.skipRemote) return 0;
    requireHosts(session.hosts);
    const outcomes = await runPerHost(
      session.hosts,
      async (host) => {
        if (action === 'login') await run(session.remote, host, docker.login(await resolveRuntime(session.remote, host), server, username!), { stdin: password!.reveal() });
        else await run(session.remote, host, docker.logout(await resolveRuntime(session.remote, host), server));
        return { host, ok: true, output: action === 'login' ? `logged in to ${where} as ${username}` : `logged out of ${where}` };
      },
      printSections(ctx, 'Registry'),
    );
    const summary = formatSummary(outcomes);
    if (summary && outcomes.some((o) => !o.ok)) ctx.out.info(summary.trimEnd());
    return combinedExitCode(outcomes);
  });
}

export const register: RegisterCommand = (program, bind) => {
  const command = program.command('registry').description('log in to or out of the image registry, here and on the hosts');
  for (const action of ['login', 'logout'] as const) {
    command
      .command(action)
      .description(action === 'login' ? 'docker login here and on every selected host (password on stdin)' : 'docker logout here and on every selected host')
      .option('-L, --skip-local', 'not on this machine')
      .option('-R, --skip-remote', 'not on the hosts')
      .action(bind<RegistryOptions>((ctx, options) => registry(ctx, options, action)));
  }
};
