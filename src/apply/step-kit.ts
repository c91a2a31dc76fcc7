// What the step handlers share: the context a step runs in, and the small host reads and helpers
// several kinds of step use (the cord, health checks run by mrsk on Podman, Traefik's view of a service).
import { DeployError, HostError, TimeoutError } from '../errors.ts';
import type { PlanStep, StepAction } from '../plan/types.ts';
import * as runtime from '../runtime/index.ts';
import type { RuntimeName } from '../runtime/runtime.ts';
import { TRAEFIK_NETWORK_LABEL, traefikServicePortLabel } from '../model/labels.ts';
import { CORD_FILE, MRSK_NETWORK, TRAEFIK_CONTAINER } from '../model/names.ts';
import { shq } from '../shell/quote.ts';
import { absoluteOnHost } from '../desired/paths.ts';
import { inspectContainer, run, runtimeOf, tryRun, type InspectedContainer, type Remote } from './remote.ts';
import { stripControl } from './health-report.ts';

export interface StepContext extends Remote {
  readonly service: string;
  readonly destination?: string;
  /** $HOME of the SSH user per host (from the probe). */
  readonly homes: Readonly<Record<string, string>>;
  readonly appliedBy: string;
  readonly pollIntervalMs: number;
  /** Pause between "gone from Traefik" and SIGTERM, so requests already routed can finish. */
  readonly drainGraceMs: number;
  readonly progress: (message: string) => void;
}

/** `checked` is the container the precondition just inspected (so the handler need not ask again). */
export type Handler<K extends StepAction['kind']> = (
  ctx: StepContext,
  step: PlanStep,
  action: Extract<StepAction, { kind: K }>,
  checked?: InspectedContainer,
) => Promise<void>;

export function homeOf(ctx: StepContext, host: string): string {
  const home = ctx.homes[host];
  if (!home) throw new DeployError(`${host}: the home folder of the SSH user is unknown (the host was not probed)`);
  return home;
}

export const cordFile = (dir: string) => `${dir}/${CORD_FILE}`;

export async function ensureCord(ctx: StepContext, host: string, cordDir: string): Promise<string> {
  const dir = absoluteOnHost(homeOf(ctx, host), cordDir);
  await run(ctx, host, { script: cordScript(dir) });
  return dir;
}

/** Shell text that makes a drain cord (its folder, and the file the health check looks for) at an absolute folder. */
export function cordScript(dir: string): string {
  return `mkdir -p ${shq(dir)} && touch ${shq(cordFile(dir))}`;
}

/** docker's --env-file takes the rest of the line literally; newlines cannot be expressed there. */
export function escapeEnvFileValue(value: string): string {
  if (value.includes('\n')) throw new DeployError('a secret value contains a newline, which docker env files cannot carry');
  return value;
}

/** Podman refuses a bind mount whose host folder is missing (Docker makes it): make them first. */
export async function makeBindSources(ctx: StepContext, host: string, volumes: readonly string[]): Promise<void> {
  const script = bindSourcesScript(runtimeOf(ctx, host), volumes);
  if (script) await run(ctx, host, { script });
}

/** Shell text that makes the missing host folders of bind mounts (runtime.bindSourcesToMake); undefined when none. */
export function bindSourcesScript(rt: RuntimeName, volumes: readonly string[]): string | undefined {
  const sources = runtime.bindSourcesToMake(rt, volumes);
  // a source that exists (a file mounted into the container) is left as it is
  return sources.length > 0 ? sources.map((source) => `{ [ -e ${shq(source)} ] || mkdir -p ${shq(source)}; }`).join(' && ') : undefined;
}

/** A dropped connection or a hung command says nothing about the container's health. */
export function isTransportError(error: unknown): error is Error {
  return error instanceof HostError || error instanceof TimeoutError;
}

/** The last line of a host's error text, cleaned, for one-line messages. */
export function lastLineOf(error: unknown): string {
  const text = stripControl(error instanceof Error ? error.message : String(error)).trim();
  return text.split('\n').filter((l) => l.trim() !== '').pop() ?? text;
}

export const traefikPullMessage = (host: string, image: string, why: string): string =>
  `${host}: cannot pull the Traefik image ${image} (${why}); set traefik.image in the config to an image this host can pull`;

/** The URL Traefik uses for a container: its address on the docker network and the service's port label. */
export function serverUrlOf(host: string, container: InspectedContainer, service: string): string {
  const network = container.labels[TRAEFIK_NETWORK_LABEL] ?? MRSK_NETWORK;
  const ip = container.networks[network]?.IPAddress;
  const port = container.labels[traefikServicePortLabel(service)];
  if (!ip || !port) throw new DeployError(`${host}: ${container.name} has no address on ${network} or no port label`);
  return `http://${ip}:${port}`;
}

