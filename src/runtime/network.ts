// Builders for docker networks.
import type { Argv } from './argv.ts';
import type { RuntimeName } from './runtime.ts';

/** `docker network create` of a bridge network (the `mrsk` network containers and Traefik share). */
export function createNetwork(rt: RuntimeName, name: string): Argv {
  return [rt, 'network', 'create', name];
}

/** Network names, one per line. */
export function listNetworks(rt: RuntimeName): Argv {
  return [rt, 'network', 'ls', '--format', '{{.Name}}'];
}

/** `docker network inspect`: exits non-zero when the network does not exist. */
export function inspectNetwork(rt: RuntimeName, name: string): Argv {
  return [rt, 'network', 'inspect', name];
}

/** `docker network rm` (fails while a container is attached). */
export function removeNetwork(rt: RuntimeName, name: string): Argv {
  return [rt, 'network', 'rm', name];
}
