// Checks every plan must pass, shared by the property test and the captured-snapshot tests:
// well-formed, touching only this service's containers, deterministic, and converging.
import assert from 'node:assert/strict';
import type { Config } from '../../../src/config/types.ts';
import { deriveDesired } from '../../../src/desired/desired.ts';
import { diff, type DiffOptions } from '../../../src/plan/diff.ts';
import { simulate } from '../../../src/plan/simulate.ts';
import type { Plan } from '../../../src/plan/types.ts';
import type { ObservedContainer, ReachableHost, Snapshot } from '../../../src/probe/types.ts';

/** One input to check: a config, a target version, a snapshot and optional filters. */
export interface Case {
  readonly label: string;
  readonly config: Config;
  readonly version: string;
  readonly snapshot: Snapshot;
  readonly options?: DiffOptions;
}

/** Unique ids; dependencies point to earlier steps of the same host. */
export function checkPlanShape(plan: Plan, label: string): void {
  const seen = new Map<string, string>();
  for (const step of plan.steps) {
    assert.ok(!seen.has(step.id), `${label}: duplicate step id ${step.id}`);
    for (const dependency of step.dependsOn) {
      assert.equal(seen.get(dependency), step.host, `${label}: ${step.id} depends on ${dependency}, which is not an earlier step of ${step.host}`);
    }
    seen.set(step.id, step.host);
  }
}

// Written out here, independently of src/plan/diff.ts, so a bug there cannot hide itself.
const isOwnedBy = (c: ObservedContainer, service: string, destination: string | undefined): boolean =>
  c.labels['mrsk.service'] === service && (c.labels['mrsk.destination'] || undefined) === destination;
const isManagedTraefik = (c: ObservedContainer): boolean => c.name === 'traefik' && c.labels['mrsk.traefik'] === 'true';
// Kamal-made: Kamal's service/role/destination labels and no mrsk.* label. On a host running one
// of this service, mrsk takes it over, and the host's traefik with it.
const isKamalOf = (c: ObservedContainer, service: string, destination: string | undefined): boolean =>
  c.labels['service'] === service &&
  Boolean(c.labels['role']) &&
  (c.labels['destination'] || undefined) === destination &&
  !Object.keys(c.labels).some((key) => key.startsWith('mrsk.'));

/** No step touches or collides with a container that is not this service's (or mrsk's Traefik). */
export function checkOwnership(plan: Plan, snapshot: Snapshot, service: string, destination: string | undefined, label: string): void {
  for (const step of plan.steps) {
    const host = snapshot.hosts[step.host] as ReachableHost;
    const kamalHost = host.containers.some((c) => isKamalOf(c, service, destination));
    const mayTouch = (c: ObservedContainer): boolean =>
      isOwnedBy(c, service, destination) || isManagedTraefik(c) || isKamalOf(c, service, destination) || (kamalHost && c.name === 'traefik');
    const action = step.action;
    const containerId = 'containerId' in action ? action.containerId : step.precondition.containerId;
    if (containerId) {
      const container = host.containers.find((c) => c.id === containerId);
      assert.ok(container, `${label}: ${step.id} targets container ${containerId.slice(0, 12)}, which the snapshot does not have`);
      assert.ok(
        mayTouch(container),
        `${label}: ${step.id} targets ${container.name}, which does not belong to ${service}${destination ? `/${destination}` : ''}`,
      );
    }
    if (action.kind === 'container-run' || action.kind === 'traefik-run') {
      const holder = host.containers.find((c) => c.name === action.spec.name);
      assert.ok(!holder || mayTouch(holder), `${label}: ${step.id} would collide with foreign ${holder?.name}`);
    }
  }
}

/** Asserts shape, ownership, determinism and convergence (planning again after simulate gives no steps). */
export function checkCase({ label, config, version, snapshot, options }: Case): void {
  const wanted = deriveDesired(config, version);
  const plan = diff(wanted, snapshot, options);
  checkPlanShape(plan, label);
  checkOwnership(plan, snapshot, config.service, config.destination, label);
  assert.deepEqual(diff(wanted, snapshot, options), plan, `${label}: diff is not deterministic`);

  const after = simulate(snapshot, plan);
  const again = diff(wanted, after, options);
  assert.deepEqual(
    again.steps.map((step) => `${step.id}: ${step.cause}`),
    [],
    `${label}: planning again after simulate still has steps`,
  );
  assert.deepEqual(
    again.blockedHosts.map((b) => b.host),
    plan.blockedHosts.map((b) => b.host),
    `${label}: blocked hosts changed after simulate`,
  );
}

