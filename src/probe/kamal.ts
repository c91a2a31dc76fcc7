// Observed-state rules for hosts that Kamal (1.x) already runs. Pure: they read labels and names only.
//
// Kamal labels every app container `service=<service>`, `role=<role>` and, with a destination,
// `destination=<dest>`; it names them `<service>-<role>[-<dest>]-<version>` and runs one Traefik
// container named `traefik` with no label mrsk knows. mrsk's own containers carry the same three
// labels since it adopted Kamal's meaning, so what tells a Kamal-made container apart is that it
// has no `mrsk.*` label at all.
import { KAMAL_DESTINATION_LABEL, KAMAL_ROLE_LABEL, KAMAL_SERVICE_LABEL, MRSK_LABEL_PREFIX, TRAEFIK_LABEL } from '../model/labels.ts';
import { TRAEFIK_CONTAINER } from '../model/names.ts';
import type { ObservedContainer } from './types.ts';

/** Does any label key start with `mrsk.`? Such a container was made by mrsk, whatever else it carries. */
function hasMrskLabel(labels: Readonly<Record<string, string>>): boolean {
  return Object.keys(labels).some((key) => key.startsWith(MRSK_LABEL_PREFIX));
}

/**
 * A Kamal-made app container of this service and destination: `service` equal to the service,
 * a non-empty `role`, `destination` equal to the destination (absent or empty = none) and no
 * `mrsk.*` label. Any state: a stopped one still holds its name.
 */
export function isKamalContainerOf(container: Pick<ObservedContainer, 'labels'>, service: string, destination: string | undefined): boolean {
  const { labels } = container;
  return (
    labels[KAMAL_SERVICE_LABEL] === service &&
    (labels[KAMAL_ROLE_LABEL] ?? '') !== '' &&
    (labels[KAMAL_DESTINATION_LABEL] ?? '') === (destination ?? '') &&
    !hasMrskLabel(labels)
  );
}

/** The role a Kamal-made container serves (its `role` label). */
export function kamalRoleOf(container: Pick<ObservedContainer, 'labels'>): string {
  return container.labels[KAMAL_ROLE_LABEL] ?? '';
}

/**
 * Kamal's Traefik: the container named `traefik` without mrsk.traefik=true. mrsk only takes it
 * over on a host where Kamal-made containers of this service also run (isKamalHost); elsewhere
 * it is someone else's container and blocks the host as before.
 */
export function isUnmanagedTraefik(container: Pick<ObservedContainer, 'name' | 'labels'>): boolean {
  return container.name === TRAEFIK_CONTAINER && container.labels[TRAEFIK_LABEL] !== 'true';
}

/** Does this host run Kamal-made containers of this service (in any state)? */
export function isKamalHost(containers: readonly ObservedContainer[], service: string, destination: string | undefined): boolean {
  return containers.some((container) => container.state !== 'removing' && isKamalContainerOf(container, service, destination));
}