export async function serverUrl(ctx: StepContext, host: string, name: string, service: string): Promise<string> {
  const container = await inspectContainer(ctx, host, name);
  if (!container) throw new DeployError(`${host}: container ${name} does not exist`);
  return serverUrlOf(host, container, service);
}

/**
 * What a read of Traefik's view of a service may wait for on the host first (one SSH round trip
 * for up to HOST_WAIT's seconds of reads, instead of one per read): a server UP, or gone.
 * `drive`: a container whose health check is run before each read (Podman runs none by itself).
 * `nudge`: a container whose health check is run again while the reads do not show it, every
 * NUDGE_EVERY_LOOKS reads (Podman): Podman 4 sends a check's event before it records the result,
 * so Traefik, which reads the status when an event comes, may have read the old one, and it looks
 * again only at the next event. Not at every read: Traefik is most often only slower than one
 * read, and a check is not free (a busier host, and reads further apart).
 */
export interface ServerWait {
  readonly until: 'up' | 'gone';
  readonly url: string;
  readonly drive?: string;
  readonly nudge?: string;
}

/**
 * How one waiting command looks on the host: every 0.1 s for 2–3 s (the host's whole-second
 * clock), then it answers anyway and mrsk checks its own deadline: a step's timeout is overrun by
 * that at most.
 */
export const HOST_WAIT = { seconds: 3, pauseSeconds: 0.1 } as const;

/** How many reads of a wait for Traefik to route come before its check is run again (ServerWait.nudge): about 1 s. */
export const NUDGE_EVERY_LOOKS = 8;

/**
 * Traefik's server list for a service: url → UP/DOWN; undefined when the service is not (yet)
 * known. With `wait`, the answer comes once it shows what is waited for, or after HOST_WAIT.
 */
export async function traefikServers(ctx: StepContext, host: string, service: string, wait?: ServerWait): Promise<Record<string, string> | undefined> {
  const rt = runtimeOf(ctx, host);
  const path = `/api/http/services/${service}@docker`;
  // Traefik's API answers in compact JSON: a server's status is `"<url>":"UP"` in serverStatus
  // (its `"url":"<url>"` in the server list is never followed by a colon)
  const command = wait
    ? runtime.traefikApiUntil(rt, path, wait.until === 'up' ? { contains: `"${wait.url}":"UP"` } : { lacks: `"${wait.url}":` }, {
        ...HOST_WAIT,
        before: wait.drive ? runtime.runHealthCheck(rt, wait.drive) : undefined,
        between: wait.nudge ? runtime.runHealthCheck(rt, wait.nudge) : undefined,
        betweenEvery: NUDGE_EVERY_LOOKS,
      })
    : runtime.traefikApi(rt, path);
  const result = await tryRun(ctx, host, command);
  if (result.code !== 0) return undefined;
  try {
    const body = JSON.parse(result.stdout) as { serverStatus?: Record<string, string> };
    return body.serverStatus ?? {};
  } catch {
    return undefined;
  }
}

/**
 * Whether Traefik lists the service at all (its list, searched by name); undefined when the API
 * does not answer. Told apart from "no such service" only this way: both make the service's own
 * URL fail.
 */
export async function traefikHasService(ctx: StepContext, host: string, service: string): Promise<boolean | undefined> {
  const result = await tryRun(ctx, host, runtime.traefikApi(runtimeOf(ctx, host), `/api/http/services?search=${encodeURIComponent(service)}&per_page=1000`));
  if (result.code !== 0) return undefined;
  try {
    const list = JSON.parse(result.stdout) as unknown;
    return Array.isArray(list) ? list.some((entry) => (entry as { name?: unknown } | null)?.name === `${service}@docker`) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `Traefik is not running on this host (…). ` when it is not (the usual reason nothing routes), a
 * sentence saying the runtime or the host does not answer when nobody can tell, else ''.
 */
export async function traefikDown(ctx: StepContext, host: string): Promise<string> {
  let traefik: InspectedContainer | undefined;
  try {
    traefik = await inspectContainer(ctx, host, TRAEFIK_CONTAINER);
  } catch (error) {
    // not "no traefik container": nobody said (dockerd going down, or the host not answering)
    const why = lastLineOf(error).replace(`${host}: `, '');
    return isTransportError(error) ? `The host stopped answering (${why}). ` : `${runtimeOf(ctx, host)} does not answer on this host, so neither does Traefik (${why}). `;
  }
  if (traefik?.running) return '';
  const state = traefik ? `${traefik.status}${traefik.status === 'exited' ? ` (${traefik.exitCode})` : ''}` : 'no traefik container';
  return `Traefik is not running on this host (${state}): \`mrsk traefik boot\` or running the command again restores it. `;
}
