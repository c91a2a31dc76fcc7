// How per-host results read: one section per host, as Kamal prints them, and a summary after a
// command that ran on several hosts. The host is the section's header (messages carry no host of
// their own); src/ops/hosts.ts runs the tasks and hands the outcomes here in host order.
import type { HostOutcome } from '../ops/hosts.ts';

/** `<Title> Host: <host>`, the output and a blank line, as Kamal prints per-host results. */
export function formatHostSection(title: string, outcome: HostOutcome): string {
  const header = `${title} Host: ${outcome.host}`;
  const body = outcome.output.replace(/\n+$/, '');
  const lines = [header];
  if (body) lines.push(body);
  if (!outcome.ok && outcome.problem) lines.push(`error: ${outcome.problem}`);
  // a blank line after each section, as Kamal prints them, so hosts stand apart
  return `${lines.join('\n')}\n\n`;
}

/**
 * The per-host summary after a multi-host command: one line per host and a total, e.g.
 * `10.0.0.2  FAILED  exit 3`. Empty when there was only one host and it succeeded.
 */
export function formatSummary(outcomes: readonly HostOutcome[]): string {
  const failed = outcomes.filter((o) => !o.ok);
  if (outcomes.length <= 1 && failed.length === 0) return '';
  const width = Math.max(...outcomes.map((o) => o.host.length));
  const lines = outcomes.map((o) => `  ${o.host.padEnd(width)}  ${o.ok ? 'ok' : `FAILED  ${o.problem ?? (o.code !== undefined ? `exit ${o.code}` : '')}`}`.trimEnd());
  const total = failed.length === 0 ? `${outcomes.length} host(s), all ok` : `${outcomes.length} host(s), ${failed.length} failed`;
  return `Summary: ${total}\n${lines.join('\n')}\n`;
}
