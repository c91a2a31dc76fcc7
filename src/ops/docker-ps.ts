// Parsing `docker ps --format '{{json .}}'` and `docker image ls --format '{{json .}}'` lines
// (the tables made of them are views: src/views/containers.ts).
import { dockerState } from '../probe/parse.ts';

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
    state: psState(String(raw.State ?? '')),
    ports: raw.Ports ?? '',
    names: raw.Names ?? '',
    // Docker prints labels as one string, Podman as a map
    labels: typeof raw.Labels === 'object' && raw.Labels !== null ? { ...(raw.Labels as Record<string, string>) } : parseLabelString(String(raw.Labels ?? '')),
  }));
}

/**
 * Docker's ps State word (running, exited, created, …). Podman's ps prints its status text there
 * ("Up 2 minutes ago", "Exited (0) 1 second ago", "Created"): read the word from it.
 */
export function psState(text: string): string {
  if (/^[a-z]+$/.test(text)) return dockerState(text);
  if (/^Up\b/.test(text)) return /\(Paused\)/i.test(text) ? 'paused' : 'running';
  if (/^(Exited|Stopped)\b/.test(text)) return 'exited';
  const word = /^[A-Za-z]+/.exec(text)?.[0]?.toLowerCase();
  return word ?? text;
}

/** The observed-state rule, kept importable from here for the table code that filters ps lines with it. */
export { isAppContainer } from '../probe/observed.ts';

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
