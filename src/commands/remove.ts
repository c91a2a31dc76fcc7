// mrsk remove: take the app off its hosts — app containers, their images, the secrets and
// state folder, the registry login, and Traefik and the network when no other app uses them.
import type { RegisterCommand } from '../cli/program.ts';
import * as docker from '../docker/index.ts';
import { isManagedTraefik, isOwnedBy } from '../plan/diff.ts';
import { hostPaths } from '../desired/paths.ts';
import { withLock } from '../apply/lock.ts';
import { run, tryRun } from '../apply/remote.ts';
import { shq } from '../ssh/quote.ts';
import { confirm, openSession, probe, reachable, requireHosts } from './common.ts';

export const register: RegisterCommand = (program, bind) => {
  program
    .command('remove')
    .description('remove the app from its hosts: containers, images, Traefik, network, registry login')
    .option('-y, --auto-approve', 'do not ask for confirmation')
    .action(bind<{ autoApprove?: boolean }>(async (ctx, options) => {
      const session = await openSession(ctx);
      try {
        requireHosts(session.hosts);
        const { config } = session;
        const snapshot = await probe(session);
        const hosts = reachable(snapshot);
        for (const h of Object.values(snapshot.hosts)) if (h.status !== 'ok') ctx.out.warn(`${h.host}: ${h.message} — left as it is`);
        const appContainers = new Map(hosts.map((host) => [host.host, host.containers.filter((c) => isOwnedBy(c, config.service, config.destination))]));
        for (const host of hosts) {
          ctx.out.print(`${host.host}: ${appContainers.get(host.host)!.length} app container(s)${host.containers.some(isManagedTraefik) ? ', Traefik' : ''}`);
        }
        await confirm(ctx, `Remove ${config.service}${config.destination ? ` (${config.destination})` : ''} from ${hosts.length} host(s)?`, options.autoApprove);
        const paths = hostPaths(config.service, config.destination);
        // The lock lives in the folder being removed, so it is released before the folder goes.
        await withLock(session.remote, hosts.map((h) => h.host), { service: config.service, destination: config.destination, command: 'remove' }, async () => {
          await Promise.all(
            hosts.map(async (host) => {
              const mine = appContainers.get(host.host)!;
              for (const c of mine) await run(session.remote, host.host, docker.removeContainer(c.id, { force: true }));
              const images = [...new Set(mine.map((c) => c.image))];
              for (const image of images) await tryRun(session.remote, host.host, docker.removeImage(image));
              // Traefik and the network are shared: only removed when no other mrsk app is left on the host.
              const others = await run(session.remote, host.host, docker.listContainerIds({ label: 'mrsk.service' }, { all: true }));
              if (others.stdout.trim() === '') {
                const traefik = host.containers.find(isManagedTraefik);
                if (traefik) {
                  await run(session.remote, host.host, docker.removeContainer(traefik.id, { force: true }));
                  await tryRun(session.remote, host.host, docker.removeImage(traefik.image));
                }
                await tryRun(session.remote, host.host, docker.removeNetwork('mrsk'));
              }
              if (config.registry.username) await tryRun(session.remote, host.host, docker.logout(config.registry.server));
              ctx.out.info(`${host.host}: removed ${mine.length} container(s)`);
            }),
          );
        });
        // Clean means clean: secrets, drain files, release ledger and audit log go with the app.
        await Promise.all(hosts.map((h) => run(session.remote, h.host, { script: `rm -rf ${shq(paths.root)}; rmdir .mrsk 2>/dev/null || true` })));
        ctx.out.info(`Removed ${config.service} from ${hosts.length} host(s).`);
        return 0;
      } finally {
        await session.close();
      }
    }));
};
