// A DriftReport as text, grouped per host, for a person or a cron mail (`mrsk drift --json`
// prints the report object itself: its fields are the documented format). Only formats.
import type { DriftFinding, DriftReport, HostDrift } from '../drift/types.ts';
import { abbreviateVersions } from '../plan/short-version.ts';
import { painter, type Paint } from './paint.ts';
import { wrapWords } from './wrap.ts';

/** Text rendering options. */
export interface RenderDriftOptions {
  readonly color?: boolean;
  /** Columns to wrap lines at (default 80). */
  readonly width?: number;
}

function findingLines(finding: DriftFinding, paint: Paint, width: number): string[] {
  const subject = finding.accessory ? `accessory ${finding.accessory}: ` : finding.role ? `${finding.role}: ` : finding.kind.startsWith('traefik') ? 'traefik: ' : '';
  const marker = finding.fixable ? paint('yellow', '!') : paint('red', '✗');
  const tail = finding.fixable ? ' [fixable]' : finding.hint ? ` — ${finding.hint}` : '';
  return wrapWords(abbreviateVersions(`${subject}${finding.cause} (${finding.kind})${tail}`), width, `  ${marker} `, '    ');
}

function hostBlock(host: HostDrift, paint: Paint, width: number): string[] {
  if (host.status === 'error') return wrapWords(`${paint('bold', host.host)}  ${paint('red', `NOT CHECKED (${host.problem})`)}: ${host.message}`, width, '', '    ');
  const release = host.release
    ? `release ${host.release.id} (${abbreviateVersions(host.release.version)}, applied ${host.release.appliedAt.replace(/\.\d+Z$/, 'Z')} by ${host.release.appliedBy})`
    : host.accessoriesOnly
      ? 'accessories only (no release: nothing of the app runs here)'
      : 'no release recorded';
  // The host's header stays one line (scripts and mail filters look for it); what follows wraps.
  const lines = [`${paint('bold', host.host)}  ${release}`];
  if (host.findings.length === 0) lines.push(`  ${paint('green', '✓')} no drift`);
  for (const finding of host.findings) lines.push(...findingLines(finding, paint, width));
  return lines;
}

/** The report as text: one block per host, then a one-line summary. */
export function renderDriftText(report: DriftReport, options: RenderDriftOptions = {}): string {
  const app = report.destination ? `${report.service} (${report.destination})` : report.service;
  const paint = painter(options.color);
  const lines = [`Drift of ${app} against the release recorded on each host:`, ''];
  for (const host of report.hosts) lines.push(...hostBlock(host, paint, options.width ?? 80), '');
  lines.push(...wrapWords(summaryLine(report), options.width ?? 80, '', ''));
  return `${lines.join('\n')}\n`;
}

/** `Drift: 3 findings on 1 of 2 hosts (2 fixable …)` or `No drift: …`, plus the hosts not checked. */
export function summaryLine(report: DriftReport): string {
  const { summary } = report;
  const unchecked = summary.hostsInError > 0 ? ` ${summary.hostsInError} host${summary.hostsInError === 1 ? '' : 's'} could not be checked.` : '';
  if (summary.findings === 0) return `No drift: ${summary.hostsChecked} host${summary.hostsChecked === 1 ? '' : 's'} match their recorded release.${unchecked}`;
  const fixable = summary.fixable > 0 ? `; ${summary.fixable} fixable with \`mrsk drift --fix\`` : '';
  return `Drift: ${summary.findings} finding${summary.findings === 1 ? '' : 's'} on ${summary.hostsWithDrift} of ${summary.hostsChecked} checked host${summary.hostsChecked === 1 ? '' : 's'}${fixable}.${unchecked}`;
}
