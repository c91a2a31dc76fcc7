// Builders for docker networks.
import type { Argv } from './argv.ts';

/** `docker network create` of a bridge network (the `mrsk` network containers and Traefik share). */
export function createNetwork(name: string): Argv {
  return ['docker', 'network', 'create', name];
}

/** Network names, one per line. */
export function listNetworks(): Argv {
  return ['docker', 'network', 'ls', '--format', '{{.Name}}'];
}

/** `docker network inspect`: exits non-zero when the network does not exist. */
export function inspectNetwork(name: string): Argv {
  return ['docker', 'network', 'inspect', name];
}

/** `docker network rm` (fails while a container is attached). */
export function removeNetwork(name: string): Argv {
  return ['docker', 'network', 'rm', name];
}
