// Why a new container never became healthy, in words a user can act on: what Docker probed
// (inside the container), what the last probes answered, a few log lines, and what mrsk then
// verified (the container stopped and marked; the previous version still serving or not).
// Pure: steps.ts gathers the facts on the host, this file only formats them. Everything that
// came from a host passes through stripControl before it reaches a terminal.
import { DeployError } from '../errors.ts';
import { sanitizeHostText } from '../text/sanitize.ts';

/** Health probes shown per failure (Docker keeps the last 5). */
export const HEALTH_LOG_ENTRIES = 3;
/** Log lines shown for the first failed host (the others get a summary). */
export const LOG_LINES = 10;
/** Longest line shown from a host; longer ones are cut with `…`. */
const MAX_LINE = 200;

/**
 * Removes terminal escape sequences and control characters (a hostile or broken host must not
 * drive the user's terminal): the one sanitizer for host text, after a carriage return became a newline.
 */
export function stripControl(text: string): string {
  return sanitizeHostText(text.replace(/\r\n?/g, '\n'));
}

function cut(line: string, max = MAX_LINE): string {
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** The last `count` non-empty lines of a host's text, cleaned and cut to a readable width. */
export function lastLines(text: string, count: number): string[] {
  const lines = stripControl(text).split('\n').map((l) => l.trimEnd()).filter((l) => l.trim() !== '');
  return lines.slice(-count).map((l) => cut(l));
}

/** One Docker health probe result (`docker inspect` .State.Health.Log[]). */
export interface HealthProbeResult {
  readonly exitCode: number;
  readonly output: string;
}

/**
 * What Docker runs to judge health, from `docker inspect` .Config.Healthcheck.Test, in words.
 * mrsk's own check (`test -f <cord> && (wget … || curl …)`, or its tries loop) is shown as the URL it fetches.
 */
export function describeProbe(test: readonly string[] | undefined, readinessDelay?: number): string {
  if (!test || test.length === 0 || test[0] === 'NONE') {
    return `no healthcheck: it had to keep running for its readiness delay${readinessDelay !== undefined ? ` of ${readinessDelay}s` : ''}`;
  }
  const [kind, ...rest] = test.map((part) => stripControl(part));
  const shell = kind === 'CMD-SHELL' ? rest.join(' ') : kind === 'CMD' ? rest.join(' ') : [kind, ...rest].join(' ');
  // Docker's watching form around the check (runtime/health-watch.ts): `…; (<check>) || exit 1; …`
  const watching = /^if \[ ! -f \S+ \]; then .*?; exit 1; fi; if \[ -e \S+ \]; then rm -f \S+; fi; \((.*)\) \|\| exit 1; if \[ -e \S+ \] \|\| .*; exit 0$/s.exec(shell);
  const command = watching ? watching[1]! : shell;
  // max_attempts > 1: the tries loop around the same `test -f <cord> && (<check>)` (desired.ts)
  const tries = /^i=1; while \[ \$i -lt (\d+) \]; do test -f \S+ \|\| exit 1; \(.*\) >\/dev\/null 2>&1 && exit 0; sleep (\S+); i=\$\(\(i \+ 1\)\); done; (test -f .*)$/s.exec(command);
  const last = tries ? tries[3]! : command;
  const withCord = /^test -f (\S+) && \((.*)\)$/s.exec(last);
  const inner = withCord ? withCord[2]! : last;
  // shq quotes a URL only when it needs quoting
  const fetch = /^wget -q -O \/dev\/null '?([^' ]+)'? \|\| curl -fsS -o \/dev\/null '?([^' ]+)'?$/.exec(inner);
  const what = fetch && fetch[1] === fetch[2] ? `GET ${fetch[1]} (wget, else curl)` : `\`${cut(inner)}\``;
  const times = tries ? `, up to ${tries[1]} tries ${tries[2]}s apart` : '';
  const watch = watching ? ', and watches it between runs' : '';
  return `${what}${times}, run by Docker inside the container${withCord ? ` (it also requires the drain file ${withCord[1]}${watch})` : ''}`;
}

/** One health probe result as one line: `exit 1: wget: server returned error: HTTP/1.1 500`. */
export function formatProbeResult(result: HealthProbeResult): string {
  const output = lastLines(result.output, 3).map((l) => l.trim()).join(' / ');
  return cut(`exit ${result.exitCode}: ${output || '(no output)'}`);
}

/** What became of the container that never became healthy, as mrsk verified it. */
export type StopOutcome =
  | { readonly kind: 'renamed'; readonly to: string }
  | { readonly kind: 'stopped' }
  /** It was running before this run (a repair): stopping it would not bring anything back. */
  | { readonly kind: 'left-running' }
  | { readonly kind: 'rename-failed'; readonly error: string }
  | { readonly kind: 'stop-failed'; readonly error: string }
  | { readonly kind: 'gone' };

/** A running container of the same role (another version), as checked after the failure. */
export interface OtherContainer {
  readonly name: string;
  readonly version: string;
  /** Docker health; undefined without a healthcheck. */
  readonly health?: string;
  /** Does Traefik list it UP? undefined when it is not proxied; 'unknown' when the API did not answer. */
  readonly routed?: boolean | 'unknown';
}

/** Whether the previous version still serves, as checked on the host. */
export type ServingOutcome =
  | { readonly kind: 'checked'; readonly role: string; readonly others: readonly OtherContainer[] }
  | { readonly kind: 'unknown'; readonly error: string };

export function stopSentence(name: string, stop: StopOutcome): string {
  switch (stop.kind) {
    case 'stopped':
      return `${name} was stopped.`;
    case 'left-running':
      return `${name} was left running, as it was before this run.`;
    case 'renamed':
      return `${name} was stopped and renamed ${stop.to}: kept for inspection, never a rollback target.`;
    case 'rename-failed':
      return `${name} was stopped and kept for inspection; marking it as never healthy (a rename) failed: ${cut(stripControl(stop.error).trim().split('\n').pop() ?? '')}.`;
    case 'stop-failed':
      return `Stopping ${name} failed (${cut(stripControl(stop.error).trim().split('\n').pop() ?? '')}): it may still be running; run the command again or stop it by hand.`;
    case 'gone':
      return `${name} no longer exists.`;
  }
}

export function servingSentence(serving: ServingOutcome): string {
  if (serving.kind === 'unknown') return `Whether the previous version still serves could not be checked: ${cut(stripControl(serving.error).trim().split('\n').pop() ?? '')}.`;
  if (serving.others.length === 0) return `No other container of role ${serving.role || '(none)'} is running on this host: nothing serves that role here.`;
  return serving.others
    .map((other) => {
      const label = `The previous version ${other.version} (${other.name})`;
      const problems: string[] = [];
      if (other.health !== undefined && other.health !== 'healthy') problems.push(`Docker reports it ${other.health}`);
      if (other.routed === false) problems.push('Traefik does not route to it');
      if (problems.length > 0) return `${label} is running, but ${problems.join(' and ')}.`;
      const facts = ['running', other.health === 'healthy' ? 'healthy' : 'no healthcheck'];
      // "keeps serving" only when Traefik was seen routing to it (or it is not routed at all)
      if (other.routed === 'unknown') return `${label} is ${facts.join(' and ')}, but whether Traefik routes to it is unknown: its API did not answer.`;
      if (other.routed === true) facts.push('routed by Traefik');
      return `${label} keeps serving: ${facts.join(', ')}.`;
    })
    .join('\n');
}

/** Everything known about one container that did not become healthy. */
export interface HealthFailure {
  readonly name: string;
  /** Why waiting ended, e.g. `still unhealthy after 30s`, `it exited (1)`. */
  readonly reason: string;
  /** .Config.Healthcheck.Test of the container, when it could be read. */
  readonly probe?: readonly string[];
  readonly readinessDelay?: number;
  /** .State.Health.Log, oldest first. */
  readonly healthLog?: readonly HealthProbeResult[];
  /** The container's last log lines (stdout and stderr), or why they could not be read. */
  readonly logs: { readonly text: string } | { readonly error: string };
  readonly stop: StopOutcome;
  readonly serving: ServingOutcome;
}

const indent = (lines: readonly string[], by = '  '): string[] => lines.map((l) => `${by}${l}`);

/** The full report (for the first failed host) and a summary (for any other host that failed alike). */
export function healthReport(failure: HealthFailure): { message: string; brief: string } {
  const headline = `${failure.name} did not become healthy: ${failure.reason}`;
  const lines = [headline];
  if (failure.probe !== undefined || failure.readinessDelay !== undefined) lines.push(`  probed: ${describeProbe(failure.probe, failure.readinessDelay)}`);
  const checks = (failure.healthLog ?? []).slice(-HEALTH_LOG_ENTRIES);
  if (checks.length > 0) {
    lines.push(`  last health check${checks.length === 1 ? '' : 's'} (newest last):`, ...indent(checks.map(formatProbeResult), '    '));
  }
  if ('text' in failure.logs) {
    const logLines = lastLines(failure.logs.text, LOG_LINES);
    if (logLines.length === 0) lines.push(`  ${failure.name} logged nothing.`);
    else lines.push(`  last ${logLines.length} log line${logLines.length === 1 ? '' : 's'} of ${failure.name}:`, ...indent(logLines, '    '));
  } else {
    lines.push(`  its logs could not be read: ${cut(stripControl(failure.logs.error).trim().split('\n').pop() ?? '')}`);
  }
  const outcome = [stopSentence(failure.name, failure.stop), ...servingSentence(failure.serving).split('\n')];
  lines.push(...indent(outcome));
  const last = checks.at(-1);
  const brief = [`${headline}${last ? ` (last health check: ${formatProbeResult(last)})` : ''}`, ...indent(outcome)].join('\n');
  return { message: lines.join('\n'), brief };
}

/** A step failed because a new container did not become healthy; `brief` leaves out probe and logs. */
export class HealthCheckError extends DeployError {
  readonly brief: string;
  constructor(message: string, brief: string) {
    super(message);
    this.brief = brief;
  }
}
