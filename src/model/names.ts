// The names mrsk gives things on a host: containers, the network, the cord folders. The plan, the
// probe and the executor must agree on each byte of them (a name is how a later run finds what an
// earlier one made), so each is spelled once, here.
import { appKey, hostPaths } from '../desired/paths.ts';
import { ROLE_LABEL, SPEC_HASH_LABEL, VERSION_LABEL } from './labels.ts';

/** The docker network every mrsk container joins; Traefik reaches app containers through it. */
export const MRSK_NETWORK = 'mrsk';
/** The one Traefik container per host (shared by every service on it; Kamal 1 uses the same name). */
export const TRAEFIK_CONTAINER = 'traefik';
/** Where a proxied container sees its cord folder; its healthcheck requires `ok` in it. */
export const CORD_MOUNT = '/run/mrsk/cord';
/** The file in a cord folder whose presence keeps a container healthy; removing it drains the container. */
export const CORD_FILE = 'ok';

/**
 * `<service>[-<dest>].yml`: the app's own file in Traefik's file-provider folder. The probe reads
 * its first line and the plan writes or removes it, so both take the name from here.
 */
export function traefikFileName(service: string, destination?: string): string {
  return `${appKey(service, destination)}.yml`;
}

/** `<service>-<role>[-<dest>]`, lower-cased as Kamal names containers: the Traefik router and service name, stable across versions. */
export function roleKey(service: string, role: string, destination?: string): string {
  return (destination ? `${service}-${role}-${destination}` : `${service}-${role}`).toLowerCase();
}

/** `<service>-<role>[-<dest>]-<version>`. */
export function containerName(service: string, role: string, version: string, destination?: string): string {
  return `${roleKey(service, role, destination)}-${version}`;
}

/**
 * The home-relative host folder holding a container's drain file: per container *instance*
 * (name + spec hash), because a same-version replace runs two containers of one name side by
 * side (the old one renamed), and draining the old one must not cut the new one's cord.
 */
export function cordDirFor(service: string, name: string, destination: string | undefined, specHash: string): string {
  const instance = /^v1:[0-9a-f]{12}/.test(specHash) ? `${name}-${specHash.slice(3, 15)}` : name;
  return `${hostPaths(service, destination).cordsDir}/${instance}`;
}

/** The cord folder of a container mrsk started, from its own labels (its name may have changed since). */
export function cordDirOfContainer(service: string, destination: string | undefined, name: string, labels: Readonly<Record<string, string>>): string {
  const role = labels[ROLE_LABEL];
  const version = labels[VERSION_LABEL];
  const original = role && version ? containerName(service, role, version, destination) : name;
  return cordDirFor(service, original, destination, labels[SPEC_HASH_LABEL] ?? '');
}
