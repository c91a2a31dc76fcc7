// mrsk accessory logs NAME|all: the accessory containers' logs, per host or followed from every
// host at once (-f); the options of `app logs`.
import type { Command } from 'commander';
import type { Bind } from '../../cli/program.ts';
import { logOptions, parseLogRequest, type LogOptionValues } from '../shared/options.ts';
import { showLogs } from '../shared/per-host.ts';
import { accessoryContainerName, targetHosts, withAccessories } from '../shared/accessories.ts';

export function registerLogs(accessory: Command, bind: Bind): void {
  logOptions(accessory.command('logs').description('the accessory containers’ logs from each of their hosts').argument('<name>', 'the accessory’s name in the config, or all')).action(
    bind<LogOptionValues>((ctx, options, args) => {
      const request = parseLogRequest(options);
      return withAccessories(ctx, args[0]!, (session, targets) => {
        const sources = targets.flatMap((t) => t.hosts.map((host) => ({ host, container: accessoryContainerName(session.config, t.accessory) })));
        return showLogs(ctx, session, 'Accessory', targetHosts(targets), sources, request);
      });
    }),
  );
}
