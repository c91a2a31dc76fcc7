// Human causes for plan steps: what was seen on the host that makes a step necessary. Secret
// values are never known here (the labels carry only HMACs), so they are named, never shown.
import type { ContainerSpecParts, TraefikSpecParts } from '../desired/spec-hash.ts';
import { parseSpecParts } from '../desired/spec-hash.ts';
import { SPEC_HASH_LABEL } from '../model/labels.ts';
import type { ObservedContainer } from '../probe/types.ts';
import type { ValueChange } from './types.ts';
import { toShell } from '../shell/quote.ts';

/** A cause and the value changes behind it. */
export interface Cause {
  readonly cause: string;
  readonly changes: readonly ValueChange[];
}

/** `container exited (1)`, `container created but never started`, … for a container not running. */
export function stateCause(container: ObservedContainer, what = 'container'): string {
  switch (container.state) {
    case 'exited':
      return `${what} exited (${container.exitCode})`;
    case 'created':
      return `${what} created but never started`;
    case 'dead':
      return `${what} dead (${container.exitCode})`;
    default:
      return `${what} ${container.state}`;
  }
}

const shortHash = (hash: string | undefined): string => (hash ? `${hash.slice(0, 15)}…` : 'none');

function hashOnly(observed: ObservedContainer, desiredHash: string): Cause {
  return { cause: `spec changed (spec-hash ${shortHash(observed.labels[SPEC_HASH_LABEL])} → ${shortHash(desiredHash)})`, changes: [] };
}

function compareEnv(
  before: Readonly<Record<string, string>>,
  after: Readonly<Record<string, string>>,
  hidden: boolean,
  changes: ValueChange[],
  words: string[],
): void {
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const suffix = hidden ? ' (value hidden)' : '';
  for (const name of names) {
    const subject = `env ${name}`;
    if (!(name in before)) {
      words.push(`${subject} added${suffix}`);
      changes.push(hidden ? { subject, hidden } : { subject, after: after[name] });
    } else if (!(name in after)) {
      words.push(`${subject} removed`);
      changes.push(hidden ? { subject, hidden } : { subject, before: before[name] });
    } else if (before[name] !== after[name]) {
      words.push(`${subject} changed${suffix}`);
      changes.push(hidden ? { subject, hidden } : { subject, before: before[name], after: after[name] });
    }
  }
}

/** Why a container of the right name must be replaced: the parts that differ, most specific first. */
export function containerSpecCause(observed: ObservedContainer, desiredLabels: Readonly<Record<string, string>>, desiredHash: string): Cause {
  const before = parseSpecParts<ContainerSpecParts>(observed.labels);
  const after = parseSpecParts<ContainerSpecParts>(desiredLabels);
  if (!before || !after) return hashOnly(observed, desiredHash);
  const words: string[] = [];
  const changes: ValueChange[] = [];
  if (before.image !== after.image) {
    words.push(`image ${before.image ?? '?'} → ${after.image ?? '?'}`);
    changes.push({ subject: 'image', before: before.image ?? '', after: after.image ?? '' });
  }
  const cmdText = (cmd: readonly string[] | null | undefined) => (cmd ? toShell(cmd) : '(image default)');
  if (cmdText(before.cmd) !== cmdText(after.cmd)) {
    words.push(`cmd ${cmdText(before.cmd)} → ${cmdText(after.cmd)}`);
    changes.push({ subject: 'cmd', before: cmdText(before.cmd), after: cmdText(after.cmd) });
  }
  compareEnv(before.env ?? {}, after.env ?? {}, false, changes, words);
  compareEnv(before.secrets ?? {}, after.secrets ?? {}, true, changes, words);
  for (const part of ['volumes', 'labels', 'healthcheck', 'logging', 'options', 'network'] as const) {
    if (before[part] !== after[part]) words.push(`${part} changed`);
  }
  return words.length > 0 ? { cause: words.join(', '), changes } : hashOnly(observed, desiredHash);
}

/** Why Traefik must be replaced although it runs: image, args, ports or another part differ. */
export function traefikSpecCause(observed: ObservedContainer, desiredLabels: Readonly<Record<string, string>>, desiredHash: string): Cause {
  const before = parseSpecParts<TraefikSpecParts>(observed.labels);
  const after = parseSpecParts<TraefikSpecParts>(desiredLabels);
  if (!before || !after) {
    const hash = hashOnly(observed, desiredHash);
    return { cause: `traefik ${hash.cause}`, changes: [] };
  }
  const words: string[] = [];
  const changes: ValueChange[] = [];
  if (before.image !== after.image) {
    words.push(`image ${before.image ?? '?'} → ${after.image ?? '?'}`);
    changes.push({ subject: 'image', before: before.image ?? '', after: after.image ?? '' });
  }
  for (const part of ['args', 'ports', 'options'] as const) {
    const old = before[part] ?? [];
    const next = after[part] ?? [];
    if (JSON.stringify(old) === JSON.stringify(next)) continue;
    const added = next.filter((item) => !old.includes(item));
    const removed = old.filter((item) => !next.includes(item));
    const detail = [added.length > 0 ? `added ${added.join(' ')}` : '', removed.length > 0 ? `removed ${removed.join(' ')}` : '']
      .filter(Boolean)
      .join('; ');
    words.push(`${part} changed${detail ? ` (${detail})` : ' (order)'}`);
  }
  for (const part of ['volumes', 'labels', 'network'] as const) {
    if (before[part] !== after[part]) words.push(`${part} changed`);
  }
  return { cause: `traefik ${words.length > 0 ? words.join(', ') : hashOnly(observed, desiredHash).cause}`, changes };
}

/**
 * What changed in an accessory, in words, from the parts labels: image and ports with their
 * values, the other parts by name (`files /etc/redis.conf`, `env REDIS_ARGS`, secrets hidden).
 */
export function accessorySpecCause(observed: ObservedContainer, spec: { readonly labels: Readonly<Record<string, string>>; readonly specHash: string }): string {
  const before = parseSpecParts<Record<string, unknown>>(observed.labels);
  const after = parseSpecParts<Record<string, unknown>>(spec.labels);
  if (!before || !after) return 'spec changed';
  const words: string[] = [];
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  const keysOf = (value: unknown) => Object.keys((value ?? {}) as Record<string, unknown>);
  for (const key of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
    if (same(before[key], after[key])) continue;
    if (key === 'image' || key === 'ports' || key === 'cmd') words.push(`${key} ${JSON.stringify(before[key] ?? null)} → ${JSON.stringify(after[key] ?? null)}`);
    else if (key === 'env' || key === 'secrets' || key === 'files') {
      const b = (before[key] ?? {}) as Record<string, unknown>;
      const a = (after[key] ?? {}) as Record<string, unknown>;
      const names = [...new Set([...keysOf(b), ...keysOf(a)])].filter((name) => !same(b[name], a[name])).sort();
      words.push(`${key === 'secrets' ? 'secret' : key} ${names.join(', ')}${key === 'secrets' ? ' (values hidden)' : ''}`);
    } else words.push(`${key} changed`);
  }
  return words.length > 0 ? words.join('; ') : 'spec changed';
}
