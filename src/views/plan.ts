// Two views of one Plan: the Terraform-like text a person reads, and the versioned JSON document
// scripts read (`mrsk plan --json`). Neither decides anything; both only format.
import { diffWordsWithSpace } from 'diff';
import { RUNTIMES } from '../runtime/runtime.ts';
import type { ChangeSymbol, Plan, PlanStep, StepAction, ValueChange } from '../plan/types.ts';
import { abbreviateVersions, shortVersion } from '../plan/short-version.ts';
import { painter, type Paint } from './paint.ts';
import { describeAction } from './steps.ts';
import { visibleLength, wrapWords } from './wrap.ts';

/** How to render: colours only when the caller says the terminal wants them. */
export interface RenderOptions {
  readonly color: boolean;
  /** List each resource's operations under it. */
  readonly verbose?: boolean;
  /** Columns to fit the text into (default and at most 80: a reading width, as Terraform's). */
  readonly width?: number;
  /** Which version is planned and why, e.g. `git HEAD, what \`mrsk deploy\` would ship`: a first line when given. */
  readonly versionReason?: string;
  /** More lines for the head of the text (how the image reference was formed, what a deploy would build). */
  readonly notes?: readonly string[];
}

/** The plan's width: 80 columns, fewer on a narrower terminal, never so few that nothing fits. */
export const PLAN_WIDTH = 80;

/** Counts per Terraform verb; each resource (address) counts once, by its symbol. */
export interface PlanSummary {
  readonly add: number;
  readonly change: number;
  readonly replace: number;
  readonly destroy: number;
}

function paintSymbol(paint: Paint, symbol: ChangeSymbol): string {
  switch (symbol) {
    case '+':
      return paint('green', '+');
    case '~':
      return paint('yellow', '~');
    case '-':
      return paint('red', '-');
    case '+/-':
      return `${paint('green', '+')}/${paint('red', '-')}`;
    case '-/+':
      return `${paint('red', '-')}/${paint('green', '+')}`;
  }
}

/** One resource: its steps in plan order; the first step's symbol and cause speak for it. */
interface Resource {
  readonly address: string;
  readonly host: string;
  readonly steps: PlanStep[];
}

function resourcesOf(plan: Plan): Resource[] {
  const byAddress = new Map<string, Resource>();
  for (const step of plan.steps) {
    let resource = byAddress.get(step.address);
    if (!resource) byAddress.set(step.address, (resource = { address: step.address, host: step.host, steps: [] }));
    resource.steps.push(step);
  }
  return [...byAddress.values()];
}

/** The Terraform-style counts of a plan. */
export function summarizePlan(plan: Plan): PlanSummary {
  const counts = { add: 0, change: 0, replace: 0, destroy: 0 };
  for (const resource of resourcesOf(plan)) {
    const symbol = resource.steps[0]!.symbol;
    if (symbol === '+') counts.add += 1;
    else if (symbol === '~') counts.change += 1;
    else if (symbol === '-') counts.destroy += 1;
    else counts.replace += 1;
  }
  return counts;
}

function renderChange(change: ValueChange, paint: Paint, color: boolean): string {
  if (change.hidden) return `${change.subject}: (value hidden)`;
  if (change.before === undefined) return `${change.subject}: ${paint('green', JSON.stringify(change.after ?? ''))} (added)`;
  if (change.after === undefined) return `${change.subject}: ${paint('red', JSON.stringify(change.before))} (removed)`;
  if (!color) return `${change.subject}: ${JSON.stringify(change.before)} → ${JSON.stringify(change.after)}`;
  // On a terminal, the same old → new form, with the words that changed marked on each side.
  const parts = diffWordsWithSpace(change.before, change.after);
  const before = parts.filter((p) => !p.added).map((p) => (p.removed ? paint('red', p.value) : p.value)).join('');
  const after = parts.filter((p) => !p.removed).map((p) => (p.added ? paint('green', p.value) : p.value)).join('');
  return `${change.subject}: "${before}" → "${after}"`;
}

const LEGEND = [
  'Resource actions are indicated with the following symbols:',
  '  +   create',
  '  ~   update in place',
  '  -   destroy',
  '  +/- replace (start the new one, then stop the old one)',
  '  -/+ replace (stop the old one, then start the new one)',
];

/** The resource column: longer names put their cause on the lines below instead of pushing every cause right. */
const NAME_COLUMN = 44;

/**
 * How wide a host's resource column is: the width that puts the most causes beside their
 * resource (best on one line, else wrapped under the column when that leaves half the line),
 * preferring the wider one on a tie. Resources longer than it have their cause on the lines below.
 */
