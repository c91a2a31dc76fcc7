// `mrsk app containers`: every container of the service on a host, newest first, marked as the
// current version, a rollback target (a retained version with a container for every role the
// host runs, so `mrsk rollback VERSION` can start it again without pulling) or old.
import type { ObservedContainer } from '../probe/types.ts';
import { ROLE_LABEL, VERSION_LABEL } from '../model/labels.ts';
import { isAppContainer } from '../probe/observed.ts';
import { isNeverHealthy } from '../plan/never-healthy.ts';

/** How a container relates to what is deployed. */
export type ContainerMark = 'current' | 'rollback target' | 'never healthy' | 'old';

/** One row of `mrsk app containers`. */
export interface ContainerRow {
  readonly id: string;
  readonly name: string;
  readonly role: string;
  readonly version: string;
  /** docker state plus health or exit code, e.g. `running (healthy)`, `exited (0)`. */
  readonly status: string;
  readonly createdAt: string;
  readonly mark: ContainerMark;
}

/** What classifying needs to know about the app and the host. */
export interface ClassifyOptions {
  readonly service: string;
  readonly destination?: string;
  /** The selected roles that run on this host. */
  readonly roles: readonly string[];
  /** The version deployed now (undefined before the first deploy). */
  readonly currentVersion?: string;
}

function statusOf(container: ObservedContainer): string {
  if (container.state === 'running') return container.health ? `running (${container.health})` : 'running';
  if (container.state === 'exited' || container.state === 'dead') return `${container.state} (${container.exitCode})`;
  return container.state;
}

/** The versions on a host that have a container for every given role, newest first. */
export function completeVersions(containers: readonly ObservedContainer[], options: ClassifyOptions): string[] {
  const mine = containers.filter((c) => isAppContainer(c.labels, options.service, options.destination, options.roles) && !isNeverHealthy(c));
  const newest = new Map<string, string>();
  const rolesByVersion = new Map<string, Set<string>>();
  for (const c of mine) {
    const version = c.labels[VERSION_LABEL];
    if (!version) continue;
    if (!rolesByVersion.has(version)) rolesByVersion.set(version, new Set());
    rolesByVersion.get(version)!.add(c.labels[ROLE_LABEL]!);
    if ((newest.get(version) ?? '') < c.createdAt) newest.set(version, c.createdAt);
  }
  return [...rolesByVersion.entries()]
    .filter(([, roles]) => options.roles.every((r) => roles.has(r)))
    .map(([version]) => version)
    .sort((a, b) => (newest.get(b) ?? '').localeCompare(newest.get(a) ?? '') || b.localeCompare(a));
}

/** The app containers of one host as rows, newest first, each marked. */
export function classifyContainers(containers: readonly ObservedContainer[], options: ClassifyOptions): ContainerRow[] {
  const targets = new Set(completeVersions(containers, options).filter((v) => v !== options.currentVersion));
  return containers
    .filter((c) => isAppContainer(c.labels, options.service, options.destination, options.roles))
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || a.name.localeCompare(b.name))
    .map((c) => {
      const version = c.labels[VERSION_LABEL] ?? '';
      const mark: ContainerMark = isNeverHealthy(c)
        ? 'never healthy'
        : version !== '' && version === options.currentVersion ? 'current' : targets.has(version) ? 'rollback target' : 'old';
      return { id: c.id, name: c.name, role: c.labels[ROLE_LABEL] ?? '', version, status: statusOf(c), createdAt: c.createdAt, mark };
    });
}

/** Rollback targets of one host: the versions marked so, newest first, without repeats. */
export function rollbackTargets(rows: readonly ContainerRow[]): string[] {
  return [...new Set(rows.filter((r) => r.mark === 'rollback target').map((r) => r.version))];
}

/** The versions that are rollback targets on every given host (what `mrsk rollback` accepts), in the first host's order. */
export function commonRollbackTargets(perHost: readonly (readonly string[])[]): string[] {
  if (perHost.length === 0) return [];
  const [first, ...rest] = perHost;
  return first!.filter((version) => rest.every((list) => list.includes(version)));
}
