// What a run prints for CI pipelines and other machines, besides the human output:
// - `--json` on deploy, redeploy, apply and rollback: NDJSON events on stdout (the plan, each step
//   started and finished with its host and duration, batch waits) ending with one summary object;
//   the human lines go to stderr. Format: schemas/events.schema.json, format_version "1".
// - GitHub Actions (GITHUB_ACTIONS=true): the plan and the result as Markdown appended to
//   $GITHUB_STEP_SUMMARY, config errors as `::error file=…,line=…,col=…::` annotations.
// - GitLab CI (GITLAB_CI=true): after a run's steps, one collapsible section per host.
// Detected from the environment; off elsewhere. Nothing here ever prints a secret value: plans
// hold Secret values that serialize as [REDACTED], and messages are sanitized.
import { appendFileSync } from 'node:fs';
import { ConfigError, describeError } from '../errors.ts';
import type { Plan, PlanStep } from '../plan/types.ts';
import { planToJson, summarizePlan } from '../views/plan.ts';
import { sanitizeHostText } from '../text/sanitize.ts';
import type { ExecutorEvent } from '../apply/executor.ts';

/** Version of the NDJSON event format; a breaking change to an event's fields bumps it. */
export const EVENTS_FORMAT_VERSION = '1';

/**
 * The commands whose `--json` streams events: every command that changes hosts through a plan
 * (drift's summary line is its report: see README). Nested commands by their path.
 */
export const EVENT_COMMANDS: ReadonlySet<string> = new Set([
  'deploy', 'redeploy', 'setup', 'apply', 'rollback', 'drift', 'prune', 'remove',
  'traefik boot', 'traefik reboot', 'traefik start', 'traefik stop', 'traefik restart', 'traefik remove',
  'app start', 'app stop',
  'accessory boot', 'accessory reboot', 'accessory start', 'accessory stop', 'accessory restart', 'accessory remove', 'accessory upload',
]);

/** Command groups: their command is two words (`traefik reboot`). */
const GROUPS: ReadonlySet<string> = new Set(['traefik', 'app', 'accessory', 'lock', 'registry']);

type Env = NodeJS.ProcessEnv;

/** Which CI service this run is in, from the variables each sets. */
export function pipelineKind(env: Env = process.env): 'github' | 'gitlab' | undefined {
  if (env.GITHUB_ACTIONS === 'true') return 'github';
  if (env.GITLAB_CI === 'true') return 'gitlab';
  return undefined;
}

// ---- NDJSON events -------------------------------------------------------------------------

export interface StepCounts {
  done: number;
  failed: number;
  skipped: number;
}

/** Writes one JSON object per line; keeps what the summary needs. */
export class EventStream {
  readonly command: string;
  readonly #write: (line: string) => void;
  readonly #started = Date.now();
  readonly counts: StepCounts = { done: 0, failed: 0, skipped: 0 };
  #plan: Plan | undefined;
  #ended = false;

  constructor(command: string, write: (line: string) => void) {
    this.command = command;
    this.#write = write;
  }

  #emit(type: string, fields: Record<string, unknown>): void {
    this.#write(`${JSON.stringify({ format_version: EVENTS_FORMAT_VERSION, type, time: new Date().toISOString(), ...fields })}\n`);
  }

  plan(plan: Plan): void {
    this.#plan = plan;
    this.#emit('plan', { plan: planToJson(plan) });
  }

  step(event: ExecutorEvent): void {
    if (event.type === 'batch-wait') return this.#emit('batch_wait', { batch: event.batch, seconds: event.seconds });
    const base = { step: event.step.id, address: event.step.address, host: event.step.host, kind: event.step.action.kind };
    if (event.type === 'step-start') this.#emit('step_started', base);
    else if (event.type === 'step-progress') this.#emit('step_progress', { ...base, message: sanitizeHostText(event.message) });
    else {
      this.counts[event.status] += 1;
      this.#emit('step_finished', {
        ...base,
        status: event.status,
        duration_ms: Math.round(event.ms),
        ...(event.error ? { error: sanitizeHostText(event.error.message) } : {}),
      });
    }
  }

  /**
   * A command's own summary as the last line (drift: its report, whose fields stay at the top so
   * `drift --json` without --fix is still one report object). Written once, like summary().
   */
  commandSummary(exitCode: number, fields: Record<string, unknown>): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#emit('summary', { command: this.command, ok: exitCode === 0, exit_code: exitCode, ...fields });
  }

  /** The last line of the stream: how the command ended. Written once. */
  summary(exitCode: number, error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    const plan = this.#plan;
    this.#emit('summary', {
      command: this.command,
      ok: exitCode === 0,
      exit_code: exitCode,
      duration_ms: Date.now() - this.#started,
      service: plan?.service ?? null,
      destination: plan?.destination ?? null,
      version: plan?.version ?? null,
      hosts: plan ? [...new Set(plan.steps.map((step) => step.host))] : [],
      changes: plan ? summarizePlan(plan) : null,
      steps: { ...this.counts },
      ...(error !== undefined ? { error: sanitizeHostText(errorText(error)) } : {}),
    });
  }
}

