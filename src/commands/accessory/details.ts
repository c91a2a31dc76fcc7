// mrsk accessory details NAME|all: the accessory containers on each of their hosts, as `docker ps
// -a` lists them (a stopped database shows as Exited, which is what one wants to see).
import type { Command } from 'commander';
import type { Bind } from '../../cli/program.ts';
import { combinedExitCode } from '../../ops/hosts.ts';
import { accessoryDetails, withAccessories } from '../shared/accessories.ts';

export function registerDetails(accessory: Command, bind: Bind): void {
  accessory
    .command('details')
    .description('the accessory containers on each of their hosts, running or not (docker ps -a)')
    .argument('<name>', 'the accessory’s name in the config, or all')
    .option('--json', 'print JSON')
    .action(
      bind<{ json?: boolean }>((ctx, options, args) =>
        withAccessories(ctx, args[0]!, async (session, targets) => {
          const outcomes = await accessoryDetails(ctx, session, targets, Boolean(options.json));
          if (options.json) ctx.out.printJson({ hosts: Object.fromEntries(outcomes.map((o) => [o.host, o.ok ? { accessories: o.data } : { error: o.problem }])) });
          return combinedExitCode(outcomes);
        }),
      ),
    );
}
