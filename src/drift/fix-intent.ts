// What `mrsk drift --fix` asks the planner for. Pure. Drift --fix restores each host's recorded
// release and nothing else, so it is a converge towards that release's desired state (the ledger
// keeps it: src/desired/from-release.ts), made from the hosts as read under the lock:
// - only hosts with a fixable finding; where the config changed since the release, the release's
//   recorded desired state is what is restored (the new config waits for `mrsk apply`), and a host
//   whose ledger cannot give it (an older record, a secret changed since) is left alone;
// - a container or Traefik edited by hand keeps the spec-hash label it was created with, so the
//   planner would see no change: its address goes into `replace` (Terraform's -replace).
// - accessories come from the config on every host (the ledger keeps none: from-release.ts), and
//   the converge only creates missing ones and starts stopped ones: the planner never replaces a
//   changed accessory (Plan.pending) nor removes one the config dropped;
// - a host in no role, which runs only accessories and records no release, is planned with the
//   config's accessories alone, unless app containers run there (`mrsk apply` takes those off).
// Hosts whose releases differ are planned together: each host runs its own recorded release.
import type { Config } from '../config/types.ts';
import { deriveDesired } from '../desired/desired.ts';
import { desiredFromRelease } from '../desired/from-release.ts';
import type { Desired, DesiredHost } from '../desired/types.ts';
import type { PlanRequest } from '../plan/request.ts';
import { isAccessory, isOwnedBy } from '../probe/observed.ts';
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

/** The version most hosts record, for a plan that changes no app container ('none' when no host records one). */
function fleetVersion(snapshot: Snapshot): string {
  const counts = new Map<string, number>();
  for (const host of Object.values(snapshot.hosts)) {
    if (host.status === 'ok' && host.release) counts.set(host.release.version, (counts.get(host.release.version) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ?? 'none';
}

export function fixIntent(config: Config, snapshot: Snapshot, scope: DriftScope): FixIntent {
  const report = detectDrift(config, snapshot, scope);
  const byVersion = new Map<string, string[]>();
  const leftOut: { host: string; reason: string }[] = [];
  const replace: string[] = [];
  const accessoryOnly: string[] = [];
  const roleHosts = new Set(config.hosts);
  for (const entry of report.hosts) {
    if (entry.status !== 'checked' || !entry.findings.some((f) => f.fixable)) continue;
    if (!entry.release) {
      // only accessory findings are fixable without a release (detect.ts); an app container there,
      // even a stopped one, would be taken off by the converge: that is apply's to do
      const observed = snapshot.hosts[entry.host] as ReachableHost;
      const appThere = observed.containers.some((c) => isOwnedBy(c, config.service, config.destination) && !isAccessory(c));
      if (!roleHosts.has(entry.host) && !appThere) accessoryOnly.push(entry.host);
      else leftOut.push({ host: entry.host, reason: appThere ? 'app containers run on this host, which the config puts in no role: `mrsk apply` converges it' : 'no release is recorded on it: `mrsk apply` converges it, its accessories too' });
      continue;
    }
    byVersion.set(entry.release.version, [...(byVersion.get(entry.release.version) ?? []), entry.host]);
    for (const finding of entry.findings) {
      if (!finding.fixable || !finding.containerId || !finding.container) continue;
      if (finding.kind === 'spec-differs') replace.push(`${entry.host}/container/${finding.container}`);
      if (finding.kind === 'traefik-spec-differs') replace.push(`${entry.host}/traefik`);
    }
  }
  if (byVersion.size === 0 && accessoryOnly.length === 0) return { leftOut };
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
  if (accessoryOnly.length > 0) {
    // no containers there, so the version only names the plan: the fleet's release when one is fixed too
    const fromConfig = deriveDesired(config, desired?.version ?? fleetVersion(snapshot));
    for (const host of accessoryOnly) hosts[host] = fromConfig.hosts[host]!;
    desired ??= fromConfig;
  }
  if (Object.keys(hosts).length === 0) return { leftOut };
  return { plan: { desired: { ...desired!, hosts }, request: { replace: [...new Set(replace)].sort() }, hosts: Object.keys(hosts) }, leftOut };
}