function causeColumn(names: readonly string[], causes: readonly string[], width: number): number {
  let best = { column: 0, beside: -1 };
  for (const column of new Set(names.map((name) => name.length).filter((length) => length <= NAME_COLUMN))) {
    const head = 2 + 3 + 1 + column + 2;
    // A cause on the resource's own line counts twice, one wrapped under the column once.
    const beside = names.reduce((sum, name, i) => sum + (name.length > column ? 0 : head + causes[i]!.length <= width ? 2 : head <= width / 2 ? 1 : 0), 0);
    if (beside > best.beside || (beside === best.beside && column > best.column)) best = { column, beside };
  }
  return best.column;
}

/**
 * How a host's roles follow each other, for the head of a plan that starts containers of more than
 * one role on some host (its steps list them in order, but not what one waits for); undefined
 * otherwise. Read from the plan's own dependencies: a role's start step (`<host>:<role>:run` for a
 * new container, `:start` for a retained one) that waits for another role's health wait
 * (`<host>:<role>:wait`).
 * With boot.parallel_roles, hosts where new containers of several roles run with no such wait.
 */
export function roleOrderNote(plan: Plan, parallelRoles: boolean): string | undefined {
  const roleOf = (step: PlanStep, suffixes: readonly string[]): string | undefined => {
    if (!step.id.startsWith(`${step.host}:`)) return undefined;
    const match = /^([^:]+):([a-z-]+)$/.exec(step.id.slice(step.host.length + 1));
    return match && suffixes.includes(match[2]!) ? match[1] : undefined;
  };
  const waits = new Map(
    plan.steps.flatMap((step) => {
      const role = step.action.kind === 'container-wait-healthy' ? roleOf(step, ['wait']) : undefined;
      return role === undefined ? [] : [[step.id, role] as const];
    }),
  );
  const gated = new Set<string>();
  const runs = new Map<string, Set<string>>();
  for (const step of plan.steps) {
    const role = roleOf(step, ['run', 'start']);
    if (role === undefined || (step.action.kind !== 'container-run' && step.action.kind !== 'container-start')) continue;
    if (step.dependsOn.some((id) => waits.has(id) && waits.get(id) !== role)) gated.add(step.host);
    if (step.action.kind === 'container-run') runs.set(step.host, (runs.get(step.host) ?? new Set<string>()).add(role));
  }
  const together = [...runs].filter(([host, roles]) => roles.size > 1 && !gated.has(host)).map(([host]) => host);
  const where = (hosts: readonly string[]) => (hosts.length === 1 ? hosts[0]! : `${hosts.length} hosts`);
  if (gated.size > 0) {
    return `The roles on ${where([...gated])} start one after another, in the order below: each once the one before it is healthy (boot.parallel_roles starts them together).`;
  }
  if (parallelRoles && together.length > 0) {
    return `boot.parallel_roles: the roles on ${where(together)} start together; each replaces its old container only once its new one is ready.`;
  }
  return undefined;
}

/** `Planning version 0123456789ab (git HEAD, …).`: which version and why, when the caller knows. */
function versionLines(plan: Plan, options: RenderOptions, width: number): string[] {
  const notes = (options.notes ?? []).flatMap((note) => wrapWords(note, width, '', '  '));
  if (!options.versionReason) return notes;
  return [...wrapWords(`Planning version ${shortVersion(plan.version)} (${options.versionReason}).`, width, '', '  '), ...notes];
}

/** The plan's last line: `Plan: 1 to add, …` or `No changes. …`; all `mrsk plan -q` prints besides blocked hosts. */
export function planSummaryLine(plan: Plan, options: Pick<RenderOptions, 'color'> = { color: false }): string {
  const paint = painter(options.color);
  if (plan.steps.length === 0 && plan.blockedHosts.length === 0) {
    // pending differences (a changed accessory): the hosts do not match, the plan just leaves them
    const pending = plan.pending?.length ?? 0;
    if (pending > 0) return `${paint('bold', `No changes planned; ${pending === 1 ? '1 difference above is' : `${pending} differences above are`} left as it is.`)} (${targetOf(plan)})`;
    return `${paint('bold', 'No changes. Hosts match the configuration.')} (${targetOf(plan)})`;
  }
  if (plan.steps.length === 0) return paint('bold', 'No changes on the hosts that could be planned.');
  const summary = summarizePlan(plan);
  return `${paint('bold', 'Plan:')} ${summary.add} to add, ${summary.change} to change, ${summary.replace} to replace, ${summary.destroy} to destroy.`;
}

function targetOf(plan: Plan): string {
  return `${plan.service}${plan.destination ? ` (${plan.destination})` : ''} version ${shortVersion(plan.version)}`;
}

