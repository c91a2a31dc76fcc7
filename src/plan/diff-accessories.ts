// The accessories' part of one host's plan (databases, caches: src/desired/accessory.ts). They
// are booted before the app's roles, never replaced behind the user's back (a changed one is
// listed as pending with the command that reboots it, stop-first), and removed with the app,
// their data only on request. diff.ts's HostPlanner asks this planner for its steps.
import { ACCESSORY_LABEL, SPEC_HASH_LABEL } from '../model/labels.ts';
import type { AccessorySpec } from '../desired/accessory.ts';
import { MRSK_NETWORK } from '../model/names.ts';
import { displayHostPath } from '../desired/paths.ts';
import type { ObservedContainer } from '../probe/types.ts';
import { accessorySpecCause, stateCause } from './causes.ts';
import { inService, newestFirst } from '../probe/observed.ts';
import type { HostPlanKit } from './host-plan-kit.ts';
import type { ChangeSymbol } from './types.ts';

export class AccessoryPlanner {
  readonly #kit: HostPlanKit;

  constructor(kit: HostPlanKit) {
    this.#kit = kit;
  }

  /** The accessories of this host the request is about (target accessory: the names it gives), config order. */
  specs(): readonly AccessorySpec[] {
    const all = this.#kit.wanted?.accessories ?? [];
    const names = this.#kit.request.target === 'accessory' && this.#kit.request.accessories ? new Set(this.#kit.request.accessories) : undefined;
    return names ? all.filter((spec) => names.has(spec.name)) : all;
  }

