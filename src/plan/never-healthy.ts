// Versions that never became healthy, and which versions are rollback targets. Pure.
//
// The rule (README.md, "Deploying"): when a new container does not become healthy (or ready),
// the executor stops it and renames it `<name>_unhealthy_<first 12 of its id>`. The name is the
// durable marker: it survives restarts of mrsk and of docker, shows in `docker ps -a`, and frees
// the version's name, so deploying that version again starts a fresh container. A container so
// named is kept for inspection, is never a rollback target, and does not count toward
// retain_containers; on each host the newest one per role is kept, older ones are pruned.
import type { ObservedContainer } from '../probe/types.ts';

const NEVER_HEALTHY_SUFFIX = /_unhealthy_[0-9a-f]{12}$/;

/** The name a container that never became healthy is renamed to. */
export function neverHealthyName(name: string, id: string): string {
  return `${name}_unhealthy_${id.slice(0, 12)}`;
}

/** Did mrsk mark this container as one that never became healthy? */
export function isNeverHealthy(container: Pick<ObservedContainer, 'name'>): boolean {
  return NEVER_HEALTHY_SUFFIX.test(container.name);
}

/** How a version argument resolved against the versions a host set offers. */
export type VersionMatch =
  | { readonly kind: 'exact'; readonly version: string }
  | { readonly kind: 'prefix'; readonly version: string }
  | { readonly kind: 'ambiguous'; readonly candidates: readonly string[] }
  | { readonly kind: 'none' };

/**
 * Resolves `mrsk rollback <version>`: an exact version wins; otherwise a prefix that matches
 * exactly one candidate (e.g. 12 characters of a git hash) names it; several is ambiguous.
 */
export function resolveVersion(argument: string, candidates: Iterable<string>): VersionMatch {
  const all = [...new Set(candidates)];
  if (all.includes(argument)) return { kind: 'exact', version: argument };
  const matches = argument === '' ? [] : all.filter((version) => version.startsWith(argument)).sort();
  if (matches.length === 1) return { kind: 'prefix', version: matches[0]! };
  if (matches.length > 1) return { kind: 'ambiguous', candidates: matches };
  return { kind: 'none' };
}