/** The plan's headline: what mrsk is about to do, in the words of the command that asked. */
export function headlineOf(plan: Plan): string {
  const app = `${plan.service}${plan.destination ? ` (${plan.destination})` : ''}`;
  const intent = plan.intent ?? { mode: 'converge', target: 'app' };
  if (intent.target === 'accessory') {
    if (intent.mode === 'upload') return `mrsk will upload the files of accessories of ${app}`;
    // a converge replaces an accessory only when asked to (accessory reboot)
    const verb = intent.mode === 'converge' ? (plan.steps.some((step) => step.symbol === '-/+') ? 'reboot' : 'boot') : intent.mode === 'destroy' ? 'remove' : intent.mode;
    return `mrsk will ${verb} accessories of ${app}`;
  }
  if (intent.target === 'traefik') {
    // converge with replace is traefik reboot; a plain converge is traefik boot
    const verb = intent.mode === 'converge' ? (intent.replace ? 'replace' : 'boot') : intent.mode === 'destroy' ? 'remove' : intent.mode;
    return `mrsk will ${verb} Traefik on the hosts of ${app}${intent.hostsInSeries ? ', one host after the other' : ''}`;
  }
  switch (intent.mode) {
    case 'restore-release':
      return `mrsk will restore ${app} to the release of version ${shortVersion(plan.version)}`;
    case 'prune':
      return `mrsk will prune ${app} (keeping version ${shortVersion(plan.version)} and the retained ones)`;
    case 'destroy':
      return `mrsk will remove ${app} from the hosts`;
    case 'start':
    case 'stop':
    case 'restart':
      return `mrsk will ${intent.mode} ${targetOf(plan)}`;
    default:
      return `mrsk will converge ${targetOf(plan)}`;
  }
}

/** What the plan leaves alone on purpose, each with its cause and the command that applies it. */
function pendingLines(plan: Plan, paint: Paint, width: number): string[] {
  const pending = plan.pending ?? [];
  if (pending.length === 0) return [];
  const lines = [paint('bold', 'Not changed by this plan:')];
  for (const change of pending) {
    lines.push(...wrapWords(`${change.address}: ${change.cause}`, width, '  ', '    '));
    lines.push(...wrapWords(`run: ${change.command}`, width, '    ', '      ').map((line) => paint('dim', line)));
  }
  return lines;
}

function blockedLines(plan: Plan, paint: Paint, width: number): string[] {
  if (plan.blockedHosts.length === 0) return [];
  const lines = [paint('red', `Cannot plan ${plan.blockedHosts.length} host${plan.blockedHosts.length === 1 ? '' : 's'}:`)];
  for (const blocked of plan.blockedHosts) {
    lines.push(...wrapWords(`${paint('bold', blocked.host)}: ${blocked.status}: ${blocked.message}`, width, '  ', '    '));
  }
  return lines;
}

/**
 * The plan as text: legend, one block per host, one line per resource, blocked hosts, footer.
 * Fits the width: versions are shown 12 characters long and causes wrap between words.
 */
