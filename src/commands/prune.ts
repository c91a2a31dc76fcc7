// mrsk prune [all|containers|images]: remove stopped containers and images beyond
// retain_containers, keeping the newest versions for rollback. Only the retention part of the plan runs.
import type { RegisterCommand } from '../cli/program.ts';
import { UsageError } from '../errors.ts';
import { requireHosts } from './common.ts';
import { converge } from './converge.ts';
import { withSession } from './shared/session.ts';

export const register: RegisterCommand = (program, bind) => {
  program
    .command('prune')
    .argument('[what]', 'all | containers | images', 'all')
    .description('remove old stopped containers and their images beyond retain_containers')
    .action(bind(async (ctx, _options, args) => {
      const what = args[0] ?? 'all';
      if (!['all', 'containers', 'images'].includes(what)) throw new UsageError(`prune takes all, containers or images, not "${what}"`);
      return withSession(ctx, async (session) => {
        requireHosts(session.hosts);
        const kinds = what === 'containers' ? ['container-remove'] : what === 'images' ? ['image-remove'] : ['container-remove', 'image-remove'];
        const result = await converge(ctx, session, {
          command: `prune ${what}`,
          ask: false,
          // only pure removals of old versions: never part of a replacement
          keepStep: (step, snapshot) => {
            if (step.symbol !== '-' || !kinds.includes(step.action.kind) || step.address.endsWith('/traefik')) return false;
            const host = snapshot.hosts[step.host];
            const id = step.precondition.containerId;
            // never a running container: prune only clears what is already stopped
            return !id || (host?.status === 'ok' && host.containers.some((c) => c.id === id && c.state !== 'running'));
          },
        });
        ctx.out.info(result.plan.steps.length ? `Pruned on ${result.hosts.length} host(s).` : 'Nothing to prune.');
        return 0;
      });
    }));
};
