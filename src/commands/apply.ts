// mrsk apply [FILE]: converge the hosts to the configuration at the deployed version (shows the
// plan, asks first on a terminal), or run a plan saved by `mrsk plan --out FILE` as it is, only
// if the hosts did not change since. Both go through the one pipeline (converge.ts).
import { readFile } from 'node:fs/promises';
import type { RegisterCommand } from '../cli/program.ts';
import { parsePlanFile } from '../plan/saved.ts';
import { converge } from './converge.ts';
import { unexpectedlyBlocked } from './shared/deploy.ts';
import { lockOptions, parseLockRequest, type LockOptionValues } from './shared/options.ts';
import { withSession } from './shared/session.ts';

interface ApplyOptions extends LockOptionValues {
  autoApprove?: boolean;
  version?: string;
  skipUnreachable?: boolean;
  takeover?: boolean;
}

export const register: RegisterCommand = (program, bind) => {
  lockOptions(
    program
      .command('apply')
      .argument('[plan-file]', 'a plan saved with `mrsk plan --out FILE`: applied only if the hosts did not change since')
      .description('converge the hosts to the configuration at the deployed version (shows the plan, asks first)')
      .option('-y, --auto-approve', 'do not ask for confirmation (required without a terminal)')
      .option('--version <version>', 'converge to this version instead of the deployed one'),
  )
    .option('--skip-unreachable', 'change the hosts that can be used and record the others as behind (default: any such host stops apply)')
    .option('--takeover', "on hosts Kamal runs, replace Kamal's traefik (HTTP fails for a few seconds; see mrsk plan)")
    .action(bind<ApplyOptions>(async (ctx, options, args) => {
      const lock = parseLockRequest(options);
      const file = args[0];
      return withSession(ctx, async (session) => {
        const result = await converge(ctx, session, {
          command: file ? `apply ${file}` : `apply${options.version ? ` --version ${options.version}` : ''}`,
          ...(file ? { saved: { file, plan: parsePlanFile(await readFile(file, 'utf8'), session.config) }, heading: 'saved plan', question: 'Apply this saved plan?' } : {}),
          version: options.version,
          ask: true,
          autoApprove: options.autoApprove,
          lockWait: lock.waitSeconds,
          forceLock: lock.force,
          skipUnreachable: options.skipUnreachable,
          verb: 'changed',
          takeover: options.takeover,
          takeoverCommand: 'mrsk apply',
        });
        const skipped = result.missed.length ? ` Skipped ${result.missed.map((m) => m.host).join(', ')} (--skip-unreachable): recorded as behind.` : '';
        if (result.plan.steps.length > 0) ctx.out.info(`Apply complete: ${result.plan.steps.length} steps on ${new Set(result.plan.steps.map((s) => s.host)).size} host(s) in ${(result.ms / 1000).toFixed(1)}s.${skipped}`);
        return unexpectedlyBlocked(result) > 0 ? 1 : 0;
      });
    }));
};
