import { writeFile } from 'node:fs/promises';
import type { RegisterCommand } from '../cli/program.ts';
import { renderPlan, planToJson } from '../plan/render.ts';
import { serializePlan } from '../plan/saved.ts';
import { fingerprintSnapshot } from '../plan/fingerprint.ts';
import { makePlan, openSession, probe, targetVersion } from './common.ts';

interface PlanOptions {
  json?: boolean;
  detailedExitcode?: boolean;
  out?: string;
  version?: string;
}

export const register: RegisterCommand = (program, bind) => {
  program
    .command('plan')
    .description('show what apply would change on the hosts, without changing anything')
    .option('--json', 'print the plan as JSON (format_version 1)')
    .option('--detailed-exitcode', 'exit 0 when there are no changes, 2 when there are, 1 on error')
    .option('--out <file>', 'save the plan to apply it later with `mrsk apply FILE`')
    .option('--version <version>', 'plan for this version (default: the deployed one, else VERSION or git HEAD)')
    .action(bind<PlanOptions>(async (ctx, options) => {
      const session = await openSession(ctx);
      try {
        const snapshot = await probe(session);
        const version = await targetVersion(ctx, session.config, snapshot, options.version);
        const { plan } = makePlan(session, snapshot, version);
        if (options.json) ctx.out.printJson(planToJson(plan));
        else ctx.out.print(renderPlan(plan, { color: ctx.out.color, verbose: ctx.out.verbose }));
        if (options.out) {
          // The fingerprint covers the hosts the plan changes: `mrsk apply FILE` probes exactly those.
          const changed = new Set(plan.steps.map((step) => step.host));
          const scoped = { ...snapshot, hosts: Object.fromEntries(Object.entries(snapshot.hosts).filter(([host]) => changed.has(host))) };
          await writeFile(options.out, serializePlan(plan, fingerprintSnapshot(scoped)), { mode: 0o600 });
          ctx.out.info(`Saved the plan to ${options.out}. Apply it with: mrsk apply ${options.out}`);
        }
        if (plan.blockedHosts.length > 0) return 1;
        if (options.detailedExitcode && plan.steps.length > 0) return 2;
        return 0;
      } finally {
        await session.close();
      }
    }));
};
