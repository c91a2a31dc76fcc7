import { readFile } from 'node:fs/promises';
import type { RegisterCommand } from '../cli/program.ts';
import { StalePlanError } from '../errors.ts';
import { parsePlanFile } from '../plan/saved.ts';
import { fingerprintSnapshot } from '../plan/fingerprint.ts';
import { renderPlan } from '../plan/render.ts';
import { audit, withLock } from '../apply/lock.ts';
import { confirm, probe } from './common.ts';
import { converge } from './converge.ts';
import { unexpectedlyBlocked } from './shared/deploy.ts';
import { runPlan } from './apply-plan.ts';
import { notePlan } from '../cli/pipeline.ts';
import { lockOptions, parseLockRequest, type LockOptionValues } from './shared/options.ts';
import { withSession } from './shared/session.ts';

interface ApplyOptions extends LockOptionValues {
  autoApprove?: boolean;
  version?: string;
  skipUnreachable?: boolean;
  takeover?: boolean;
}

export const register: RegisterCommand = (program, bind) => {
  lockOptions(program.command('apply'))
    .argument('[plan-file]', 'a plan saved with `mrsk plan --out FILE`: applied only if the hosts did not change since')
    .description('converge the hosts to the configuration at the deployed version (shows the plan, asks first)')
    .option('-y, --auto-approve', 'do not ask for confirmation (required without a terminal)')
    .option('--version <version>', 'converge to this version instead of the deployed one')
    .option('--skip-unreachable', 'change the hosts that can be used and record the others as behind (default: any such host stops apply)')
    .option('--takeover', "on hosts Kamal runs, replace Kamal's traefik (HTTP fails for a few seconds; see mrsk plan)")
    .action(bind<ApplyOptions>(async (ctx, options, args) => {
      const lock = parseLockRequest(options);
      return withSession(ctx, async (session) => {
        const file = args[0];
        if (!file) {
          const result = await converge(ctx, session, {
            command: `apply${options.version ? ` --version ${options.version}` : ''}`,
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
        }
        const saved = parsePlanFile(await readFile(file, 'utf8'), session.config);
        const hosts = [...new Set(saved.steps.map((step) => step.host))];
        await withLock(session.remote, hosts, { service: session.config.service, destination: session.config.destination, command: `apply ${file}`, ...lock }, async () => {
          const snapshot = await probe(session, hosts);
          if (fingerprintSnapshot(snapshot) !== saved.snapshotFingerprint) {
            throw new StalePlanError(`the saved plan ${file} is stale: the hosts changed since it was made. Run \`mrsk plan --out ${file}\` again.`);
          }
          notePlan(saved, 'saved plan');
          if (!ctx.out.json && (!ctx.out.quiet || !options.autoApprove)) ctx.out.print(renderPlan(saved, { color: ctx.out.color, verbose: ctx.out.verbose, width: ctx.out.width }));
          await confirm(ctx, 'Apply this saved plan?', options.autoApprove);
          await runPlan(ctx, session, saved, snapshot);
          await audit(session.remote, hosts, session.config.service, session.config.destination, `apply ${file}: ${saved.steps.length} steps`).catch(() => undefined);
        });
        return 0;
      });
    }));
};
