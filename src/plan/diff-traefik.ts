// Traefik's part of one host's plan: the Traefik container (booted, replaced stop-first with its
// image pulled while the old one still routes, taken over from Kamal, started, stopped, removed,
// and waited for after a restart until it routes the app again), the app's file in Traefik's
// file-provider folder, and on a Podman host the API service Traefik reads the containers through.
// diff.ts's HostPlanner asks this planner for its steps.
import { SPEC_HASH_LABEL } from '../model/labels.ts';
import { KEEPER_VERSION_LINE } from '../runtime/podman-service.ts';
import { traefikFileName } from '../model/names.ts';
import type { ContainerSpec, DesiredHost, TraefikFileSpec, TraefikSpec } from '../desired/types.ts';
import { UNKNOWN_TRAEFIK_FILE_HASH, type ObservedContainer } from '../probe/types.ts';
import { stateCause, traefikSpecCause } from './causes.ts';
import { isKamalHost, isUnmanagedTraefik } from '../probe/kamal.ts';
import { inService, isManagedTraefik, traefikServiceOf } from '../probe/observed.ts';
import type { HostPlanKit } from './host-plan-kit.ts';
import type { ChangeSymbol, ValueChange } from './types.ts';

/** Seconds Traefik gets to finish requests in flight when it is stopped on request. */
export const TRAEFIK_STOP_SECONDS = 10;

export class TraefikPlanner {
  readonly #kit: HostPlanKit;

  constructor(kit: HostPlanKit) {
    this.#kit = kit;
  }

  /** The Traefik this host runs for the roles in scope (absent when none of them is proxied). */
  wanted(): TraefikSpec | undefined {
    const wanted = this.#kit.wanted;
    return wanted?.traefik && this.#kit.specs().some((spec) => spec.proxied) ? wanted.traefik : undefined;
  }

