// mrsk app details: the running app containers on each host, as docker ps lists them.
import type { Command } from 'commander';
import type { Bind } from '../../cli/program.ts';
import { combinedExitCode } from '../../ops/hosts.ts';
import { requireHosts } from '../shared/common.ts';
import { appDetails } from '../shared/details.ts';
import { withSession } from '../shared/session.ts';

export function registerDetails(app: Command, bind: Bind): void {
  app
    .command('details')
    .description('the running app containers on each host (docker ps)')
    .option('--json', 'print JSON')
    .action(bind<{ json?: boolean }>((ctx, options) =>
      withSession(ctx, async (session) => {
        requireHosts(session.hosts);
        const outcomes = await appDetails(ctx, session, Boolean(options.json));
        if (options.json) ctx.out.printJson({ hosts: Object.fromEntries(outcomes.map((o) => [o.host, o.ok ? { app: o.data } : { error: o.problem }])) });
        return combinedExitCode(outcomes);
      }, { app: true }),
    ));
}