/** The error as the CLI's last line says it: with its host in front (messages carry none). */
function errorText(error: unknown): string {
  return describeError(error);
}

/** Root options that take a value: the word after them is not the command's name. */
const VALUE_OPTIONS = new Set(['-c', '--config', '-d', '--destination', '-h', '--hosts', '-r', '--roles']);

/**
 * The command of a command line: its word (`mrsk -d staging deploy --json` → deploy), or the
 * group and its subcommand (`mrsk traefik reboot --json` → `traefik reboot`).
 */
export function commandOf(argv: readonly string[]): string | undefined {
  const words: string[] = [];
  for (let index = 0; index < argv.length && words.length < 2; index++) {
    const word = argv[index]!;
    if (VALUE_OPTIONS.has(word)) index += 1;
    else if (!word.startsWith('-')) {
      words.push(word);
      if (!GROUPS.has(word)) break;
    }
  }
  return words.length > 0 ? words.join(' ') : undefined;
}

// ---- the run: one per process --------------------------------------------------------------

interface Run {
  readonly command: string | undefined;
  readonly env: Env;
  events?: EventStream;
  /** Step results for the GitHub summary and GitLab sections. */
  readonly steps: { step: PlanStep; status: string; ms: number }[];
  plan?: Plan;
}

let run: Run = { command: undefined, env: process.env, steps: [] };

/**
 * Called by main before the command runs: `--json` on an event command turns the event stream on
 * (stdout then carries only NDJSON). Returns the stream, if any.
 */
export function beginRun(command: string | undefined, argv: readonly string[], env: Env = process.env, write = (line: string) => void process.stdout.write(line)): EventStream | undefined {
  run = { command, env, steps: [] };
  if (command !== undefined && EVENT_COMMANDS.has(command) && argv.includes('--json')) run.events = new EventStream(command, write);
  return run.events;
}

/** The event stream of this run, when `--json` asked for one. */
export function runEvents(): EventStream | undefined {
  return run.events;
}

/** The plan a command is about to carry out (or shows): an event, and the GitHub step summary. */
export function notePlan(plan: Plan, heading = 'Plan'): void {
  run.plan = plan;
  run.events?.plan(plan);
  if (pipelineKind(run.env) === 'github') appendStepSummary(run.env, planMarkdown(plan, `mrsk ${run.command ?? ''}: ${heading}`.replace(' : ', ': ')));
}

/** One executor event: to the stream, and kept for the end-of-run summaries. */
export function noteStep(event: ExecutorEvent): void {
  run.events?.step(event);
  if (event.type === 'step-end') run.steps.push({ step: event.step, status: event.status, ms: event.ms });
}

/**
 * Called by main when the command has ended (exit code known): the summary event, the result in
 * the GitHub step summary, config errors as GitHub annotations.
 */
export function endRun(exitCode: number, error?: unknown, write?: (text: string) => void): void {
  run.events?.summary(exitCode, error);
  // annotations are read from either stream; with --json stdout is for the events only
  const annotate = write ?? ((text: string) => void (run.events ? process.stderr : process.stdout).write(text));
  const kind = pipelineKind(run.env);
  if (kind === 'github') {
    if (error instanceof ConfigError) annotate(githubAnnotations(error));
    if (run.plan || error !== undefined) appendStepSummary(run.env, resultMarkdown(run.command, exitCode, run.steps, error));
  }
}

// ---- GitHub Actions ------------------------------------------------------------------------

/** Workflow-command escaping for a message (`%`, CR, LF) and for a property value (also `:` and `,`). */
function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** One `::error file=…,line=…,col=…,title=…::message` line per config problem. */
export function githubAnnotations(error: ConfigError): string {
  return error.diagnostics
    .map((d) => {
      const properties = [
        ...(d.file ? [`file=${escapeProperty(d.file)}`] : []),
        ...(d.line !== undefined ? [`line=${d.line}`] : []),
        ...(d.col !== undefined ? [`col=${d.col}`] : []),
        `title=${escapeProperty(d.path ? `mrsk config: ${d.path}` : 'mrsk config')}`,
      ];
      return `::error ${properties.join(',')}::${escapeData(sanitizeHostText(d.message))}\n`;
    })
    .join('');
}

