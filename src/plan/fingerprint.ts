// The fingerprint a saved plan carries: a hash of what the plan's decisions depend on, so apply
// can refuse a plan whose hosts changed since. Volatile observations (probe time, health while
// starting, Traefik's live server list, restart counters, the deploy lock apply itself takes)
// are left out: they change between probes without making the plan wrong. A container's image,
// labels and creation time are fixed for the life of its id, so id, name and state stand for
// the whole container; this keeps fingerprinting a 1,000-host fleet in the low milliseconds.
import { createHash } from 'node:crypto';
import type { Snapshot } from '../probe/types.ts';

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** `sha256:<hex>` over the decision-relevant content of the snapshot, in a canonical order. */
export function fingerprintSnapshot(snapshot: Snapshot): string {
  const hash = createHash('sha256');
  hash.update('mrsk snapshot fingerprint v1\n');
  for (const name of Object.keys(snapshot.hosts).sort(byText)) {
    const host = snapshot.hosts[name]!;
    let text = `host ${JSON.stringify(name)} ${host.status}\n`;
    if (host.status === 'ok') {
      // One update per host: crossing into native crypto per container costs more than the hashing.
      // Docker names and ids are [A-Za-z0-9_.-] only, so spaces separate fields unambiguously.
      text += host.containers.map((c) => `container ${c.id} ${c.name} ${c.state} ${c.exitCode}\n`).sort(byText).join('');
      text += `images ${JSON.stringify(host.images.flatMap((image) => image.tags).sort(byText))}\n`;
      text += `networks ${JSON.stringify([...host.networks].sort(byText))}\n`;
      // only when there is a file, so fingerprints of hosts without one stay what they were
      if (host.traefikFileHash !== undefined) text += `traefik-file ${JSON.stringify(host.traefikFileHash)}\n`;
      const release = host.release;
      if (release) {
        const roles = Object.keys(release.specHashes).sort(byText).map((role) => [role, release.specHashes[role]]);
        text += `release ${JSON.stringify([release.version, roles, release.traefikSpecHash ?? null])}\n`;
      }
    }
    hash.update(text);
  }
  return `sha256:${hash.digest('hex')}`;
}
