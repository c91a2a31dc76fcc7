// mrsk app logs: the logs of the current app containers of the selected roles, per host or
// followed from every host at once (-f).
import type { Command } from 'commander';
import type { Bind } from '../../cli/program.ts';
import type { CommandContext } from '../../cli/context.ts';
import { deployedVersion, probe, requireHosts } from '../shared/common.ts';
import { logOptions, parseLogRequest, type LogOptionValues } from '../shared/options.ts';
import { currentContainer, rolesOnHost, showLogs, type LogSource } from '../shared/per-host.ts';
import { withSession } from '../shared/session.ts';

async function appLogs(ctx: CommandContext, options: LogOptionValues): Promise<number> {
  const request = parseLogRequest(options);
  return withSession(ctx, async (session) => {
    requireHosts(session.hosts);
    const snapshot = await probe(session);
    const version = deployedVersion(session.config, snapshot);
    const sources: LogSource[] = [];
    for (const host of session.hosts) {
      const seen = snapshot.hosts[host];
      if (!seen || seen.status !== 'ok') {
        ctx.out.warn(`${host}: ${seen && 'message' in seen ? seen.message : 'not reachable'} — left out`);
        continue;
      }
      for (const role of rolesOnHost(session, host)) {
        const container = currentContainer(seen, session, role.name, version);
        if (container) sources.push({ host, container: container.name });
      }
    }
    const hosts = session.hosts.filter((h) => snapshot.hosts[h]?.status === 'ok');
    return showLogs(ctx, session, 'App', hosts, sources, request);
  }, { app: true });
}

export function registerLogs(app: Command, bind: Bind): void {
  logOptions(app.command('logs').description('the app containers’ logs from every selected host')).action(bind<LogOptionValues>((ctx, options) => appLogs(ctx, options)));
}
