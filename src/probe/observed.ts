// The observed-state model: what a probed container *is* to mrsk, read from its name, labels,
// state and creation time only. Pure. The plan, drift, the day-two commands and the probe's own
// filter all ask these questions; each has one answer, here, so two parts of mrsk can never
// disagree about whose a container is, whether it serves, or which one is the newest.
//
// Where earlier copies disagreed, the rule kept is written beside the predicate with its reason.
import { ACCESSORY_LABEL, DESTINATION_LABEL, ROLE_LABEL, SERVICE_LABEL, SPEC_HASH_LABEL, TRAEFIK_ENABLE_LABEL, TRAEFIK_LABEL, VERSION_LABEL, traefikServiceOfLabel } from '../model/labels.ts';
import { TRAEFIK_CONTAINER, containerName } from '../model/names.ts';
import { isKamalContainerOf } from './kamal.ts';
import type { ContainerState, ObservedContainer } from './types.ts';

type Labels = Readonly<Record<string, string>>;

/** Docker states in which a container counts as serving: docker restarts or resumes it by itself. */
export const IN_SERVICE: ReadonlySet<ContainerState> = new Set<ContainerState>(['running', 'restarting', 'paused']);

/** Is this container serving (or about to, without anyone's help)? */
export function inService(container: Pick<ObservedContainer, 'state'>): boolean {
  return IN_SERVICE.has(container.state);
}

/**
 * Does this container belong to this service and destination? An absent or empty
 * mrsk.destination label means none, the same as no `-d`.
 */
export function isOwnedBy(container: Pick<ObservedContainer, 'labels'>, service: string, destination: string | undefined): boolean {
  return container.labels[SERVICE_LABEL] === service && (container.labels[DESTINATION_LABEL] ?? '') === (destination ?? '');
}

/**
 * Is this one of the app's accessories (mrsk.accessory set)? Such a container is owned by the
 * service but is no app container: every rule about roles, versions, retention and draining
 * must leave it out, or a plan would see an accessory as a container of a removed role and stop it.
 */
export function isAccessory(container: Pick<ObservedContainer, 'labels'>): boolean {
  return (container.labels[ACCESSORY_LABEL] ?? '') !== '';
}

/** An app container of this service and destination running one of `roles` (the day-two commands' selection). */
export function isAppContainer(labels: Labels, service: string, destination: string | undefined, roles: readonly string[]): boolean {
  return isOwnedBy({ labels }, service, destination) && roles.includes(labels[ROLE_LABEL] ?? '');
}

/** Is this the Traefik container mrsk manages: the name *and* mrsk.traefik=true (a name alone is anyone's)? */
export function isManagedTraefik(container: Pick<ObservedContainer, 'name' | 'labels'>): boolean {
  return container.name === TRAEFIK_CONTAINER && container.labels[TRAEFIK_LABEL] === 'true';
}

/**
 * Was this container made by mrsk for this service: owned by it, with a role, a version and a
 * spec hash, and still named what those labels say? A container carrying the labels under
 * another name was made or renamed by hand (drift reports it as a stray).
 *
 * Ownership is part of the rule (drift's copy checked only the name): a name does not identify
 * a service, since `app` + role `web-x` and `app-web` + role `x` both give `app-web-x-<version>`.
 */
export function isMrskMade(container: Pick<ObservedContainer, 'name' | 'labels'>, service: string, destination: string | undefined): boolean {
  if (!isOwnedBy(container, service, destination)) return false;
  const role = container.labels[ROLE_LABEL];
  const version = container.labels[VERSION_LABEL];
  if (!role || !version || !container.labels[SPEC_HASH_LABEL]) return false;
  return container.name === containerName(service, role, version, destination);
}

/**
 * The containers a plan for this service must see, which the probe keeps: its own, Kamal-made
 * ones of the same service (taken over), and *any* container named `traefik`, managed or not:
 * a foreign one holds the name mrsk's Traefik needs, so the plan must see it to block the host
 * (or take Kamal's over). Everything else on the host is someone else's and stays out of the snapshot.
 */
export function concernsService(container: Pick<ObservedContainer, 'name' | 'labels'>, service: string, destination: string | undefined): boolean {
  return container.name === TRAEFIK_CONTAINER || isKamalContainerOf(container, service, destination) || isOwnedBy(container, service, destination);
}

/**
 * The Traefik service a container is routed by, read from its own labels: the `<name>` of the
 * first `traefik.http.services.<name>.loadbalancer.server.port` label, when traefik.enable=true.
 *
 * The name must be non-empty (the executor's copy required it, the planner's did not): an empty
 * one names no service Traefik could report, so a later well-formed label is looked for instead.
 */
export function traefikServiceOf(labels: Labels): string | undefined {
  if (labels[TRAEFIK_ENABLE_LABEL] !== 'true') return undefined;
  for (const key of Object.keys(labels)) {
    const service = traefikServiceOfLabel(key);
    if (service !== undefined) return service;
  }
  return undefined;
}

/** RFC 3339 as docker prints `Created`: fractional seconds with trailing zeros dropped (Go's RFC3339Nano). */
const RFC3339_NANO = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/;

/**
 * A creation time that sorts as text: the fraction padded to nine digits. Docker drops trailing
 * zeros, so as printed `…:05.12Z` (.120) sorts after `…:05.123Z` ('Z' > '3') though it is older;
 * padded it does not. Anything else is compared as it is.
 */
function creationKey(createdAt: string): string {
  const match = RFC3339_NANO.exec(createdAt);
  return match ? `${match[1]}.${(match[2] ?? '').padEnd(9, '0')}${match[3]}` : createdAt;
}

/**
 * Sort order newest first: by creation time, then by name descending so equal times still give
 * one order. Text is compared by code unit, never localeCompare (drift's copy used it): the
 * order decides which stopped container is kept for rollback and must not depend on the locale
 * of the machine that plans.
 */
export function newestFirst(a: Pick<ObservedContainer, 'name' | 'createdAt'>, b: Pick<ObservedContainer, 'name' | 'createdAt'>): number {
  const [ca, cb] = [creationKey(a.createdAt), creationKey(b.createdAt)];
  if (ca !== cb) return ca < cb ? 1 : -1;
  return a.name === b.name ? 0 : a.name < b.name ? 1 : -1;
}

/**
 * The container of a role a day-two command acts on: the newest running one, else the newest of
 * `version` (the deployed one), else none.
 */
export function currentContainer(
  containers: readonly ObservedContainer[],
  service: string,
  destination: string | undefined,
  role: string,
  version: string | undefined,
): ObservedContainer | undefined {
  const mine = containers.filter((c) => isAppContainer(c.labels, service, destination, [role])).sort(newestFirst);
  return mine.find((c) => c.state === 'running') ?? (version === undefined ? undefined : mine.find((c) => c.labels[VERSION_LABEL] === version));
}