export function renderPlan(plan: Plan, options: RenderOptions): string {
  const paint = painter(options.color);
  const width = Math.min(PLAN_WIDTH, Math.max(40, options.width ?? PLAN_WIDTH));
  const lines: string[] = [...versionLines(plan, options, width)];

  const pending = pendingLines(plan, paint, width);
  if (plan.steps.length === 0 && plan.blockedHosts.length === 0) {
    if (pending.length > 0) lines.push(...pending, '');
    lines.push(...wrapWords(planSummaryLine(plan, options), width, '', '  '));
    return `${lines.join('\n')}\n`;
  }

  if (plan.steps.length === 0) {
    // Only hosts that could not be planned: no legend for symbols that are not there.
    if (lines.length > 0) lines.push('');
    lines.push(...blockedLines(plan, paint, width), ...(pending.length > 0 ? ['', ...pending] : []), '', planSummaryLine(plan, options));
    return `${lines.join('\n')}\n`;
  }
  if (lines.length > 0) lines.push('');
  lines.push(...LEGEND, '', ...wrapWords(`${headlineOf(plan)}:`, width, '', '  '));
  const resources = resourcesOf(plan);
  const hosts = [...new Set(plan.steps.map((step) => step.host))];
  for (const host of hosts) {
    const mine = resources.filter((resource) => resource.host === host);
    const batch = mine[0]!.steps[0]!.batch;
    const runtime = plan.runtimes?.[host];
    lines.push('', paint('bold', host) + paint('dim', `  (batch ${batch + 1}${runtime ? `, ${RUNTIMES[runtime].title}` : ''})`));
    const names = mine.map((resource) => abbreviateVersions(resource.address.slice(host.length + 1)));
    const causes = mine.map((resource) => abbreviateVersions(resource.steps[0]!.cause));
    const column = causeColumn(names, causes, width);
    mine.forEach((resource, index) => {
      const first = resource.steps[0]!;
      const name = names[index]!;
      const symbol = paintSymbol(paint, first.symbol);
      const pad = ' '.repeat(3 - first.symbol.length);
      const cause = causes[index]!;
      const head = `  ${symbol}${pad} ${name.length <= column ? name.padEnd(column) : name}  `;
      if (name.length <= column && visibleLength(head) + cause.length <= width) {
        lines.push(head + paint('dim', cause));
      } else if (name.length <= column && visibleLength(head) <= width / 2) {
        // The cause wraps under itself, so the resource column stays clear.
        const indent = ' '.repeat(visibleLength(head));
        const [line0, ...rest] = wrapWords(cause, width - indent.length, '', '');
        lines.push(head + paint('dim', line0!), ...rest.map((line) => indent + paint('dim', line)));
      } else {
        lines.push(head.trimEnd(), ...wrapWords(cause, width, '      ', '      ').map((line) => paint('dim', line)));
      }
      for (const change of resource.steps.flatMap((step) => step.changes ?? [])) {
        lines.push(...wrapWords(renderChange(change, paint, options.color), width, '        ', '          '));
      }
      if (options.verbose) {
        for (const step of resource.steps) {
          lines.push(...wrapWords(abbreviateVersions(describeAction(step.action)), width, '        · ', '          ').map((line) => paint('dim', line)));
        }
      }
    });
  }
  const blocked = blockedLines(plan, paint, width);
  if (blocked.length > 0) lines.push('', ...blocked);
  if (pending.length > 0) lines.push('', ...pending);
  lines.push('', planSummaryLine(plan, options));
  if (plan.steps.length > 0 && plan.batchWait > 0 && new Set(plan.steps.map((step) => step.batch)).size > 1) {
    lines.push(paint('dim', `Hosts roll in batches, ${plan.batchWait}s apart.`));
  }
  return `${lines.join('\n')}\n`;
}

/** What `-q` shows of a plan: the hosts that could not be planned (they are errors) and the summary line. */
export function renderQuietPlan(plan: Plan, options: RenderOptions): string {
  const paint = painter(options.color);
  const width = Math.min(PLAN_WIDTH, Math.max(40, options.width ?? PLAN_WIDTH));
  return `${[...blockedLines(plan, paint, width), planSummaryLine(plan, options)].join('\n')}\n`;
}

/** One step in the JSON document. */
export interface JsonPlanStep {
  readonly id: string;
  readonly address: string;
  readonly host: string;
  readonly kind: StepAction['kind'];
  readonly symbol: ChangeSymbol;
  readonly actions: readonly string[];
  readonly cause: string;
  readonly depends_on: readonly string[];
  readonly batch: number;
}

/** `mrsk plan --json` (format_version 1; see README.md, "Plans"). */
export interface JsonPlan {
  readonly format_version: '1';
  readonly service: string;
  readonly destination: string | null;
  readonly version: string;
  readonly steps: readonly JsonPlanStep[];
  readonly blocked_hosts: readonly { readonly host: string; readonly status: string; readonly message: string }[];
  /** Differences the plan leaves alone on purpose, with the command that applies each (only when there are any). */
  readonly pending?: readonly { readonly host: string; readonly address: string; readonly cause: string; readonly command: string }[];
  /** The container runtime of each planned host, when one of them does not run Docker. */
  readonly runtimes?: Readonly<Record<string, string>>;
  readonly summary: PlanSummary;
}

/** The plan as the documented JSON document. Contains no secret values (specs are not included). */
export function planToJson(plan: Plan): JsonPlan {
  return {
    format_version: '1',
    service: plan.service,
    destination: plan.destination ?? null,
    version: plan.version,
    ...(plan.intent ? { mode: plan.intent.mode, target: plan.intent.target } : {}),
    steps: plan.steps.map((step) => ({
      id: step.id,
      address: step.address,
      host: step.host,
      kind: step.action.kind,
      symbol: step.symbol,
      actions: [...step.actions],
      cause: step.cause,
      depends_on: [...step.dependsOn],
      batch: step.batch,
    })),
    blocked_hosts: plan.blockedHosts.map((blocked) => ({ host: blocked.host, status: blocked.status, message: blocked.message })),
    ...(plan.runtimes ? { runtimes: { ...plan.runtimes } } : {}),
    ...(plan.pending?.length ? { pending: plan.pending.map((change) => ({ host: change.host, address: change.address, cause: change.cause, command: change.command })) } : {}),
    summary: summarizePlan(plan),
  };
}
