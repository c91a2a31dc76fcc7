// Test builders for snapshots: hosts as a probe would report them, and containers as mrsk would
// have started them (built from real desired specs, so labels and hashes are the real ones).
import { deriveDesired } from '../../../src/desired/desired.ts';
import type { ContainerSpec, TraefikSpec } from '../../../src/desired/types.ts';
import { diff } from '../../../src/plan/diff.ts';
import { simulate } from '../../../src/plan/simulate.ts';
import type { Config } from '../../../src/config/types.ts';
import type { ContainerState, ObservedContainer, ObservedImage, ReachableHost, Snapshot, UnreachableHost } from '../../../src/probe/types.ts';
import { createHash } from 'node:crypto';

/** When every fixture snapshot was "taken"; containers are created before it. */
export const TAKEN_AT = '2026-11-20T12:00:00.000Z';

/** A deterministic 64-hex container or image id from a seed. */
export function fakeId(seed: string): string {
  return createHash('sha256').update(seed).digest('hex');
}

/** A reachable host; networks default to none (a fresh host), no containers, no images. */
export function reachableHost(host: string, parts: Partial<Omit<ReachableHost, 'host' | 'status'>> = {}): ReachableHost {
  return {
    host,
    status: 'ok',
    dockerVersion: '26.1.5',
    runtime: 'docker',
    home: '/home/deploy',
    containers: [],
    images: [],
    networks: ['bridge', 'host', 'none'],
    ...parts,
  };
}

/** A host the probe could not use. */
export function unreachableHost(host: string, message = 'connect ECONNREFUSED 10.0.0.3:22'): UnreachableHost {
  return { host, status: 'unreachable', message };
}

/** A snapshot of these hosts. */
export function snapshotOf(...hosts: (ReachableHost | UnreachableHost)[]): Snapshot {
  return { takenAt: TAKEN_AT, hosts: Object.fromEntries(hosts.map((host) => [host.host, host])) };
}

/** How an observed container differs from a freshly started one. */
export interface ObservedOptions {
  readonly state?: ContainerState;
  readonly exitCode?: number;
  /** ISO time; default: an hour before TAKEN_AT. */
  readonly createdAt?: string;
  readonly id?: string;
  readonly host?: string;
}

/** A container as docker reports one that mrsk started from `spec`. */
export function observedFromSpec(spec: ContainerSpec | TraefikSpec, options: ObservedOptions = {}): ObservedContainer {
  const state = options.state ?? 'running';
  const image = spec.image;
  return {
    id: options.id ?? fakeId(`${options.host ?? ''}/${spec.name}/${spec.specHash}`),
    name: spec.name,
    image,
    imageId: `sha256:${fakeId(image)}`,
    state,
    exitCode: options.exitCode ?? 0,
    ...('healthcheck' in spec && spec.healthcheck && state === 'running' ? { health: 'healthy' as const } : {}),
    labels: { ...spec.labels },
    createdAt: options.createdAt ?? '2026-11-20T11:00:00.000Z',
    ...(state === 'running' ? { startedAt: options.createdAt ?? '2026-11-20T11:00:00.000Z' } : {}),
    restartCount: 0,
  };
}

/** A foreign container: some other app's, with whatever labels it has. */
export function foreignContainer(name: string, labels: Record<string, string>, options: ObservedOptions = {}): ObservedContainer {
  return {
    id: options.id ?? fakeId(`foreign/${options.host ?? ''}/${name}`),
    name,
    image: 'example/other:1',
    imageId: `sha256:${fakeId('example/other:1')}`,
    state: options.state ?? 'running',
    exitCode: options.exitCode ?? 0,
    labels,
    createdAt: options.createdAt ?? '2026-11-19T10:00:00.000Z',
    restartCount: 0,
  };
}

/** An image with these tags. */
export function observedImage(...tags: string[]): ObservedImage {
  return { id: `sha256:${fakeId(tags.join(','))}`, tags, createdAt: '2026-11-19T09:00:00.000Z', labels: {} };
}

/** Fresh hosts (nothing deployed) for every host of the config. */
export function emptySnapshot(config: Config): Snapshot {
  return snapshotOf(...config.hosts.map((host) => reachableHost(host)));
}

/** The snapshot after a successful deploy of `version` onto fresh hosts (or onto `from`). */
export function deployedSnapshot(config: Config, version: string, from: Snapshot = emptySnapshot(config)): Snapshot {
  const state = simulate(from, diff(deriveDesired(config, version), from));
  // Move the clock so later deploys create newer containers than this one.
  return { ...state, takenAt: new Date(Date.parse(state.takenAt) + 3_600_000).toISOString() };
}
