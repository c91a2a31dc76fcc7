// The label keys mrsk writes on containers and reads back from `docker inspect`: the one list.
// Labels are how a container says whose it is after mrsk has forgotten everything else (mrsk keeps
// no local state), so a key spelled twice is a key that can drift apart.

/** Every key mrsk owns starts with this; a container with any of them was made by mrsk (see probe/kamal.ts). */
export const MRSK_LABEL_PREFIX = 'mrsk.';

/** The service (config `service`) a container belongs to. */
export const SERVICE_LABEL = 'mrsk.service';
/** The destination (`-d`); absent or empty means none. */
export const DESTINATION_LABEL = 'mrsk.destination';
/** The role the container runs. */
export const ROLE_LABEL = 'mrsk.role';
/** The version (image tag) the container was started at. */
export const VERSION_LABEL = 'mrsk.version';
/** `v1:<sha256>` of the canonical spec (desired/spec-hash.ts); derived, never part of the hash input. */
export const SPEC_HASH_LABEL = 'mrsk.spec-hash';
/** The per-part summary beside the hash, so a plan can say what changed; derived, never hashed. */
export const SPEC_PARTS_LABEL = 'mrsk.spec-parts';
/** The accessory (config `accessories.<name>`) a container runs; app-container rules ignore such containers. */
export const ACCESSORY_LABEL = 'mrsk.accessory';
/** `true` on the Traefik container mrsk manages; the name `traefik` alone proves nothing. */
export const TRAEFIK_LABEL = 'mrsk.traefik';

/** Kamal's own ownership labels, which mrsk also writes so Kamal's tools recognise its containers. */
export const KAMAL_SERVICE_LABEL = 'service';
export const KAMAL_ROLE_LABEL = 'role';
export const KAMAL_DESTINATION_LABEL = 'destination';

/** Traefik's Docker-provider labels mrsk writes and reads back to know how a container is routed. */
export const TRAEFIK_ENABLE_LABEL = 'traefik.enable';
export const TRAEFIK_NETWORK_LABEL = 'traefik.docker.network';
const TRAEFIK_SERVICE_PREFIX = 'traefik.http.services.';
const TRAEFIK_SERVICE_PORT_SUFFIX = '.loadbalancer.server.port';

/** `traefik.http.services.<service>.loadbalancer.server.port`: names a Traefik service and its port. */
export function traefikServicePortLabel(service: string): string {
  return `${TRAEFIK_SERVICE_PREFIX}${service}${TRAEFIK_SERVICE_PORT_SUFFIX}`;
}

/** The Traefik service a service-port label key names, or undefined for any other key. */
export function traefikServiceOfLabel(key: string): string | undefined {
  if (!key.startsWith(TRAEFIK_SERVICE_PREFIX) || !key.endsWith(TRAEFIK_SERVICE_PORT_SUFFIX)) return undefined;
  const service = key.slice(TRAEFIK_SERVICE_PREFIX.length, key.length - TRAEFIK_SERVICE_PORT_SUFFIX.length);
  return service === '' ? undefined : service;
}
