// Parsing `docker ps --format '{{json .}}'` and `docker image ls --format '{{json .}}'` lines,
// and the tables `mrsk details`, `app details`, `traefik details` and `app images` print.
import { abbreviateVersions } from '../plan/short-version.ts';
import { formatTable } from './table.ts';

/** One line of `docker ps --format '{{json .}}'`, with labels parsed. */
export interface PsEntry {
  readonly id: string;
  readonly image: string;
  readonly command: string;
  readonly createdAt: string;
  readonly runningFor: string;
  readonly status: string;
  readonly state: string;
  readonly ports: string;
  readonly names: string;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * docker ps prints labels as one `k=v,k=v` string. Values may contain commas (a Traefik rule
 * `Host(\`a\`,\`b\`)`), so a piece without `=` is glued back onto the previous value.
 */
export function parseLabelString(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let lastKey: string | undefined;
  for (const piece of text.split(',')) {
    const eq = piece.indexOf('=');
    if (eq > 0 && /^[A-Za-z0-9_.\-/]+$/.test(piece.slice(0, eq))) {
      lastKey = piece.slice(0, eq);
      labels[lastKey] = piece.slice(eq + 1);
    } else if (lastKey !== undefined) {
      labels[lastKey] += `,${piece}`;
    }
  }
  return labels;
}

/** Parses docker's `--format '{{json .}}'` output: one JSON object per line, blank lines skipped. */
function jsonLines(stdout: string): Record<string, string>[] {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, string>);
}

/** Parses the JSON lines of `docker ps --format '{{json .}}'`; blank lines are skipped. */
export function parsePsLines(stdout: string): PsEntry[] {
  return jsonLines(stdout).map((raw) => ({
    id: raw.ID ?? '',
    image: raw.Image ?? '',
    command: raw.Command ?? '',
    createdAt: raw.CreatedAt ?? '',
    runningFor: raw.RunningFor ?? '',
    status: raw.Status ?? '',
    state: raw.State ?? '',
    ports: raw.Ports ?? '',
    names: raw.Names ?? '',
    labels: parseLabelString(raw.Labels ?? ''),
  }));
}

/** The observed-state rule, kept importable from here for the table code that filters ps lines with it. */
export { isAppContainer } from '../probe/observed.ts';

/**
 * docker's PORTS without the repeats: `0.0.0.0:80->80/tcp, [::]:80->80/tcp` is `80->80/tcp`;
 * a port published on one address only (`127.0.0.1:8080->8080/tcp`) keeps its address.
 */
export function compactPorts(ports: string): string {
  const seen = new Set<string>();
  for (const part of ports.split(',').map((p) => p.trim()).filter(Boolean)) seen.add(part.replace(/^(?:0\.0\.0\.0|\[::\]|::):/, ''));
  return [...seen].join(', ');
}

/**
 * The columns of `docker ps` users know: short id, image, status, ports, name. Versions show 12
 * characters long; given a width, long image refs are cut keeping their tag, then the id goes.
 */
export function formatPsTable(entries: readonly PsEntry[], width?: number): string {
  if (entries.length === 0) return 'no containers\n';
  return formatTable(
    ['CONTAINER ID', 'IMAGE', 'STATUS', 'PORTS', 'NAMES'],
    entries.map((e) => [e.id.replace(/^sha256:/, '').slice(0, 12), abbreviateVersions(e.image), e.status, compactPorts(e.ports), abbreviateVersions(e.names)]),
    { width, steps: [{ cut: 1, to: 24, keep: 'end' }, { drop: 0 }, { cut: 1, to: 16, keep: 'end' }, { cut: 3, to: 24 }, { drop: 3 }, { cut: 2, to: 16 }, { cut: 1, to: 12, keep: 'end' }] },
  );
}

/** One line of `docker image ls --format '{{json .}}'`. */
export interface ImageEntry {
  readonly id: string;
  readonly repository: string;
  readonly tag: string;
  readonly createdSince: string;
  readonly size: string;
}

/** Parses the JSON lines of `docker image ls --format '{{json .}}'`. */
export function parseImageLines(stdout: string): ImageEntry[] {
  return jsonLines(stdout).map((raw) => ({
    id: raw.ID ?? '',
    repository: raw.Repository ?? '',
    tag: raw.Tag ?? '',
    createdSince: raw.CreatedSince ?? '',
    size: raw.Size ?? '',
  }));
}

/** `docker image ls` columns: repository, tag, short id, age, size. */
export function formatImageTable(entries: readonly ImageEntry[], width?: number): string {
  if (entries.length === 0) return 'no images\n';
  return formatTable(
    ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'],
    entries.map((e) => [e.repository, abbreviateVersions(e.tag), e.id.replace(/^sha256:/, '').slice(0, 12), e.createdSince, e.size]),
    { width, steps: [{ cut: 0, to: 24, keep: 'end' }, { drop: 2 }, { drop: 3 }, { cut: 0, to: 12, keep: 'end' }] },
  );
}
