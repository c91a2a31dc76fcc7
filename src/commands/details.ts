// mrsk details: Traefik and the app's running containers on every selected host, as docker ps
// shows them, filtered to this service.
import type { RegisterCommand } from '../cli/program.ts';
import { combinedExitCode } from '../ops/hosts.ts';
import { appDetails, traefikDetails, traefikHosts } from './shared/details.ts';
import { requireHosts } from './shared/common.ts';
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
        const traefik = await traefikDetails(ctx, session, traefikHosts(session), json);
        const app = await appDetails(ctx, session, json);
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
