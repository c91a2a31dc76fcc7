// The fingerprint a saved plan carries: a hash of what the plan's decisions depend on, so apply
// can refuse a plan whose hosts changed since. Volatile observations (probe time, health while
// starting, Traefik's live server list, restart counters, the deploy lock apply itself takes)
// are left out: they change between probes without making the plan wrong.
import { canonicalJson, sha256Hex } from '../desired/canonical.ts';
import type { Snapshot } from '../probe/types.ts';

/** The parts of a snapshot a plan depends on, in a canonical order. */
function decisionView(snapshot: Snapshot): unknown {
  const hosts: Record<string, unknown> = {};
  for (const [name, host] of Object.entries(snapshot.hosts)) {
    if (host.status !== 'ok') {
      hosts[name] = { status: host.status };
      continue;
    }
    hosts[name] = {
      status: host.status,
      containers: host.containers
        .map((c) => ({ id: c.id, name: c.name, image: c.image, state: c.state, exitCode: c.exitCode, labels: c.labels, createdAt: c.createdAt }))
        .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
      images: host.images.flatMap((image) => image.tags).sort(),
      networks: [...host.networks].sort(),
      release: host.release ? { version: host.release.version, specHashes: host.release.specHashes, traefikSpecHash: host.release.traefikSpecHash } : null,
    };
  }
  return hosts;
}

/** `sha256:<hex>` of the canonical JSON of the snapshot's decision-relevant content. */
export function fingerprintSnapshot(snapshot: Snapshot): string {
  return `sha256:${sha256Hex(canonicalJson(decisionView(snapshot)))}`;
}
