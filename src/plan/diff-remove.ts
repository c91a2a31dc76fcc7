// What leaves a host: `mrsk remove` of the app (its containers, images, accessories, Traefik's
// file for it, and Traefik, the network and the registry login when no other app is left), and the
// images of the app no container uses (remove and prune). diff.ts's HostPlanner calls these with
// the HostPlanKit view of the host's plan (host-plan-kit.ts).
import { ACCESSORY_LABEL } from '../model/labels.ts';
import { MRSK_NETWORK, traefikFileName } from '../model/names.ts';
import { hostPaths } from '../desired/paths.ts';
import type { ContainerSpec } from '../desired/types.ts';
import type { AccessoryPlanner } from './diff-accessories.ts';
import { TRAEFIK_STOP_SECONDS, type TraefikPlanner } from './diff-traefik.ts';
import type { HostPlanKit } from './host-plan-kit.ts';

/** Images of the app's repositories on the host that no container uses and the config does not ask for. */
export function planUnusedImages(kit: HostPlanKit, specs: readonly ContainerSpec[]): void {
  const planned = new Set(kit.steps.filter((step) => step.action.kind === 'image-remove').map((step) => (step.action as { image: string }).image));
  const used = new Set([...specs.map((spec) => spec.image), ...kit.host.containers.filter((c) => !kit.removed.has(c.id)).map((c) => c.image)]);
  const traefikImage = kit.wanted?.traefik?.image;
  // The probe lists images by id with every tag they carry: an image this app shares with another
  // (the same id tagged in another repository) shows that app's tags too. Only this app's own
  // tags go: docker untags them and leaves the image, and its other tags, to the other app.
  const repository = (ref: string) => ref.replace(/@.*$/, '').replace(/:[^:/]*$/, '');
  const own = new Set([...(kit.wanted?.containers ?? []).map((c) => c.image), ...kit.owned.map((c) => c.image)].map(repository));
  for (const image of kit.host.images) {
    if (image.tags.some((tag) => used.has(tag) || tag === traefikImage) || used.has(image.id)) continue;
    for (const ref of image.tags.length > 0 ? image.tags.filter((tag) => own.has(repository(tag))) : [image.id]) {
      if (planned.has(ref)) continue;
      kit.add({
        id: kit.id('image', ref, 'remove'),
        address: kit.address('image', ref),
        symbol: '-',
        cause: 'no container uses it',
        dependsOn: [],
        precondition: {},
        action: { kind: 'image-remove', image: ref },
      });
    }
  }
}

/**
 * remove: every container of the app on the host (stopped, not drained: taking the app off is
 * an outage by choice), its images, the registry login, its state folder; Traefik and the
 * network too when no other app has containers on the host (unknown counts as "another app").
 */
export function planAppRemoval(kit: HostPlanKit, accessoryPlanner: AccessoryPlanner, traefikPlanner: TraefikPlanner): { blocked?: string } {
  const removes: string[] = [];
  for (const container of kit.owned) {
    removes.push(kit.stopAndRemove(container, kit.address('container', container.name), 'remove requested', kit.stopTimeoutOf(container), kit.removeAction(container)));
  }
  kit.planImagesOf(kit.owned, removes);
  // the app's accessories go with it, their data only on request (remove --data)
  const accessorySpecs = kit.wanted?.accessories ?? [];
  const strays = kit.accessories.filter((c) => !accessorySpecs.some((spec) => spec.name === c.labels[ACCESSORY_LABEL]));
  const keepsAccessoryData = (accessorySpecs.length > 0 || kit.accessories.length > 0) && !kit.request.removeData;
  removes.push(...accessoryPlanner.planRemoval(accessorySpecs, strays, 'remove requested'));
  if (kit.host.traefikFileHash !== undefined) {
    // the app's own file for Traefik goes with the app, whether Traefik stays for other apps or not
    const name = traefikFileName(kit.desired.service, kit.desired.destination);
    kit.add({
      id: kit.id('traefik-file', 'remove'),
      address: kit.address('traefik-file', name),
      symbol: '-',
      cause: 'remove requested',
      dependsOn: [...removes],
      precondition: {},
      action: { kind: 'traefik-file-remove', name },
    });
  }
  planUnusedImages(kit, []);
  const alone = kit.host.otherApps !== undefined && kit.host.otherApps.length === 0;
  const traefik = traefikPlanner.managed();
  if (alone && traefik) {
    const remove = kit.stopAndRemove(
      traefik,
      kit.address('traefik'),
      'no other app on this host uses it',
      TRAEFIK_STOP_SECONDS,
      { kind: 'container-remove', containerId: traefik.id, name: traefik.name },
      removes,
    );
    removes.push(remove);
    kit.planImagesOf([traefik], [remove]);
  }
  // mrsk's Podman keeper served the API for Traefik and ran health checks: nothing of mrsk is left to use it
  if (alone && kit.host.runtime === 'podman' && kit.host.podmanService?.keeper !== undefined) {
    removes.push(
      kit.add({
        id: kit.id('podman-service', 'stop'),
        address: kit.address('podman-service'),
        symbol: '-',
        cause: 'no other app on this host uses it',
        dependsOn: [...removes],
        precondition: {},
        action: { kind: 'podman-service-stop' },
      }),
    );
  }
  const network = kit.wanted?.network ?? MRSK_NETWORK;
  if (alone && kit.host.networks.includes(network)) {
    removes.push(
      kit.add({
        id: kit.id('network', 'remove'),
        address: kit.address('network', network),
        symbol: '-',
        cause: 'no other app on this host uses it',
        dependsOn: [...removes],
        precondition: {},
        action: { kind: 'network-remove', network },
      }),
    );
  }
  // a host with nothing of the app left (no container, image or release record) has nothing to remove
  if (kit.steps.length === 0 && !kit.host.release) return {};
  // docker keeps one login per registry for every app on the host: another app's next pull needs it
  const logout = alone ? kit.request.registryLogout : undefined;
  if (logout) {
    kit.add({
      id: kit.id('registry', 'logout'),
      address: kit.address('registry', logout.server ?? 'docker.io'),
      symbol: '-',
      cause: 'remove requested',
      dependsOn: [],
      precondition: {},
      action: { kind: 'registry-logout', ...(logout.server ? { server: logout.server } : {}) },
    });
  }
  const root = hostPaths(kit.desired.service, kit.desired.destination).root;
  kit.add({
    id: kit.id('state', 'remove'),
    address: kit.address('state', root),
    symbol: '-',
    cause: 'remove requested: env files, drain files, release ledger, audit log',
    dependsOn: kit.steps.map((step) => step.id),
    precondition: {},
    // kept accessory data lives under the state folder (src/desired/accessory.ts)
    action: { kind: 'state-remove', dir: root, keep: keepsAccessoryData ? ['lock', 'accessories'] : ['lock'] },
  });
  return {};
}
