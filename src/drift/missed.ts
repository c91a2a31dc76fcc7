// Hosts a `--skip-unreachable` run left behind. A run that skips a host it cannot use records it
// in the release it writes on the hosts it did deploy (ReleaseRecord.missedHosts); a skipped host
// stays behind until a later release on it is at least as new. Pure: reads a snapshot.
import type { ReachableHost, ReleaseRecord, Snapshot } from '../probe/types.ts';
import { shortVersion } from '../plan/short-version.ts';

/** A host that missed a release another host recorded. */
export interface BehindHost {
  readonly host: string;
  /** The release it missed, as recorded on `recordedOn`. */
  readonly missed: Pick<ReleaseRecord, 'id' | 'version' | 'appliedAt' | 'appliedBy'>;
  readonly recordedOn: string;
  /** Why the run could not use it then. */
  readonly reason: string;
  /** The version recorded on the host itself, when it answered and has one. */
  readonly ownVersion?: string;
}

/**
 * Every host named as missed by the newest release that names it, unless the host's own release
 * caught up since (same version, or applied at the same time or later). A named host that did not
 * answer this probe counts as behind: nothing says it caught up.
 */
export function hostsBehind(snapshot: Snapshot): Map<string, BehindHost> {
  const reachable = Object.values(snapshot.hosts).filter((h): h is ReachableHost => h.status === 'ok');
  const newest = new Map<string, { release: ReleaseRecord; recordedOn: string; reason: string }>();
  for (const host of reachable) {
    const release = host.release;
    for (const missed of release?.missedHosts ?? []) {
      const known = newest.get(missed.host);
      if (!known || known.release.appliedAt < release!.appliedAt) newest.set(missed.host, { release: release!, recordedOn: host.host, reason: missed.reason });
    }
  }
  const behind = new Map<string, BehindHost>();
  for (const [name, { release, recordedOn, reason }] of newest) {
    const observed = snapshot.hosts[name];
    const own = observed?.status === 'ok' ? observed.release : undefined;
    if (own && (own.version === release.version || own.appliedAt >= release.appliedAt)) continue;
    behind.set(name, {
      host: name,
      missed: { id: release.id, version: release.version, appliedAt: release.appliedAt, appliedBy: release.appliedBy },
      recordedOn,
      reason,
      ...(own ? { ownVersion: own.version } : {}),
    });
  }
  return behind;
}

/** One line for a person: which release the host missed, when, and what brings it up to date. */
export function describeBehind(entry: BehindHost): string {
  const at = entry.missed.appliedAt.replace(/\.\d+Z$/, 'Z');
  const own = entry.ownVersion ? `it still runs release ${shortVersion(entry.ownVersion)}` : 'its own release is unknown';
  return (
    `${entry.host} is behind: it was skipped (--skip-unreachable) by the deploy of ${shortVersion(entry.missed.version)} at ${at}` +
    `${entry.reason ? ` (${entry.reason})` : ''}; ${own}. \`mrsk deploy\` or \`mrsk apply\` brings it up to date`
  );
}
