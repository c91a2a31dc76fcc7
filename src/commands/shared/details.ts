// The running containers of the app and of Traefik per host, as `docker ps` lists them: shown by
// `app details`, `traefik details` and `details` (both at once).
import type { CommandContext } from '../../cli/context.ts';
import * as runtime from '../../runtime/index.ts';
import { deriveDesired } from '../../desired/desired.ts';
import { DESTINATION_LABEL, SERVICE_LABEL } from '../../model/labels.ts';
import { TRAEFIK_CONTAINER } from '../../model/names.ts';
import { resolveRuntime, run } from '../../apply/remote.ts';
import { runPerHost, type HostOutcome } from '../../ops/hosts.ts';
import { isAppContainer, parsePsLines, type PsEntry } from '../../ops/docker-ps.ts';
import { formatPsTable } from '../../views/containers.ts';
import type { Session } from './common.ts';
import { printSections, rolesOnHost } from './per-host.ts';

/** The running app containers of the selected roles on a host, as `docker ps` lists them. */
export async function appPs(session: Session, host: string): Promise<PsEntry[]> {
  const { service, destination } = session.config;
  const labels = [`${SERVICE_LABEL}=${service}`, ...(destination ? [`${DESTINATION_LABEL}=${destination}`] : [])];
  const result = await run(session.remote, host, runtime.listContainers(await resolveRuntime(session.remote, host), { label: labels }));
  const roles = rolesOnHost(session, host).map((r) => r.name);
  return parsePsLines(result.stdout).filter((entry) => isAppContainer(entry.labels, service, destination, roles));
}

/** A host's `docker ps` entries as its section (a table) and its --json data. */
export function psOutcome(ctx: CommandContext, host: string, entries: PsEntry[]): HostOutcome<PsEntry[]> {
  return { host, ok: true, output: formatPsTable(entries, ctx.out.width), data: entries };
}

/** `app details` as JSON-able data per host plus the printed sections. */
export async function appDetails(ctx: CommandContext, session: Session, json: boolean): Promise<HostOutcome<PsEntry[]>[]> {
  return runPerHost<PsEntry[]>(
    session.hosts,
    async (host) => psOutcome(ctx, host, await appPs(session, host)),
    json ? () => undefined : printSections(ctx, 'App'),
  );
}

/** The selected hosts that run Traefik (they carry a proxied role). */
export function traefikHosts(session: Session): string[] {
  const state = deriveDesired(session.config, 'traefik');
  return session.hosts.filter((host) => state.hosts[host]?.traefik !== undefined);
}

/** The Traefik container on a host, as `docker ps` lists it. */
export async function traefikPs(session: Session, host: string): Promise<PsEntry[]> {
  const result = await run(session.remote, host, runtime.listContainers(await resolveRuntime(session.remote, host), { name: `^${TRAEFIK_CONTAINER}$` }, { all: true }));
  return parsePsLines(result.stdout);
}

/** `traefik details` per host: data for --json and printed sections. */
export async function traefikDetails(ctx: CommandContext, session: Session, hosts: readonly string[], json: boolean): Promise<HostOutcome<PsEntry[]>[]> {
  return runPerHost<PsEntry[]>(
    hosts,
    async (host) => psOutcome(ctx, host, await traefikPs(session, host)),
    json ? () => undefined : printSections(ctx, 'Traefik'),
  );
}
