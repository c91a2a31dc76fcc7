// mrsk details: Traefik and the app's running containers on every selected host, as docker ps
// shows them, filtered to this service. Each host is read once, both lists in turn over its one
// connection (a fleet larger than ssh.max_concurrent would otherwise connect to every host twice);
// the sections still print as Traefik's for every host, then the app's, each as soon as it and
// those before it are known.
import type { RegisterCommand } from '../cli/program.ts';
import { combinedExitCode, failedOutcome, InOrderRelease, type HostOutcome } from '../ops/hosts.ts';
import type { PsEntry } from '../ops/docker-ps.ts';
import { appPs, psOutcome, traefikHosts, traefikPs } from './shared/details.ts';
import { requireHosts } from './shared/common.ts';
import { printSections } from './shared/per-host.ts';
import { withSession } from './shared/session.ts';

export const register: RegisterCommand = (program, bind) => {
  program
    .command('details')
    .description('Traefik and app containers on each host (docker ps, this service only)')
    .option('--json', 'print JSON')
    .action(bind<{ json?: boolean }>(async (ctx, options) => {
      return withSession(ctx, async (session) => {
        requireHosts(session.hosts);
        const json = Boolean(options.json);
        const withTraefik = traefikHosts(session);
        // positions: Traefik's sections first (its hosts in order), then the app's (every host)
        const release = new InOrderRelease<{ title: 'Traefik' | 'App'; outcome: HostOutcome<PsEntry[]> }>(withTraefik.length + session.hosts.length);
        const traefik: HostOutcome<PsEntry[]>[] = new Array(withTraefik.length);
        const app: HostOutcome<PsEntry[]>[] = new Array(session.hosts.length);
        const printers = { Traefik: printSections(ctx, 'Traefik'), App: printSections(ctx, 'App') };
        const settle = (position: number, title: 'Traefik' | 'App', outcome: HostOutcome<PsEntry[]>) => {
          for (const ready of release.add(position, { title, outcome })) if (!json) printers[ready.title](ready.outcome);
        };
        const list = (host: string, ps: () => Promise<PsEntry[]>): Promise<HostOutcome<PsEntry[]>> =>
          ps().then((entries) => psOutcome(ctx, host, entries), (error: unknown) => failedOutcome(host, error));
        await Promise.all(
          session.hosts.map(async (host, index) => {
            const traefikIndex = withTraefik.indexOf(host);
            if (traefikIndex >= 0) settle(traefikIndex, 'Traefik', (traefik[traefikIndex] = await list(host, () => traefikPs(session, host))));
            settle(withTraefik.length + index, 'App', (app[index] = await list(host, () => appPs(session, host))));
          }),
        );
        if (json) {
          ctx.out.printJson({
            hosts: Object.fromEntries(
              session.hosts.map((host) => {
                const t = traefik.find((o) => o.host === host);
                const a = app.find((o) => o.host === host)!;
                return [
                  host,
                  {
                    ...(t ? (t.ok ? { traefik: t.data } : { traefikError: t.problem }) : {}),
                    ...(a.ok ? { app: a.data } : { appError: a.problem }),
                  },
                ];
              }),
            ),
          });
        }
        return Math.max(combinedExitCode(traefik), combinedExitCode(app)) > 0 ? 1 : 0;
      }, { app: true });
    }));
};
