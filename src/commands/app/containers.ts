// mrsk app containers: every container of the app per host, current and old, marking the
// versions a rollback can go back to (on every selected host).
import type { Command } from 'commander';
import type { Bind } from '../../cli/program.ts';
import type { CommandContext } from '../../cli/context.ts';
import { combinedExitCode, runPerHost } from '../../ops/hosts.ts';
import { classifyContainers, commonRollbackTargets, rollbackTargets, type ContainerRow } from '../../ops/containers.ts';
import { formatContainerTable } from '../../views/containers.ts';
import { shortVersion } from '../../plan/short-version.ts';
import { deployedVersion, probe, requireHosts } from '../shared/common.ts';
import { printSections, reachableHost, rolesOnHost } from '../shared/per-host.ts';
import { withSession } from '../shared/session.ts';

interface ContainersOptions {
  json?: boolean;
}

async function appContainers(ctx: CommandContext, options: ContainersOptions): Promise<number> {
  return withSession(ctx, async (session) => {
    requireHosts(session.hosts);
    const snapshot = await probe(session);
    const version = deployedVersion(session.config, snapshot);
    const print = options.json ? () => undefined : printSections(ctx, 'App');
    const outcomes = await runPerHost<ContainerRow[]>(
      session.hosts,
      async (host) => {
        const seen = reachableHost(snapshot, host);
        const rows = classifyContainers(seen.containers, {
          service: session.config.service,
          destination: session.config.destination,
          roles: rolesOnHost(session, host).map((r) => r.name),
          currentVersion: version,
        });
        return { host, ok: true, output: formatContainerTable(rows, ctx.out.width), data: rows };
      },
      print,
    );
    const perHost = outcomes.filter((o) => o.ok).map((o) => rollbackTargets(o.data ?? []));
    const common = outcomes.every((o) => o.ok) ? commonRollbackTargets(perHost) : [];
    if (options.json) {
      ctx.out.printJson({
        version: version ?? null,
        rollbackTargets: common,
        hosts: Object.fromEntries(
          outcomes.map((o) => [o.host, o.ok ? { containers: o.data, rollbackTargets: rollbackTargets(o.data ?? []) } : { error: o.problem }]),
        ),
      });
    } else {
      const targets = outcomes.every((o) => o.ok) ? (common.length ? common.map(shortVersion).join(', ') : 'none') : 'unknown (not every host could be read)';
      ctx.out.print(`Deployed version: ${version ? shortVersion(version) : 'none'}\nRollback targets on every selected host: ${targets}`);
    }
    return combinedExitCode(outcomes);
  }, { app: true });
}

export function registerContainers(app: Command, bind: Bind): void {
  app
    .command('containers')
    .description('all containers of the app per host, current and old, marking rollback targets')
    .option('--json', 'print JSON')
    .action(bind<ContainersOptions>((ctx, options) => appContainers(ctx, options)));
}
