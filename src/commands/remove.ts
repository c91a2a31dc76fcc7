// mrsk remove: take the app off its hosts, as a plan (mode destroy) shown before it asks: the
// app's containers and images, its state folder (env files with secrets, drain files, release
// ledger, audit log), and Traefik, the network and the registry login when no other app has
// containers on the host (docker keeps one login per registry for all of them). The lock
// folder goes when the lock is released, and the emptied state folders with it.
import type { RegisterCommand } from '../cli/program.ts';
import { hostPaths } from '../desired/paths.ts';
import { run } from '../apply/remote.ts';
import { shq } from '../shell/quote.ts';
import { requireHosts } from './shared/common.ts';
import { converge } from './converge.ts';
import { lockOptions, parseLockRequest, type LockOptionValues } from './shared/options.ts';
import { withSession } from './shared/session.ts';

export const register: RegisterCommand = (program, bind) => {
  lockOptions(
    program
      .command('remove')
      .description('remove the app from its hosts: containers, images, state; Traefik, the network and the registry login when no other app uses them (shows the plan, asks first)')
      .option('-y, --auto-approve', 'do not ask for confirmation')
      .option('--data', "also delete the accessories' data (their host directories and files); kept by default"),
  ).action(
    bind<LockOptionValues & { autoApprove?: boolean; data?: boolean }>((ctx, options) => {
      const lock = parseLockRequest(options);
      return withSession(ctx, async (session) => {
        requireHosts(session.hosts);
        const { config } = session;
        const root = hostPaths(config.service, config.destination).root;
        const result = await converge(ctx, session, {
          command: 'remove',
          request: {
            mode: 'destroy',
            target: 'app',
            ...(config.registry.username ? { registryLogout: { server: config.registry.server } } : {}),
            // accessories go with the app; their data only with --data (the plan lists what is kept or deleted)
            ...(options.data ? { removeData: true } : {}),
          },
          ask: true,
          question: `Remove ${config.service}${config.destination ? ` (${config.destination})` : ''} from these hosts${
            config.accessories.length === 0 ? '' : options.data ? `, with the accessories ${config.accessories.map((a) => a.name).join(', ')} AND THEIR DATA` : `, with the accessories ${config.accessories.map((a) => a.name).join(', ')} (their data is kept)`
          }?`,
          autoApprove: options.autoApprove,
          lockWait: lock.waitSeconds,
          forceLock: lock.force,
          verb: 'changed',
          // the lock folder was the last thing in the state folder: remove the empty folders
          afterUnlock: async (hosts) => {
            await Promise.all(hosts.map((host) => run(session.remote, host, { script: `rmdir ${shq(root)} 2>/dev/null; rmdir .mrsk 2>/dev/null; true` })));
          },
        });
        const hosts = new Set(result.plan.steps.map((s) => s.host)).size;
        ctx.out.info(hosts ? `Removed ${config.service} from ${hosts} host(s).` : `Nothing of ${config.service} is on the selected hosts.`);
        return result.plan.blockedHosts.length > 0 ? 1 : 0;
      });
    }),
  );
};
