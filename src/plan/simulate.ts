// simulate(snapshot, plan): what the hosts would look like after applying the plan, as a pure
// function (immer). It lets tests prove convergence (planning again from the result gives no
// steps) and gives `--dry-run` style previews a model to show.
import { produce, type Draft } from 'immer';
import { sha256Hex } from '../desired/canonical.ts';
import type { ObservedContainer, ReachableHost, Snapshot } from '../probe/types.ts';
import type { Plan, PlanStep } from './types.ts';
import { KEEPER_VERSION_LINE } from '../runtime/podman-service.ts';

/** A deterministic fake id, so simulated snapshots are reproducible. */
const fakeId = (...parts: string[]): string => sha256Hex(parts.join('\0'));

/** An ISO time `offsetMs` after `base`, so simulated containers sort newest-last in plan order. */
function later(base: string, offsetMs: number): string {
  const time = Date.parse(base);
  return new Date((Number.isNaN(time) ? 0 : time) + offsetMs).toISOString();
}

function applyStep(host: Draft<ReachableHost>, step: PlanStep, now: string): void {
  const action = step.action;
  const find = (idOrName: string) => host.containers.findIndex((c) => c.id === idOrName || c.name === idOrName);
  switch (action.kind) {
    case 'network-create':
      if (!host.networks.includes(action.network)) host.networks.push(action.network);
      return;
    case 'image-pull':
      if (!host.images.some((image) => image.tags.includes(action.image))) {
        host.images.push({ id: `sha256:${fakeId('image', action.image)}`, tags: [action.image], createdAt: now, labels: {} });
      }
      return;
    case 'container-run':
    case 'traefik-run': {
      const spec = action.spec;
      if (action.kind === 'container-run' && action.replaces) {
        const displaced = host.containers[find(action.replaces.containerId)];
        if (displaced) displaced.name = action.replaces.renameTo;
      }
      if (find(spec.name) !== -1) return;
      const image = host.images.find((candidate) => candidate.tags.includes(spec.image));
      const container: ObservedContainer = {
        id: fakeId('container', host.host, spec.name, spec.specHash),
        name: spec.name,
        image: spec.image,
        imageId: image?.id ?? `sha256:${fakeId('image', spec.image)}`,
        state: 'running',
        exitCode: 0,
        ...(action.kind === 'container-run' && action.spec.healthcheck ? { health: 'healthy' as const } : {}),
        labels: { ...spec.labels },
        createdAt: now,
        startedAt: now,
        restartCount: 0,
      };
      host.containers.push(container);
      return;
    }
    case 'accessory-run': {
      const spec = action.spec;
      if (find(spec.containerName) !== -1) return;
      const image = host.images.find((candidate) => candidate.tags.includes(spec.image));
      host.containers.push({
        id: fakeId('container', host.host, spec.containerName, spec.specHash),
        name: spec.containerName,
        image: spec.image,
        imageId: image?.id ?? `sha256:${fakeId('image', spec.image)}`,
        state: 'running',
        exitCode: 0,
        ...(spec.healthcheck ? { health: 'healthy' as const } : {}),
        labels: { ...spec.labels },
        createdAt: now,
        startedAt: now,
        restartCount: 0,
      });
      return;
    }
    case 'container-start': {
      const container = host.containers[find(action.containerId)];
      if (!container) return;
      container.state = 'running';
      container.exitCode = 0;
      container.startedAt = now;
      if (container.health) container.health = 'healthy';
      return;
    }
    case 'container-stop': {
      const container = host.containers[find(action.containerId)];
      if (!container || container.state === 'exited') return;
      container.state = 'exited';
      container.exitCode = 0;
      container.finishedAt = now;
      delete container.health;
      return;
    }
    case 'container-remove': {
      const index = find(action.containerId);
      if (index !== -1) host.containers.splice(index, 1);
      return;
    }
    case 'image-remove': {
      for (const image of host.images) image.tags = image.tags.filter((tag) => tag !== action.image);
      host.images = host.images.filter((image) => image.tags.length > 0);
      return;
    }
    case 'release-record':
      host.release = {
        id: `simulated-${action.version}`,
        version: action.version,
        appliedAt: now,
        appliedBy: 'simulate',
        specHashes: { ...action.specHashes },
        ...(action.traefikSpecHash ? { traefikSpecHash: action.traefikSpecHash } : {}),
        ...(action.missedHosts ? { missedHosts: action.missedHosts.map((m) => ({ ...m })) } : {}),
        ...(action.desired ? { desired: action.desired } : {}),
      };
      return;
    case 'network-remove':
      host.networks = host.networks.filter((network) => network !== action.network);
      return;
    case 'state-remove':
      // the ledger goes with the state folder (the lock goes when it is released)
      delete host.release;
      return;
    case 'traefik-file-write':
      // the probe reads the file's first line, which carries its hash
      host.traefikFileHash = action.file.hash;
      return;
    case 'traefik-file-remove':
      delete host.traefikFileHash;
      return;
    case 'podman-service-start':
      if (host.runtime === 'podman') host.podmanService = { socket: true, systemd: action.how === 'systemd', ...(action.how === 'keeper' ? { keeper: KEEPER_VERSION_LINE } : {}) };
      return;
    case 'podman-service-stop':
      if (host.runtime === 'podman') host.podmanService = { socket: false, systemd: host.podmanService?.systemd ?? false };
      return;
    case 'container-wait-healthy':
    case 'traefik-wait-up':
    case 'traefik-wait-ready':
    case 'container-drain':
    case 'assets-prepare':
    case 'registry-logout':
    case 'accessory-prepare':
    case 'accessory-data-remove':
      // Waits, drains, asset and accessory folders and registry logins change no state a plan depends on.
      return;
    default: {
      const unknown: never = action;
      throw new TypeError(`simulate: unknown step kind ${(unknown as { kind: string }).kind}`);
    }
  }
}

/** Applies every step of the plan to a copy of the snapshot, in plan order. Blocked hosts stay as they were. */
export function simulate(snapshot: Snapshot, plan: Plan): Snapshot {
  return produce(snapshot, (draft) => {
    plan.steps.forEach((step, index) => {
      const host = draft.hosts[step.host];
      if (!host || host.status !== 'ok') return;
      applyStep(host as Draft<ReachableHost>, step, later(snapshot.takenAt, index + 1));
    });
  });
}
