// mrsk app version: the version running on each host (its primary role's current container).
import type { Command } from 'commander';
import type { Bind } from '../../cli/program.ts';
import type { CommandContext } from '../../cli/context.ts';
import { VERSION_LABEL } from '../../model/labels.ts';
import { combinedExitCode, runPerHost } from '../../ops/hosts.ts';
import { probe, requireHosts } from '../shared/common.ts';
import { currentContainer, printSections, reachableHost, rolesOnHost } from '../shared/per-host.ts';
import { withSession } from '../shared/session.ts';

async function appVersion(ctx: CommandContext): Promise<number> {
  return withSession(ctx, async (session) => {
    requireHosts(session.hosts);
    const snapshot = await probe(session);
    const outcomes = await runPerHost(
      session.hosts,
      async (host) => {
        const seen = reachableHost(snapshot, host);
        const role = rolesOnHost(session, host)[0];
        const container = role ? currentContainer(seen, session, role.name, undefined) : undefined;
        const running = container?.state === 'running' ? container.labels[VERSION_LABEL] : undefined;
        return { host, ok: true, output: running ?? 'not running' };
      },
      printSections(ctx, 'App'),
    );
    return combinedExitCode(outcomes);
  }, { app: true });
}

export function registerVersion(app: Command, bind: Bind): void {
  app
    .command('version')
    .description('the version running on each host')
    .action(bind((ctx) => appVersion(ctx)));
}
