// mrsk app images: the images of the app on each host.
import type { Command } from 'commander';
import type { Bind } from '../../cli/program.ts';
import type { CommandContext } from '../../cli/context.ts';
import * as runtime from '../../runtime/index.ts';
import { resolveRuntime, run } from '../../apply/remote.ts';
import { combinedExitCode, runPerHost } from '../../ops/hosts.ts';
import { parseImageLines } from '../../ops/docker-ps.ts';
import { formatImageTable } from '../../views/containers.ts';
import { requireHosts } from '../shared/common.ts';
import { printSections } from '../shared/per-host.ts';
import { withSession } from '../shared/session.ts';

async function appImages(ctx: CommandContext): Promise<number> {
  return withSession(ctx, async (session) => {
    requireHosts(session.hosts);
    const outcomes = await runPerHost(
      session.hosts,
      async (host) => {
        const result = await run(session.remote, host, runtime.listImages(await resolveRuntime(session.remote, host), session.config.image));
        return { host, ok: true, output: formatImageTable(parseImageLines(result.stdout), ctx.out.width) };
      },
      printSections(ctx, 'App'),
    );
    return combinedExitCode(outcomes);
  }, { app: true });
}

export function registerImages(app: Command, bind: Bind): void {
  app
    .command('images')
    .description('the app images on each host')
    .action(bind((ctx) => appImages(ctx)));
}
