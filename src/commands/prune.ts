// mrsk prune [all|containers|images]: remove stopped containers beyond retain_containers
// (keeping the newest versions for rollback) and images of the app no container uses. A plan
// like any other (mode prune): shown first, run under the lock, audited.
import type { RegisterCommand } from '../cli/program.ts';
import { UsageError } from '../errors.ts';
import { requireHosts } from './shared/common.ts';
import { converge } from './converge.ts';
import { withSession } from './shared/session.ts';

export const register: RegisterCommand = (program, bind) => {
  program
    .command('prune')
    .argument('[what]', 'all | containers | images', 'all')
    .description('remove old stopped containers beyond retain_containers and images no container uses (shows the plan first)')
    .action(bind(async (ctx, _options, args) => {
      const what = args[0] ?? 'all';
      if (!['all', 'containers', 'images'].includes(what)) throw new UsageError(`prune takes all, containers or images, not "${what}"`);
      return withSession(ctx, async (session) => {
        requireHosts(session.hosts);
        const result = await converge(ctx, session, {
          command: `prune ${what}`,
          ask: false,
          request: { mode: 'prune', prune: { containers: what !== 'images', images: what !== 'containers' } },
        });
        ctx.out.info(result.plan.steps.length ? `Pruned on ${new Set(result.plan.steps.map((s) => s.host)).size} host(s).` : 'Nothing to prune.');
        return 0;
      }, { app: true });
    }));
};
