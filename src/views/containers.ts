// The container and image tables of `mrsk details`, `app details`, `traefik details`,
// `app containers` and `app images`: what docker's own listings show, versions 12 characters
// long, and for each table the order in which it gives way to a narrow terminal.
import type { ImageEntry, PsEntry } from '../ops/docker-ps.ts';
import type { ContainerRow } from '../ops/containers.ts';
import { abbreviateVersions } from '../plan/short-version.ts';
import { formatTable } from './table.ts';

/**
 * docker's PORTS without the repeats: `0.0.0.0:80->80/tcp, [::]:80->80/tcp` is `80->80/tcp`;
 * a port published on one address only (`127.0.0.1:8080->8080/tcp`) keeps its address.
 */
export function compactPorts(ports: string): string {
  const seen = new Set<string>();
  for (const part of ports.split(',').map((p) => p.trim()).filter(Boolean)) seen.add(part.replace(/^(?:0\.0\.0\.0|\[::\]|::):/, ''));
  return [...seen].join(', ');
}

/**
 * The columns of `docker ps` users know: short id, image, status, ports, name. Versions show 12
 * characters long; given a width, long image refs are cut keeping their tag, then the id goes.
 */
export function formatPsTable(entries: readonly PsEntry[], width?: number): string {
  if (entries.length === 0) return 'no containers\n';
  return formatTable(
    ['CONTAINER ID', 'IMAGE', 'STATUS', 'PORTS', 'NAMES'],
    entries.map((e) => [e.id.replace(/^sha256:/, '').slice(0, 12), abbreviateVersions(e.image), e.status, compactPorts(e.ports), abbreviateVersions(e.names)]),
    { width, steps: [{ cut: 1, to: 24, keep: 'end' }, { drop: 0 }, { cut: 1, to: 16, keep: 'end' }, { cut: 3, to: 24 }, { drop: 3 }, { cut: 2, to: 16 }, { cut: 1, to: 12, keep: 'end' }] },
  );
}

/** `docker image ls` columns: repository, tag, short id, age, size. */
export function formatImageTable(entries: readonly ImageEntry[], width?: number): string {
  if (entries.length === 0) return 'no images\n';
  return formatTable(
    ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'],
    entries.map((e) => [e.repository, abbreviateVersions(e.tag), e.id.replace(/^sha256:/, '').slice(0, 12), e.createdSince, e.size]),
    { width, steps: [{ cut: 0, to: 24, keep: 'end' }, { drop: 2 }, { drop: 3 }, { cut: 0, to: 12, keep: 'end' }] },
  );
}

/**
 * `mrsk app containers`: the table printed under each host header. Versions show 12 characters
 * long; given a width, the name goes first (role and version say the same) and then the id.
 */
export function formatContainerTable(rows: readonly ContainerRow[], width?: number): string {
  if (rows.length === 0) return 'no containers of this app\n';
  return formatTable(
    ['CONTAINER ID', 'NAME', 'ROLE', 'VERSION', 'STATUS', 'CREATED', ''],
    rows.map((r) => [
      r.id.slice(0, 12),
      abbreviateVersions(r.name),
      r.role,
      abbreviateVersions(r.version),
      r.status,
      r.createdAt.replace(/\.\d+Z$/, 'Z'),
      r.mark === 'old' ? '' : r.mark,
    ]),
    { width, steps: [{ drop: 1 }, { drop: 0 }, { cut: 2, to: 4 }, { cut: 4, to: 12 }] },
  );
}
