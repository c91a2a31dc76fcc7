import { writeFile } from 'node:fs/promises';
import type { RegisterCommand } from '../cli/program.ts';
import { resolveVersion } from '../config/version.ts';
import { UsageError } from '../errors.ts';
import { renderPlan, renderQuietPlan, planToJson, roleOrderNote } from '../views/plan.ts';
import { serializePlan } from '../plan/saved.ts';
import { fingerprintSnapshot } from '../plan/fingerprint.ts';
import { appHosts, deployedVersion, makePlan, probe } from './shared/common.ts';
import { snapshotWarnings } from '../probe/probe.ts';
import { notePlan } from '../cli/pipeline.ts';
import { describeBehind, hostsBehind } from '../drift/missed.ts';
import { choosePlatforms, hostArchesOf, localArch } from '../build/plan.ts';
import type { Config } from '../config/types.ts';
import type { Snapshot } from '../probe/types.ts';
import { withSession } from './shared/session.ts';

interface PlanOptions {
  json?: boolean;
  detailedExitcode?: boolean;
  out?: string;
  version?: string;
  next?: boolean;
}

/** The version a plan is made for, and why that one, for the plan's first line. */
export interface PlannedVersion {
  readonly version: string;
  readonly reason: string;
}

/** What chooseVersion needs to know. */
export interface ChooseVersionInput {
  /** --version */
  readonly explicit?: string;
  /** --next: what `mrsk deploy` would ship, whatever is deployed. */
  readonly next?: boolean;
  /** The version deployed on the hosts now, if any. */
  readonly deployed?: string;
  readonly env: NodeJS.ProcessEnv;
  /** Folder inside the app's git work tree. */
  readonly cwd: string;
}

/**
 * --version, else with --next the version `mrsk deploy` would resolve (VERSION, else git HEAD,
 * marked `_uncommitted_…` for a dirty tree; src/config/version.ts), else the deployed one, else
 * what deploy would ship (nothing is deployed yet).
 */
export async function chooseVersion(input: ChooseVersionInput): Promise<PlannedVersion> {
  if (input.explicit !== undefined && input.next) throw new UsageError('--next and --version both pick the version to plan: give one of them');
  if (input.explicit !== undefined) return { version: await resolveVersion({ explicit: input.explicit, cwd: input.cwd }), reason: 'given with --version' };
  if (!input.next && input.deployed) return { version: input.deployed, reason: 'deployed now; `mrsk plan --next` previews the next deploy' };
  const version = await resolveVersion({ env: input.env, cwd: input.cwd });
  const source = input.env.VERSION ? 'VERSION from the environment' : version.includes('_uncommitted_') ? 'git HEAD with uncommitted changes' : 'git HEAD';
  return { version, reason: `${source}, what \`mrsk deploy\` would ship${input.next ? '' : '; nothing is deployed yet'}` };
}

/**
 * The head of the plan text: which rule formed the image reference, and with --next, for which
 * platforms `mrsk deploy` would build (builder.arch, else what the hosts report).
 */
export function planNotes(config: Config, snapshot: Snapshot, hosts: readonly string[], next: boolean): string[] {
  const notes = [`Image ${config.image}${config.imageRule ? `: ${config.imageRule}` : ''}.`];
  if (next) {
    const { platforms, platformsFrom } = choosePlatforms({ builder: config.builder, hostArches: hostArchesOf(snapshot, hosts), localArch: localArch(), buildx: true });
    notes.push(`\`mrsk deploy\` would build for ${platforms.join(', ')} (${platformsFrom}).`);
  }
  return notes;
}

export const register: RegisterCommand = (program, bind) => {
  program
    .command('plan')
    .description('show what apply would change on the hosts, without changing anything')
    .option('--json', 'print the plan as JSON (format_version 1)')
    .option('--detailed-exitcode', 'exit 0 when there are no changes, 2 when there are, 1 on error')
    .option('--out <file>', 'save the plan to apply it later with `mrsk apply FILE`')
    .option('--next', 'preview the next deploy: plan the version `mrsk deploy` would ship (VERSION, else git HEAD)')
    .option('--version <version>', 'plan for this version (default: the deployed one, else VERSION or git HEAD)')
    .action(bind<PlanOptions>(async (ctx, options) => {
      if (options.next && options.version !== undefined) throw new UsageError('--next and --version both pick the version to plan: give one of them');
      return withSession(ctx, async (session) => {
        const snapshot = await probe(session);
        for (const warning of snapshotWarnings(snapshot)) ctx.out.warn(warning);
        // hosts a --skip-unreachable run left behind: the plan below brings them up to date
        for (const behind of hostsBehind(snapshot).values()) ctx.out.warn(describeBehind(behind));
        const { version, reason } = await chooseVersion({
          explicit: options.version,
          next: options.next,
          deployed: deployedVersion(session.config, snapshot),
          env: process.env,
          cwd: session.config.root || ctx.cwd,
        });
        const { plan } = makePlan(session, snapshot, version);
        const order = roleOrderNote(plan, session.config.boot.parallelRoles);
        const view = { color: ctx.out.color, verbose: ctx.out.verbose, width: ctx.out.width, versionReason: reason, notes: [...planNotes(session.config, snapshot, appHosts(session), options.next === true), ...(order ? [order] : [])] };
        notePlan(plan); // the CI summary (GitHub's step summary)
        if (options.json) ctx.out.printJson(planToJson(plan));
        else ctx.out.print(ctx.out.quiet ? renderQuietPlan(plan, view) : renderPlan(plan, view));
        if (options.out) {
          // The fingerprint covers the hosts the plan changes: `mrsk apply FILE` probes exactly those.
          const changed = new Set(plan.steps.map((step) => step.host));
          const scoped = { ...snapshot, hosts: Object.fromEntries(Object.entries(snapshot.hosts).filter(([host]) => changed.has(host))) };
          await writeFile(options.out, serializePlan(plan, fingerprintSnapshot(scoped)), { mode: 0o600 });
          ctx.out.info(`Saved the plan to ${options.out}. Apply it with: mrsk apply ${options.out}`);
        }
        if (plan.blockedHosts.length > 0) {
          // the one rule, as deploy, redeploy, setup and apply apply it
          const names = plan.blockedHosts.map((b) => b.host).join(', ');
          ctx.out.warn(`${names} cannot be used: deploy, redeploy, setup and apply stop before changing any host; with --skip-unreachable they change the others and record ${names} as behind`);
          return 1;
        }
        if (options.detailedExitcode && plan.steps.length > 0) return 2;
        return 0;
      });
    }));
};
