// Builders for the Traefik container and for queries to its API.
import type { TraefikSpec } from '../desired/types.ts';
import { RUNTIMES, imageRef, type RuntimeName } from './runtime.ts';
import { TRAEFIK_CONTAINER } from '../model/names.ts';
import { shq, toShell } from '../shell/quote.ts';
import { type Argv, keyValueFlags, repeatFlag } from './argv.ts';
import { hostWaitScript, type HostWait } from './host-wait.ts';

/** Port of Traefik's API entrypoint inside its container (`--api.insecure` serves it on :8080). */
export const TRAEFIK_API_PORT = 8080;

/**
 * The volume that gives Traefik's Docker provider the runtime's API, as the desired spec spells it
 * (and hashes it): Docker's socket. On a Podman host its source is Podman's Docker-compatible
 * socket instead; the spec, and so its hash, is the same on both runtimes.
 */
export const TRAEFIK_API_SOCKET_VOLUME = '/var/run/docker.sock:/var/run/docker.sock';

/**
 * `run -d` of Traefik, as a script: a volume whose host side is home-relative (Traefik's
 * ACME storage and file-provider folders under ~/.mrsk/traefik) is resolved against the SSH
 * user's $HOME and made first, mode 0700, so docker does not create it root-owned (the user's
 * deploys write their app files there) and acme.json is never readable by others. spec.ports must
 * hold every `-p` value, the API's 127.0.0.1 one included.
 */
export function runTraefik(rt: RuntimeName, spec: TraefikSpec): { readonly script: string } {
  const homeDirs: string[] = [];
  const volumes = spec.volumes.map((volume) => (volume === TRAEFIK_API_SOCKET_VOLUME ? `${RUNTIMES[rt].apiSocket}:/var/run/docker.sock` : volume));
  const volumeWords = volumes.flatMap((volume) => {
    if (volume.startsWith('/')) return ['-v', shq(volume)];
    homeDirs.push(volume.split(':')[0]!);
    return ['-v', `"$HOME"/${shq(volume)}`];
  });
  const run = [
    toShell([rt, 'run', '-d', '--name', spec.name, '--network', spec.network, '--restart', 'unless-stopped', ...repeatFlag('-p', spec.ports)]),
    ...volumeWords,
    toShell([...keyValueFlags('--env', spec.env ?? {}), ...keyValueFlags('--label', spec.labels), ...spec.options, imageRef(rt, spec.image), ...spec.args]),
  ].join(' ');
  if (homeDirs.length === 0) return { script: run };
  const dirs = homeDirs.map((dir) => `"$HOME"/${shq(dir)}`).join(' ');
  return { script: `mkdir -p ${dirs} && chmod 700 ${dirs} && ${run}` };
}

/** Removes an app's file from Traefik's file-provider folder (no error when it is gone). */
export function removeTraefikFile(file: string): Argv {
  return ['rm', '-f', file];
}

/**
 * Shell text that defines `host_get PATH`: GET on Traefik's API through the port it publishes on
 * the host's loopback, which `$api` holds (empty: none), with the host's curl or wget, printing
 * the whole answer or nothing. It fails when there is no such port, neither tool, or the read
 * fails; no process starts in Traefik's container (an exec costs the host far more than a GET).
 */
export function traefikHostGetDefinition(): string {
  return [
    'if [ -n "$api" ] && command -v curl >/dev/null 2>&1; then host_get() { b=$(curl -fsS --max-time 5 "http://127.0.0.1:$api$1" 2>/dev/null) && printf \'%s\\n\' "$b"; };',
    'elif [ -n "$api" ] && command -v wget >/dev/null 2>&1; then host_get() { b=$(wget -q -T 5 -O - "http://127.0.0.1:$api$1" 2>/dev/null) && printf \'%s\\n\' "$b"; };',
    'else host_get() { return 1; }; fi;',
  ].join(' ');
}

/**
 * Shell text that defines `traefik_get PATH`: host_get (traefikHostGetDefinition) through the API
 * port Traefik's container publishes on 127.0.0.1, asked once (`<rt> port`), else, or when that
 * read fails, traefikApi's exec, whose exit code and stderr then count.
 */
export function traefikGetDefinition(rt: RuntimeName, container: string = TRAEFIK_CONTAINER): string {
  const port = toShell([rt, 'port', container, `${TRAEFIK_API_PORT}/tcp`]);
  return [
    `api=$(${port} 2>/dev/null | sed -n 's/^127\\.0\\.0\\.1:\\([0-9][0-9]*\\)$/\\1/p' | head -n 1);`,
    traefikHostGetDefinition(),
    `traefik_get() { host_get "$1" || ${toShell(wgetInTraefik(rt, container))} "http://127.0.0.1:${TRAEFIK_API_PORT}$1"; };`,
  ].join(' ');
}

/** What traefikApiUntil waits for in the answer: a text to show up, or one to go away. */
export type ApiWait = { readonly contains: string } | { readonly lacks: string };

/**
 * traefikApi's GET (through the host's loopback when it can: traefikGetDefinition), repeated on
 * the host until its answer contains (or no longer contains) a text, or until the wait's time is
 * up (see HostWait): a wait on Traefik costs one SSH round trip, not one per read. Prints the last
 * answer (read as traefikApi's); a read that fails both ways ends the script with the exec's exit
 * code and stderr, as traefikApi would.
 */
export function traefikApiUntil(rt: RuntimeName, path: string, until: ApiWait, wait: HostWait): { readonly script: string; readonly answersAs: Argv } {
  const text = 'contains' in until ? until.contains : until.lacks;
  // case patterns: the quoted part matches literally
  const done = 'contains' in until ? `*${shq(text)}*) break ;;` : `*${shq(text)}*) ;; *) break ;;`;
  return {
    answersAs: traefikApi(rt, path),
    script: `${traefikGetDefinition(rt)} ${hostWaitScript(wait, `out=$(traefik_get ${shq(path)}) || exit $?; case $out in ${done} esac;`, `printf '%s\\n' "$out"`)}`,
  };
}

/**
 * Two GETs on Traefik's API in one exec (one runtime CLI process instead of two), with `between`
 * printed on a line of its own between the two answers (the probe's section marker). Needs a
 * shell in Traefik's image (the official one is alpine-based).
 */
export function traefikApiTwice(rt: RuntimeName, first: string, second: string, between: string, container: string = TRAEFIK_CONTAINER): Argv {
  const url = (path: string) => `http://127.0.0.1:${TRAEFIK_API_PORT}${path}`;
  return [rt, 'exec', container, 'sh', '-c', 'wget -q -O - "$1"; printf \'\\n%s\\n\' "$3"; wget -q -O - "$2"', 'sh', url(first), url(second), between];
}

/**
 * GET on Traefik's API from inside its own container (the official image is alpine-based and has
 * wget), so probing needs no published port and no curl on the host. path starts with '/'.
 */
export function traefikApi(rt: RuntimeName, path: string, container: string = TRAEFIK_CONTAINER): Argv {
  return [...wgetInTraefik(rt, container), `http://127.0.0.1:${TRAEFIK_API_PORT}${path}`];
}

/** Traefik's own wget, run in its container, printing what it fetches (the URL follows). */
function wgetInTraefik(rt: RuntimeName, container: string): Argv {
  return [rt, 'exec', container, 'wget', '-q', '-O', '-'];
}
