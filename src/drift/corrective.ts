// Which steps of a plan `mrsk drift --fix` may run. Pure. The plan is diff()'s plan towards the
// desired state at the *recorded* version; this keeps only steps that restore that release for a
// fixable finding, and drops anything that would roll out a new version or a new config. Safety
// rules hold whatever the plan says: only containers with this service's labels (and the managed
// Traefik, when it is re-created) are ever stopped or removed, the release's own containers only
// when a kept step replaces them by name, and the newest retained version of a role never.
import { ROLE_LABEL, SPEC_HASH_LABEL, VERSION_LABEL } from '../model/labels.ts';
import type { Plan, PlanStep } from '../plan/types.ts';
import { inService, isManagedTraefik, isMrskMade, isOwnedBy, newestFirst } from '../probe/observed.ts';
import type { ObservedContainer, ReachableHost, Snapshot } from '../probe/types.ts';
import { allFindings } from './detect.ts';
import type { DriftFinding, DriftReport } from './types.ts';

/** Marks a container whose labels or image were edited by hand while its hash label was kept. */
export const EDITED_BY_HAND_HASH = 'v1:edited-by-hand';

const CONTAINER_FIX_KINDS = new Set(['container-missing', 'container-stopped', 'spec-differs']);
const TRAEFIK_FIX_KINDS = new Set(['traefik-missing', 'traefik-stopped', 'traefik-spec-differs']);

/**
 * The snapshot as diff() must see it for --fix: a container whose labels or image were edited by
 * hand but still carries the release's spec hash gets a hash that matches nothing, so diff
 * replaces it. Only the label is changed; ids (and so the executor's preconditions) stay real.
 */
export function snapshotForFix(snapshot: Snapshot, report: DriftReport): Snapshot {
  const edited = new Set(allFindings(report).filter((f) => f.kind === 'spec-differs' && f.fixable && f.containerId).map((f) => f.containerId!));
  if (edited.size === 0) return snapshot;
  const hosts: Snapshot['hosts'] = Object.fromEntries(
    Object.entries(snapshot.hosts).map(([name, host]) => {
      if (host.status !== 'ok') return [name, host];
      const containers = host.containers.map((c) => (edited.has(c.id) ? { ...c, labels: { ...c.labels, [SPEC_HASH_LABEL]: EDITED_BY_HAND_HASH } } : c));
      return [name, { ...host, containers }];
    }),
  );
  return { ...snapshot, hosts };
}

/** What the filter needs to know besides the plan and the report. */
export interface CorrectiveOptions {
  readonly service: string;
  readonly destination?: string;
  /** Seconds a container gets to stop when a stray one is stopped before removal. */
  readonly stopTimeout: number;
}

interface HostFacts {
  readonly host: ReachableHost;
  readonly version: string;
  readonly specHashes: Readonly<Record<string, string>>;
  readonly traefikSpecHash?: string;
  readonly findings: readonly DriftFinding[];
  readonly byId: ReadonlyMap<string, ObservedContainer>;
  /** Ids of the newest retained (stopped) mrsk-made container per role: never removed. */
  readonly newestRetained: ReadonlySet<string>;
}

function factsFor(snapshot: Snapshot, report: DriftReport, options: CorrectiveOptions): Map<string, HostFacts> {
  const facts = new Map<string, HostFacts>();
  const findings = allFindings(report);
  for (const entry of report.hosts) {
    const host = snapshot.hosts[entry.host];
    if (entry.status !== 'checked' || !host || host.status !== 'ok' || !host.release) continue;
    const newest = new Map<string, ObservedContainer>();
    for (const c of host.containers) {
      if (!isOwnedBy(c, options.service, options.destination) || inService(c)) continue;
      if (!isMrskMade(c, options.service, options.destination) || c.labels[VERSION_LABEL] === host.release.version) continue;
      const role = c.labels[ROLE_LABEL] ?? '';
      const seen = newest.get(role);
      if (!seen || newestFirst(c, seen) < 0) newest.set(role, c);
    }
    facts.set(entry.host, {
      host,
      version: host.release.version,
      specHashes: host.release.specHashes,
      ...(host.release.traefikSpecHash ? { traefikSpecHash: host.release.traefikSpecHash } : {}),
      findings: findings.filter((f) => f.host === entry.host),
      byId: new Map(host.containers.map((c) => [c.id, c])),
      newestRetained: new Set([...newest.values()].map((c) => c.id)),
    });
  }
  return facts;
}