  /** The app's Traefik file is planned when a proxied role is in scope, or no --roles narrows the plan. */
  #fileInScope(specs: readonly ContainerSpec[]): boolean {
    return !this.#kit.roleFilter || specs.some((spec) => spec.proxied);
  }

  /** Writes the app's Traefik file when the host has none or another one; returns the step id. */
  planFileWrite(wanted: DesiredHost, specs: readonly ContainerSpec[], network: string | undefined): string | undefined {
    const file = wanted.traefikFile;
    const observed = this.#kit.host.traefikFileHash;
    if (!file || observed === file.hash || !specs.some((spec) => spec.proxied)) return undefined;
    // The host file holds only a hash (certificates are secrets): the cause says what the file now holds.
    const holds = traefikFileContents(file);
    const cause =
      observed === undefined
        ? `Traefik file ${file.name} missing (${holds})`
        : observed === UNKNOWN_TRAEFIK_FILE_HASH
          ? `Traefik file ${file.name} was not written by mrsk as it is (edited by hand?): rewritten (${holds})`
          : `Traefik file ${file.name} differs from the config (now ${holds})`;
    return this.#kit.add({
      id: this.#kit.id('traefik-file', 'write'),
      address: this.#kit.address('traefik-file', file.name),
      symbol: observed === undefined ? '+' : '~',
      cause,
      dependsOn: network ? [network] : [],
      precondition: {},
      action: { kind: 'traefik-file-write', file },
    });
  }

  /**
   * Removes the app's Traefik file the config no longer asks for on this host, after every other
   * step: the old containers whose labels name its transports or certificates are drained and
   * stopped by then.
   */
  planFileRemoval(specs: readonly ContainerSpec[]): void {
    if (this.#kit.wanted?.traefikFile || this.#kit.host.traefikFileHash === undefined || !this.#fileInScope(specs)) return;
    const name = traefikFileName(this.#kit.desired.service, this.#kit.desired.destination);
    this.#kit.add({
      id: this.#kit.id('traefik-file', 'remove'),
      address: this.#kit.address('traefik-file', name),
      symbol: '-',
      cause: this.#kit.wanted ? `the config needs no Traefik file ${name} on this host any more` : 'host is not in the config',
      dependsOn: this.#kit.steps.map((step) => step.id),
      precondition: {},
      action: { kind: 'traefik-file-remove', name },
    });
  }

  /** After Traefik (re)started: wait for /ping, then until each serving app container is routed again. */
  planWaits(spec: TraefikSpec, after: string): void {
    const started = this.#kit.steps.find((step) => step.id === after)!;
    const common = { address: started.address, symbol: started.symbol, cause: started.cause, precondition: {} } as const;
    const ready = this.#kit.add({
      ...common,
      id: this.#kit.id('traefik', 'ready'),
      dependsOn: [after],
      action: { kind: 'traefik-wait-ready', apiPort: spec.apiPort, timeout: this.#kit.desired.deployTimeout },
    });
    for (const container of this.#kit.owned) {
      const service = traefikServiceOf(container.labels);
      if (!service || container.state !== 'running' || container.health === 'unhealthy') continue;
      this.#kit.add({
        ...common,
        id: this.#kit.id('traefik', 'routes', container.name),
        dependsOn: [ready],
        action: { kind: 'traefik-wait-up', name: container.name, service, apiPort: spec.apiPort, timeout: this.#kit.desired.deployTimeout },
      });
    }
  }

  /** The Traefik container mrsk manages on this host, unless docker is removing it. */
  managed(): ObservedContainer | undefined {
    return this.#kit.host.containers.find((c) => isManagedTraefik(c) && c.state !== 'removing');
  }

  /** traefik start / stop / restart: the existing container only; a missing one blocks the host. */
  planRunState(mode: 'start' | 'stop' | 'restart'): { blocked?: string } {
    const spec = this.wanted();
    if (!spec) return {};
    const current = this.managed();
    if (!current) return { blocked: 'Traefik is not on this host (mrsk traefik boot runs it)' };
    const address = this.#kit.address('traefik');
    const precondition = { containerId: current.id };
    const cause = `${mode} requested`;
    let last: string | undefined;
    if (mode !== 'start' && inService(current)) {
      last = this.#kit.add({
        id: this.#kit.id('traefik', 'stop'),
        address,
        symbol: '~',
        cause,
        dependsOn: [],
        precondition,
        action: { kind: 'container-stop', containerId: current.id, name: current.name, timeout: TRAEFIK_STOP_SECONDS },
      });
    }
    if (mode === 'stop' || (mode === 'start' && inService(current))) return {};
    const start = this.#kit.add({
      id: this.#kit.id('traefik', 'start'),
      address,
      symbol: '~',
      cause,
      dependsOn: last ? [last] : [],
      precondition,
      action: { kind: 'container-start', containerId: current.id, name: current.name },
    });
    this.planWaits(spec, start);
    return {};
  }

  /** traefik remove: stop and remove Traefik, then its image (the apps here stop being reachable). */
  planRemoval(): { blocked?: string } {
    if (!this.wanted()) return {};
    const current = this.managed();
    if (!current) return {};
    const address = this.#kit.address('traefik');
    const cause = 'remove requested';
    const remove = this.#kit.stopAndRemove(current, address, cause, TRAEFIK_STOP_SECONDS, { kind: 'container-remove', containerId: current.id, name: current.name });
    this.#kit.planImagesOf([current], [remove]);
    return {};
  }

  /** Kamal's Traefik, when this host runs Kamal-made containers of this service: planned as a takeover. */
  kamal(): ObservedContainer | undefined {
    if (!isKamalHost(this.#kit.host.containers, this.#kit.desired.service, this.#kit.desired.destination)) return undefined;
    return this.#kit.host.containers.find((c) => isUnmanagedTraefik(c) && c.state !== 'removing');
  }

  /**
   * On a Podman host, what Traefik needs of the host before it runs: Podman's API socket served and
   * (without systemd) mrsk's keeper of this version running its health checks. Returns the step id.
   */
  #planPodmanService(): string | undefined {
    if (this.#kit.host.runtime !== 'podman') return undefined;
    const state = this.#kit.host.podmanService ?? { socket: false, systemd: false };
    const how = state.systemd ? 'systemd' : 'keeper';
    let cause: string;
    if (!state.socket) cause = "Podman's API socket is missing (Traefik reads the containers through it)";
    else if (how === 'keeper' && state.keeper === undefined) cause = "mrsk's Podman keeper is not running (it runs the health checks Traefik routes by; no systemd here)";
    else if (how === 'keeper' && state.keeper !== KEEPER_VERSION_LINE) cause = `mrsk's Podman keeper is another version (${state.keeper})`;
    else return undefined;
    return this.#kit.add({
      id: this.#kit.id('podman-service', 'start'),
      address: this.#kit.address('podman-service'),
      symbol: '+',
      cause,
      dependsOn: [],
      precondition: {},
      action: { kind: 'podman-service-start', how },
    });
  }

  /** Returns the id of the step after which Traefik runs the desired spec, if the plan changes it. */
  plan(spec: TraefikSpec, network: string | undefined): string | undefined {
    const service = this.#planPodmanService();
    const forced = this.#kit.request.replace?.includes(this.#kit.address('traefik')) ?? false;
    const kamal = this.kamal();
    const current = kamal ?? this.#kit.host.containers.find((c) => isManagedTraefik(c) && c.state !== 'removing');
    const address = this.#kit.address('traefik');
    let symbol: ChangeSymbol = '+';
    let cause = 'traefik missing';
    let changes: readonly ValueChange[] = [];
    const before: string[] = [];
    if (current) {
      if (kamal) {
        // Kamal's Traefik holds port 80 and routes by Kamal's labels, which mrsk's Traefik does
        // not read: replacing it is stop-first, and HTTP on the host fails until mrsk's app is routed.
        cause = `takeover of Kamal container ${kamal.name}: HTTP on this host fails from its stop until mrsk's container is routed`;
      } else if (current.labels[SPEC_HASH_LABEL] !== spec.specHash) ({ cause, changes } = traefikSpecCause(current, spec.labels, spec.specHash));
      else if (!inService(current)) cause = stateCause(current, 'traefik');
      else if (forced) cause = 'replace requested';
      else return undefined;
      symbol = '-/+';
      const common = { address, symbol, cause, precondition: { containerId: current.id } } as const;
      // Stop-first: pull the new image before the running Traefik stops, so an image that cannot
      // be pulled fails the plan while the old Traefik still routes.
      if (inService(current) && !this.#kit.host.images.some((image) => image.tags.includes(spec.image))) {
        before.push(this.#kit.add({ ...common, id: this.#kit.id('traefik', 'pull'), dependsOn: [], precondition: {}, action: { kind: 'image-pull', image: spec.image } }));
      }
      if (inService(current)) {
        before.push(
          this.#kit.add({
            ...common,
            id: this.#kit.id('traefik', 'stop'),
            dependsOn: [...before],
            action: { kind: 'container-stop', containerId: current.id, name: current.name, timeout: this.#kit.desired.drainTimeout },
            ...(changes.length > 0 ? { changes } : {}),
          }),
        );
      }
      before.push(
        this.#kit.add({
          ...common,
          id: this.#kit.id('traefik', 'remove'),
          dependsOn: [...before],
          action: { kind: 'container-remove', containerId: current.id, name: current.name },
        }),
      );
      this.#kit.removed.set(current.id, before.at(-1)!);
    }
    return this.#kit.add({
      id: this.#kit.id('traefik', 'run'),
      address,
      symbol,
      cause,
      dependsOn: [...before, ...(network ? [network] : []), ...(service ? [service] : [])],
      precondition: { absentName: spec.name },
      action: { kind: 'traefik-run', spec },
    });
  }
}

/** What an app's Traefik file holds, for a cause: never a certificate or key, only that there is one. */
function traefikFileContents(file: TraefikFileSpec): string {
  const parts: string[] = [];
  if (file.certificates.length > 0) parts.push(`${file.certificates.length === 1 ? 'a certificate' : `${file.certificates.length} certificates`} from secrets`);
  for (const name of Object.keys(file.transports).sort()) parts.push(`response_timeout ${file.transports[name]!.responseHeaderTimeout}s for ${name}`);
  return parts.join(', ');
}
