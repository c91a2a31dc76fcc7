// Builders for the Traefik container and for queries to its API.
import type { TraefikSpec } from '../desired/types.ts';
import { type Argv, keyValueFlags, repeatFlag } from './argv.ts';

/** Name of the Traefik container on every host (one per host, shared by services). */
export const TRAEFIK_CONTAINER = 'traefik';

/** Port of Traefik's API entrypoint inside its container (`--api.insecure` serves it on :8080). */
export const TRAEFIK_API_PORT = 8080;

/** `docker run -d` of Traefik. spec.ports must hold every `-p` value, the API's 127.0.0.1 one included. */
export function runTraefik(spec: TraefikSpec): Argv {
  return [
    'docker', 'run', '-d', '--name', spec.name, '--network', spec.network, '--restart', 'unless-stopped',
    ...repeatFlag('-p', spec.ports),
    ...repeatFlag('-v', spec.volumes),
    ...keyValueFlags('--env', spec.env ?? {}),
    ...keyValueFlags('--label', spec.labels),
    ...spec.options,
    spec.image,
    ...spec.args,
  ];
}

/**
 * GET on Traefik's API from inside its own container (the official image is alpine-based and has
 * wget), so probing needs no published port and no curl on the host. path starts with '/'.
 */
export function traefikApi(path: string, container: string = TRAEFIK_CONTAINER): Argv {
  return ['docker', 'exec', container, 'wget', '-q', '-O', '-', `http://127.0.0.1:${TRAEFIK_API_PORT}${path}`];
}