const has = (facts: HostFacts, test: (f: DriftFinding) => boolean): boolean => facts.findings.some((f) => f.fixable && test(f));

/**
 * Keeps the steps of `plan` that correct fixable findings of `report` and restore the recorded
 * release, adds the removal of stray containers diff only stops, and drops every other step
 * (new versions, new specs, release records). Dependencies on dropped steps of the same resource
 * drop the step too; ordering-only dependencies on other resources are just removed.
 */
export function selectCorrectiveSteps(plan: Plan, report: DriftReport, snapshot: Snapshot, options: CorrectiveOptions): Plan {
  const facts = factsFor(snapshot, report, options);
  const keep = new Set<string>();
  const factsOf = (step: PlanStep): HostFacts | undefined => {
    const f = facts.get(step.host);
    // A plan towards another version than the one recorded on the host is never corrective.
    return f && f.version === plan.version ? f : undefined;
  };

  // 1. Steps that create or start something, by the rules of the recorded release.
  const replacedNames = new Map<string, Set<string>>(); // host → container names a kept run re-creates
  const traefikRecreated = new Set<string>();
  for (const step of plan.steps) {
    const f = factsOf(step);
    if (!f) continue;
    const { action } = step;
    let ok = false;
    switch (action.kind) {
      case 'network-create':
        ok = has(f, (x) => x.kind === 'network-missing');
        break;
      case 'container-run':
        ok =
          action.spec.version === f.version &&
          action.spec.specHash === f.specHashes[action.spec.role] &&
          has(f, (x) => CONTAINER_FIX_KINDS.has(x.kind) && x.role === action.spec.role);
        if (ok) replacedNames.set(step.host, new Set([...(replacedNames.get(step.host) ?? []), action.spec.name]));
        break;
      case 'traefik-run':
        ok = f.traefikSpecHash !== undefined && action.spec.specHash === f.traefikSpecHash && has(f, (x) => TRAEFIK_FIX_KINDS.has(x.kind));
        if (ok) traefikRecreated.add(step.host);
        break;
      case 'container-start': {
        const c = f.byId.get(action.containerId);
        if (!c) break;
        if (isManagedTraefik(c)) ok = c.labels[SPEC_HASH_LABEL] === f.traefikSpecHash && has(f, (x) => x.kind === 'traefik-stopped');
        else {
          const role = c.labels[ROLE_LABEL] ?? '';
          ok =
            isOwnedBy(c, options.service, options.destination) &&
            c.labels[VERSION_LABEL] === f.version &&
            c.labels[SPEC_HASH_LABEL] === f.specHashes[role] &&
            has(f, (x) => x.kind === 'container-stopped' && x.containerId === c.id);
        }
        break;
      }
      default:
        continue;
    }
    if (ok) keep.add(step.id);
  }

  // 2. Steps that stop or remove a container: only ours, only for a fixable finding or a kept replacement.
  const removedIds = new Map<string, Set<string>>(); // host → container ids a kept step removes
  for (const step of plan.steps) {
    const f = factsOf(step);
    if (!f) continue;
    const { action } = step;
    if (action.kind !== 'container-drain' && action.kind !== 'container-stop' && action.kind !== 'container-remove') continue;
    const c = f.byId.get(action.containerId);
    if (!c) continue;
    let ok = false;
    if (isManagedTraefik(c)) ok = traefikRecreated.has(step.host);
    else if (isOwnedBy(c, options.service, options.destination)) {
      const replaced = replacedNames.get(step.host)?.has(c.name) ?? false;
      const stray = has(f, (x) => x.kind === 'stray-container' && x.containerId === c.id);
      if (action.kind === 'container-remove') {
        const pruned = has(f, (x) => x.kind === 'retention-exceeded' && (x.excessContainerIds ?? []).includes(c.id));
        ok = (replaced || stray || pruned) && !f.newestRetained.has(c.id);
      } else {
        ok = replaced || stray || has(f, (x) => x.kind === 'old-version-running' && x.containerId === c.id);
      }
    }
    if (ok) {
      keep.add(step.id);
      if (action.kind === 'container-remove') removedIds.set(step.host, new Set([...(removedIds.get(step.host) ?? []), c.id]));
    }
  }

  // 3. Stray containers diff only stops (it keeps stopped containers for rollback) are removed too.
  const added: PlanStep[] = [];
  for (const [hostName, f] of facts) {
    if (f.version !== plan.version) continue;
    for (const finding of f.findings) {
      if (finding.kind !== 'stray-container' || !finding.fixable || !finding.containerId) continue;
      if (removedIds.get(hostName)?.has(finding.containerId)) continue;
      const c = f.byId.get(finding.containerId);
      if (!c || !isOwnedBy(c, options.service, options.destination)) continue;
      const stops = plan.steps.filter((s) => keep.has(s.id) && s.host === hostName && s.action.kind === 'container-stop' && s.action.containerId === c.id);
      const address = stops[0]?.address ?? `${hostName}/container/${c.name}`;
      added.push({
        id: `${hostName}:drift:${c.name}:remove`,
        host: hostName,
        address,
        symbol: '-',
        actions: ['delete'],
        cause: finding.cause,
        dependsOn: stops.map((s) => s.id),
        precondition: { containerId: c.id },
        batch: stops[0]?.batch ?? plan.steps.find((s) => s.host === hostName)?.batch ?? 0,
        action: { kind: 'container-remove', containerId: c.id, name: c.name },
      });
      removedIds.set(hostName, new Set([...(removedIds.get(hostName) ?? []), c.id]));
    }
  }

  // 4. Steps that only serve kept steps: pulls and waits of kept containers, images nobody uses.
  for (const step of plan.steps) {
    const f = factsOf(step);
    if (!f) continue;
    const { action } = step;
    const keptOnHost = plan.steps.filter((s) => s.host === step.host && keep.has(s.id));
    let ok = false;
    if (action.kind === 'image-pull') {
      ok = keptOnHost.some((s) => s.action.kind === 'container-run' && s.action.spec.image === action.image);
    } else if (action.kind === 'container-wait-healthy' || action.kind === 'traefik-wait-up') {
      ok = keptOnHost.some(
        (s) => (s.action.kind === 'container-run' && s.action.spec.name === action.name) || (s.action.kind === 'container-start' && s.action.name === action.name),
      );
    } else if (action.kind === 'image-remove') {
      const removed = removedIds.get(step.host) ?? new Set<string>();
      const stillUsed = f.host.containers.some((c) => !removed.has(c.id) && c.image === action.image);
      const releaseImage = keptOnHost.some((s) => s.action.kind === 'container-run' && s.action.spec.image === action.image);
      ok = removed.size > 0 && !stillUsed && !releaseImage;
    }
    if (ok) keep.add(step.id);
  }

  // 5. A step whose prerequisite on the same resource was dropped cannot run either.
  const byId = new Map(plan.steps.map((s) => [s.id, s]));
  for (let changed = true; changed; ) {
    changed = false;
    for (const step of plan.steps) {
      if (!keep.has(step.id)) continue;
      const broken = step.dependsOn.some((d) => !keep.has(d) && byId.get(d)?.address === step.address && byId.get(d)?.action.kind !== 'release-record');
      if (broken) {
        keep.delete(step.id);
        changed = true;
      }
    }
  }
  // An image stays while a container that is not removed uses it (a dropped remove keeps its container).
  for (const step of plan.steps) {
    if (!keep.has(step.id) || step.action.kind !== 'image-remove') continue;
    const image = step.action.image;
    const removedHere = new Set(
      [...plan.steps.filter((s) => keep.has(s.id)), ...added]
        .filter((s) => s.host === step.host && s.action.kind === 'container-remove')
        .map((s) => (s.action as { containerId: string }).containerId),
    );
    if (facts.get(step.host)?.host.containers.some((c) => !removedHere.has(c.id) && c.image === image)) keep.delete(step.id);
  }
  const kept = plan.steps.filter((s) => keep.has(s.id));
  const keptIds = new Set([...kept.map((s) => s.id), ...added.map((s) => s.id)]);
  const steps = [...kept, ...added.filter((s) => s.dependsOn.every((d) => keptIds.has(d)))].map((s) => ({
    ...s,
    dependsOn: s.dependsOn.filter((d) => keptIds.has(d)),
  }));
  return { ...plan, steps };
}