  /** The container of an accessory: the one under its name, else any labelled with it. */
  #container(name: string, containerName?: string): ObservedContainer | undefined {
    const labelled = this.#kit.accessories.filter((c) => c.labels[ACCESSORY_LABEL] === name);
    return labelled.find((c) => c.name === containerName) ?? labelled.sort(newestFirst)[0];
  }

  /** A container not of this app holding an accessory's name blocks the host. */
  blocker(specs: readonly AccessorySpec[]): string | undefined {
    for (const spec of specs) {
      const squatter = this.#kit.host.containers.find((c) => c.name === spec.containerName && !this.#kit.accessories.includes(c));
      if (squatter) return `a container named ${spec.containerName} exists that is not this app's accessory ${spec.name}; remove or rename it (or set accessories.${spec.name}.service)`;
    }
    return undefined;
  }

  /** The network an accessory runs on: created once per plan when missing; returns the step id. */
  #network(network: string): string | undefined {
    if (this.#kit.host.networks.includes(network)) return undefined;
    const id = network === (this.#kit.wanted?.network ?? MRSK_NETWORK) ? this.#kit.id('network') : this.#kit.id('network', network);
    if (this.#kit.steps.some((step) => step.id === id)) return id;
    return this.#kit.add({
      id,
      address: this.#kit.address('network', network),
      symbol: '+',
      cause: `network ${network} missing`,
      dependsOn: [],
      precondition: {},
      action: { kind: 'network-create', network },
    });
  }

  /**
   * converge of accessories (apply, setup, accessory boot/reboot): a missing one is made, a stopped
   * one started; a changed one is left running as it is and listed in `pending` with the command
   * that replaces it, unless `replace` names it (reboot: stop-first, its data folders stay).
   * Returns the last step, which the app's first role waits for.
   */
  planAll(after: readonly string[] = []): string | undefined {
    let last: string | undefined;
    for (const spec of this.specs()) {
      const end = this.#planOne(spec, after);
      last = end ?? last;
    }
    return last;
  }

  #planOne(spec: AccessorySpec, after: readonly string[]): string | undefined {
    const address = this.#kit.address('accessory', spec.name);
    const current = this.#container(spec.name, spec.containerName);
    const forced = this.#kit.request.replace?.includes(address) ?? false;
    const same = current?.labels[SPEC_HASH_LABEL] === spec.specHash;
    const changed = current && !same ? accessorySpecCause(current, spec) : undefined;
    if (current && !forced) {
      if (changed) this.#kit.pending.push({ host: this.#kit.host.host, address, cause: `accessory ${spec.name}: ${changed}`, command: `mrsk accessory reboot ${spec.name}` });
      if (inService(current)) return undefined;
      const cause = stateCause(current, `accessory ${spec.name}`);
      const start = this.#kit.add({
        id: this.#kit.id('accessory', spec.name, 'start'),
        address,
        symbol: '~',
        cause,
        dependsOn: [...after],
        precondition: { containerId: current.id },
        action: { kind: 'container-start', containerId: current.id, name: current.name },
      });
      this.#kit.started.add(current.id);
      return spec.healthcheck ? this.#wait(spec, address, '~', cause, start, 'stopped') : start;
    }
    const symbol: ChangeSymbol = current ? '-/+' : '+';
    const cause = !current ? `accessory ${spec.name} missing` : changed ? `reboot requested: ${changed}` : 'reboot requested (its data folders stay)';
    const before: string[] = [...after];
    if (!this.#kit.host.images.some((image) => image.tags.includes(spec.image))) {
      const pull = this.#kit.pulls.get(spec.image) ?? this.#kit.add({ id: this.#kit.id('accessory', spec.name, 'pull'), address, symbol, cause, dependsOn: [], precondition: {}, action: { kind: 'image-pull', image: spec.image } });
      this.#kit.pulls.set(spec.image, pull);
      before.push(pull);
    }
    if (current) {
      // stop-first: one container holds the data folders and the published port
      before.push(this.#kit.stopAndRemove(current, address, cause, this.#kit.desired.drainTimeout, { kind: 'container-remove', containerId: current.id, name: current.name }, before, symbol));
    }
    const network = this.#network(spec.network);
    if (network) before.push(network);
    if (spec.directories.length > 0 || spec.files.length > 0) {
      before.push(
        this.#kit.add({
          id: this.#kit.id('accessory', spec.name, 'prepare'),
          address,
          symbol,
          cause,
          dependsOn: [...before],
          precondition: {},
          action: { kind: 'accessory-prepare', name: spec.name, directories: spec.directories.map((dir) => dir.hostPath), files: spec.files },
        }),
      );
    }
    const run = this.#kit.add({
      id: this.#kit.id('accessory', spec.name, 'run'),
      address,
      symbol,
      cause,
      dependsOn: [...before],
      precondition: { absentName: spec.containerName },
      action: { kind: 'accessory-run', spec },
    });
    return spec.healthcheck ? this.#wait(spec, address, symbol, cause, run) : run;
  }

  /** An accessory with a docker healthcheck is waited for until healthy (no readiness delay: docker says when). */
  #wait(spec: AccessorySpec, address: string, symbol: ChangeSymbol, cause: string, after: string, existing?: 'stopped'): string {
    return this.#kit.add({
      id: this.#kit.id('accessory', spec.name, 'wait'),
      address,
      symbol,
      cause,
      dependsOn: [after],
      precondition: {},
      action: { kind: 'container-wait-healthy', name: spec.containerName, timeout: this.#kit.desired.deployTimeout, readinessDelay: 0, existing: existing ?? 'stopped' },
    });
  }

  /**
   * accessory upload: write each accessory's files (and make its folders) and nothing else, as
   * Kamal's `accessory upload` does, every time it is asked (the host copies are not read, so a
   * copy edited by hand is written back too). The container keeps running on the files it
   * started with: its spec still names the old ones, so later plans list it as pending a reboot.
   */
  planUpload(): { blocked?: string } {
    for (const spec of this.specs()) {
      if (spec.files.length === 0) continue;
      this.#kit.add({
        id: this.#kit.id('accessory', spec.name, 'prepare'),
        address: this.#kit.address('accessory', spec.name),
        symbol: '~',
        cause: `upload requested: ${spec.files.map((file) => file.remote).join(', ')}`,
        dependsOn: [],
        precondition: {},
        action: { kind: 'accessory-prepare', name: spec.name, directories: spec.directories.map((dir) => dir.hostPath), files: spec.files },
      });
    }
    return {};
  }

  /** accessory boot / reboot: the network and the accessories asked for. */
  planConverge(): { blocked?: string } {
    const specs = this.specs();
    const blocked = this.blocker(specs);
    if (blocked) return { blocked };
    this.planAll();
    return {};
  }

  /** accessory start / stop / restart: the existing containers only; a missing one blocks the host. */
  planRunState(mode: 'start' | 'stop' | 'restart'): { blocked?: string } {
    const missing: string[] = [];
    for (const spec of this.specs()) {
      const current = this.#container(spec.name, spec.containerName);
      if (!current) {
        missing.push(spec.name);
        continue;
      }
      const address = this.#kit.address('accessory', spec.name);
      const cause = `${mode} requested`;
      const precondition = { containerId: current.id };
      let last: string | undefined;
      if (mode !== 'start' && inService(current)) {
        last = this.#kit.add({
          id: this.#kit.id('accessory', spec.name, 'stop'),
          address,
          symbol: '~',
          cause,
          dependsOn: [],
          precondition,
          action: { kind: 'container-stop', containerId: current.id, name: current.name, timeout: this.#kit.desired.drainTimeout },
        });
      }
      if (mode === 'stop' || (mode === 'start' && inService(current))) continue;
      const start = this.#kit.add({
        id: this.#kit.id('accessory', spec.name, 'start'),
        address,
        symbol: '~',
        cause,
        dependsOn: last ? [last] : [],
        precondition,
        action: { kind: 'container-start', containerId: current.id, name: current.name },
      });
      if (spec.healthcheck) this.#wait(spec, address, '~', cause, start);
    }
    if (missing.length > 0) return { blocked: `accessory ${missing.join(', ')} is not on this host (mrsk accessory boot ${missing.join(' ')} runs it)` };
    return {};
  }

  /**
   * Removes accessory containers and their images; with removeData also their host folders
   * (files and data), else each accessory's kept data is listed in `pending`. Returns the
   * remove steps. `specs` are the config's; `strays` are containers of names it no longer has.
   */
  planRemoval(specs: readonly AccessorySpec[], strays: readonly ObservedContainer[], cause: string): string[] {
    const removes: string[] = [];
    const containers: ObservedContainer[] = [];
    for (const spec of specs) {
      const current = this.#container(spec.name, spec.containerName);
      const address = this.#kit.address('accessory', spec.name);
      let remove: string | undefined;
      if (current) {
        containers.push(current);
        remove = this.#kit.stopAndRemove(current, address, cause, this.#kit.desired.drainTimeout, { kind: 'container-remove', containerId: current.id, name: current.name });
        removes.push(remove);
      }
      const dirs = [spec.hostDir, ...spec.directories.map((dir) => dir.hostPath).filter((path) => path.startsWith('/'))];
      if (this.#kit.request.removeData) {
        removes.push(
          this.#kit.add({
            id: this.#kit.id('accessory', spec.name, 'data-remove'),
            // a line of its own in the plan, naming the folders: what is deleted is seen before the question
            address: `${address}/data`,
            symbol: '-',
            cause: `${cause} with its data (--data): ${dirs.map(displayHostPath).join(', ')}`,
            dependsOn: remove ? [remove] : [],
            precondition: {},
            action: { kind: 'accessory-data-remove', name: spec.name, dirs },
          }),
        );
      } else if (current) {
        this.#kit.pending.push({
          host: this.#kit.host.host,
          address: `${address}/data`,
          cause: `data of accessory ${spec.name} kept: ${dirs.map(displayHostPath).join(', ')}`,
          command: `mrsk accessory remove ${spec.name} --data`,
        });
      }
    }
    for (const stray of strays) {
      containers.push(stray);
      removes.push(this.#kit.stopAndRemove(stray, this.#kit.address('accessory', stray.labels[ACCESSORY_LABEL] ?? stray.name), cause, this.#kit.desired.drainTimeout, { kind: 'container-remove', containerId: stray.id, name: stray.name }));
    }
    this.#kit.planImagesOf(containers, removes);
    return removes;
  }

  /** accessory remove: the containers and images, the data only with removeData. */
  planDestroy(): { blocked?: string } {
    this.planRemoval(this.specs(), [], 'remove requested');
    return {};
  }
}
