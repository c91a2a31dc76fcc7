// What `mrsk drift --fix` asks the planner for. Pure. Drift --fix restores each host's recorded
// release and nothing else, so it is a converge towards that release's desired state (the ledger
// keeps it: src/desired/from-release.ts), made from the hosts as read under the lock:
// - only hosts with a fixable finding; where the config changed since the release, the release's
//   recorded desired state is what is restored (the new config waits for `mrsk apply`), and a host
//   whose ledger cannot give it (an older record, a secret changed since) is left alone;
// - a container or Traefik edited by hand keeps the spec-hash label it was created with, so the
//   planner would see no change: its address goes into `replace` (Terraform's -replace).
// Hosts whose releases differ are planned together: each host runs its own recorded release.
import type { Config } from '../config/types.ts';
import { desiredFromRelease } from '../desired/from-release.ts';
import type { Desired, DesiredHost } from '../desired/types.ts';
import type { PlanRequest } from '../plan/request.ts';
import type { ReachableHost, Snapshot } from '../probe/types.ts';
import { detectDrift, type DriftScope } from './detect.ts';

export interface FixIntent {
  /** What to plan; absent when no host can be fixed. */
  readonly plan?: {
    readonly desired: Desired;
    readonly request: Omit<PlanRequest, 'hosts' | 'roles' | 'missedHosts'>;
    /** The hosts to plan. */
    readonly hosts: readonly string[];
  };
  /** Hosts with fixable findings that --fix leaves alone, and why. */
  readonly leftOut: readonly { readonly host: string; readonly reason: string }[];
}

function changedSinceRelease(report: ReturnType<typeof detectDrift>, host: string): boolean {
  const entry = report.hosts.find((h) => h.host === host);
  return entry?.status === 'checked' && entry.findings.some((f) => f.kind === 'config-changed');
}

export function fixIntent(config: Config, snapshot: Snapshot, scope: DriftScope): FixIntent {
  const report = detectDrift(config, snapshot, scope);
  const byVersion = new Map<string, string[]>();
  const leftOut: { host: string; reason: string }[] = [];
  const replace: string[] = [];
  for (const entry of report.hosts) {
    if (entry.status !== 'checked' || !entry.release || !entry.findings.some((f) => f.fixable)) continue;
    byVersion.set(entry.release.version, [...(byVersion.get(entry.release.version) ?? []), entry.host]);
    for (const finding of entry.findings) {
      if (!finding.fixable || !finding.containerId || !finding.container) continue;
      if (finding.kind === 'spec-differs') replace.push(`${entry.host}/container/${finding.container}`);
      if (finding.kind === 'traefik-spec-differs') replace.push(`${entry.host}/traefik`);
    }
  }
  if (byVersion.size === 0) return { leftOut };
  const hosts: Record<string, DesiredHost> = {};
  let desired: Desired | undefined;
  for (const [version, group] of byVersion) {
    const releases = Object.fromEntries(group.map((host) => [host, (snapshot.hosts[host] as ReachableHost).release]));
    const { desired: restored, notes } = desiredFromRelease({ config, version, releases, traefik: 'restore' });
    // Where the ledger does not have the release's own desired state (an older record), or a
    // secret changed since, restoring would bring today's config: left to `mrsk apply`.
    const notRestorable = new Set(notes.filter((n) => n.kind === 'config-not-restored' || n.kind === 'not-recorded' || n.kind === 'secret-changed').flatMap((n) => n.hosts));
    for (const host of group) {
      const changed = report.hosts.find((h) => h.host === host)?.status === 'checked' && changedSinceRelease(report, host);
      if (changed && notRestorable.has(host)) {
        leftOut.push({ host, reason: `the config changed since release ${version} and the ledger cannot restore that release: \`mrsk apply\` converges it` });
        continue;
      }
      hosts[host] = restored.hosts[host]!;
    }
    desired ??= restored;
  }
  if (Object.keys(hosts).length === 0) return { leftOut };
  return { plan: { desired: { ...desired!, hosts }, request: { replace: [...new Set(replace)].sort() }, hosts: Object.keys(hosts) }, leftOut };
}
