// The release ledger on a host: `~/.mrsk/<app>/releases/<id>.json`, one per applied release,
// plus current.json (a copy of the last). A read-only script prints them (src/host/ledger.ts);
// parsing is pure.
import type { ReleaseRecord } from '../probe/types.ts';
import { LEDGER_FILE_MARK } from '../host/ledger.ts';
import { DESTINATION_LABEL, VERSION_LABEL } from '../model/labels.ts';
import { psLabel } from '../runtime/container.ts';
import type { RuntimeName } from '../runtime/runtime.ts';
import { isNeverHealthy } from '../plan/never-healthy.ts';
import { abbreviateVersions } from '../plan/short-version.ts';
import { sanitizeHostText } from '../text/sanitize.ts';

/** A host's ledger: every release, newest first, and which one is current. */
export interface Ledger {
  readonly releases: readonly ReleaseRecord[];
  readonly currentId?: string;
  /** Files that were not valid release records (named, not fatal). */
  readonly unreadable: readonly string[];
}

function isRecord(value: unknown): value is ReleaseRecord {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return typeof v.id === 'string' && typeof v.version === 'string' && typeof v.appliedAt === 'string' && typeof v.appliedBy === 'string';
}

/** Parses the output of readLedgerScript (src/host/ledger.ts). */
export function parseLedger(output: string): Ledger {
  const files = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of output.split('\n')) {
    const mark = LEDGER_FILE_MARK.exec(line);
    if (mark) files.set(mark[1]!, (current = []));
    else current?.push(line);
  }
  const releases: ReleaseRecord[] = [];
  const unreadable: string[] = [];
  let currentId: string | undefined;
  for (const [file, lines] of files) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(lines.join('\n'));
    } catch {
      parsed = undefined;
    }
    if (!isRecord(parsed)) {
      unreadable.push(file);
      continue;
    }
    if (file === 'current.json') currentId = parsed.id;
    else releases.push(parsed);
  }
  releases.sort((a, b) => (a.appliedAt === b.appliedAt ? b.id.localeCompare(a.id) : b.appliedAt.localeCompare(a.appliedAt)));
  return { releases, ...(currentId ? { currentId } : {}), unreadable };
}

/** The release with this id on any of the ledgers, if one has it. */
export function findRelease(ledgers: Iterable<Ledger>, id: string): ReleaseRecord | undefined {
  for (const ledger of ledgers) {
    // `mrsk releases` shows ids with their version 12 characters long: that form is accepted too.
    const found = ledger.releases.find((r) => r.id === id) ?? ledger.releases.find((r) => abbreviateVersions(r.id) === id);
    if (found) return found;
  }
  return undefined;
}

/** A container left by a version that never became healthy (see plan/never-healthy.ts). */
export interface NeverHealthyContainer {
  readonly version: string;
  readonly container: string;
}

/** `ps -a --format` template whose lines parseNeverHealthy reads: name, version, destination. */
export function neverHealthyFormat(rt: RuntimeName): string {
  return `{{.Names}}\t${psLabel(rt, VERSION_LABEL)}\t${psLabel(rt, DESTINATION_LABEL)}`;
}

/** The never-healthy containers of this destination in `ps -a --format neverHealthyFormat(…)` output. */
export function parseNeverHealthy(output: string, destination?: string): NeverHealthyContainer[] {
  const found: NeverHealthyContainer[] = [];
  for (const line of output.split('\n')) {
    const [name = '', version = '', dest = ''] = line.trim().split('\t');
    if (name === '' || !isNeverHealthy({ name }) || dest !== (destination ?? '')) continue;
    // a label is whatever the host says: no control characters reach the terminal
    found.push({ version: sanitizeHostText(version), container: name });
  }
  return found.sort((a, b) => a.container.localeCompare(b.container));
}