/** Appends Markdown to $GITHUB_STEP_SUMMARY (a file GitHub renders on the run's page). */
function appendStepSummary(env: Env, markdown: string): void {
  const file = env.GITHUB_STEP_SUMMARY;
  if (!file) return;
  try {
    appendFileSync(file, markdown.endsWith('\n') ? markdown : `${markdown}\n`);
  } catch {
    // a summary that cannot be written never fails a deploy
  }
}

/** Markdown table cells: no pipes or newlines from values. */
function cell(text: string): string {
  return sanitizeHostText(text).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** The plan as Markdown: a heading, the counts, one table row per step. */
export function planMarkdown(plan: Plan, heading: string): string {
  const summary = summarizePlan(plan);
  const lines = [`### ${heading}`, ''];
  const target = `${plan.service}${plan.destination ? ` (${plan.destination})` : ''}, version \`${plan.version}\``;
  if (plan.steps.length === 0) {
    lines.push(`${target}: no changes. Hosts match the configuration.`);
  } else {
    lines.push(
      `${target}: **${summary.add} to add, ${summary.change} to change, ${summary.replace} to replace, ${summary.destroy} to destroy.**`,
      '',
      '| | host | resource | cause |',
      '|---|---|---|---|',
      ...plan.steps.map((step) => `| \`${step.symbol}\` | ${cell(step.host)} | ${cell(step.address)} | ${cell(step.cause)} |`),
    );
  }
  for (const blocked of plan.blockedHosts) lines.push('', `> **${cell(blocked.host)}**: ${cell(blocked.status)} ${cell(blocked.message)}`);
  return `${lines.join('\n')}\n\n`;
}

/** How the run ended, as Markdown: outcome, then each step with its duration. */
export function resultMarkdown(command: string | undefined, exitCode: number, steps: Run['steps'], error?: unknown): string {
  const title = `mrsk ${command ?? ''}`.trim();
  const lines = [`### ${title}: ${exitCode === 0 ? 'done' : `failed (exit ${exitCode})`}`, ''];
  if (error !== undefined) lines.push('```', sanitizeHostText(errorText(error)).replace(/```/g, "'''"), '```', '');
  if (steps.length > 0) {
    lines.push('| host | step | result | time |', '|---|---|---|---|');
    for (const { step, status, ms } of steps) lines.push(`| ${cell(step.host)} | ${cell(step.address)} | ${status} | ${(ms / 1000).toFixed(1)}s |`);
  }
  return `${lines.join('\n')}\n\n`;
}

// ---- GitLab CI -----------------------------------------------------------------------------

/**
 * One collapsible section per host (GitLab's `section_start:TIME:NAME[collapsed=true]` / `section_end`
 * markers) listing that host's steps, printed when the steps are done: hosts run at once, so the
 * live lines interleave and the sections give each host's story in one place.
 */
export function gitlabHostSections(steps: Run['steps'], now = Date.now()): string {
  const hosts = [...new Set(steps.map((entry) => entry.step.host))];
  const seconds = Math.floor(now / 1000);
  const out: string[] = [];
  hosts.forEach((host, index) => {
    const mine = steps.filter((entry) => entry.step.host === host);
    const failed = mine.filter((entry) => entry.status === 'failed').length;
    const name = `mrsk_host_${index + 1}`;
    out.push(`\u001b[0Ksection_start:${seconds}:${name}[collapsed=${failed === 0}]\r\u001b[0K${sanitizeHostText(host)}: ${mine.length} step(s)${failed ? `, ${failed} failed` : ''}`);
    for (const { step, status, ms } of mine) out.push(`  ${sanitizeHostText(step.address)} ${status}${status === 'done' ? ` (${(ms / 1000).toFixed(1)}s)` : ''}`);
    out.push(`\u001b[0Ksection_end:${seconds}:${name}\r\u001b[0K`);
  });
  return out.length > 0 ? `${out.join('\n')}\n` : '';
}

/** At the end of a plan's execution: GitLab's per-host sections (to the human stream). */
export function afterSteps(write: (text: string) => void, steps: readonly PlanStep[]): void {
  if (pipelineKind(run.env) !== 'gitlab') return;
  const ids = new Set(steps.map((step) => step.id));
  write(gitlabHostSections(run.steps.filter((entry) => ids.has(entry.step.id))));
}
