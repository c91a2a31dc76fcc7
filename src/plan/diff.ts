// diff(desired, snapshot) → Plan: the pure heart of mrsk. It compares what each host runs with
// what the config asks for and emits an ordered list of idempotent steps, each with a cause.
//
// Rules (README.md, "Plans", has the user-facing version):
// - Only containers labelled mrsk.service=<service> with a matching mrsk.destination (absent or
//   empty = no destination) are ever touched, plus the container named `traefik` labelled
//   mrsk.traefik=true. A foreign container in the way of a name mrsk needs blocks the host.
// - Hosts Kamal runs (src/probe/kamal.ts): a running Kamal-made container of a role is that
//   role's serving container, replaced start-first and stopped (no drain: mrsk's Traefik never
//   routes it) once mrsk's container is routed; one holding the target name is renamed aside.
//   Kamal's `traefik` is taken over stop-first like a changed Traefik (a short outage the plan names).
// - A new version is start-first (`+/-`): pull → run → wait healthy → wait routed by Traefik →
//   drain the old → stop the old. A changed spec at the *same* version is start-first too: the
//   run renames the old container aside (`<name>_replaced_<id>`) before taking its name, and
//   the renamed one is removed after it stopped (it cannot be rolled back to by version).
// - Traefik is replaced stop-first when missing, stopped or different; a Traefik the config no
//   longer needs is left alone (other services on the host may route through it).
// - Stopped containers are kept for rollback: the newest `retain_containers` per role per host;
//   older ones are removed, then their images when no container uses them any more. A container
//   that never became healthy (never-healthy.ts) takes no slot: the newest is kept, older go.
// - Roles run one after another on a host, primary first (the next starts once the previous one's
//   new container is healthy), or all at once with boot.parallel_roles; hosts roll in boot.limit
//   batches.
//
// HostPlanner plans one host: the app's roles, retention and clean-up here; Traefik's steps come
// from diff-traefik.ts, the accessories' from diff-accessories.ts, and `remove` and unused images
// from diff-remove.ts, which add to the host's one step list through the HostPlanKit view it hands
// them (host-plan-kit.ts).
import { ROLE_LABEL, SPEC_HASH_LABEL, VERSION_LABEL } from '../model/labels.ts';
import { canonicalJson } from '../desired/canonical.ts';
import { cordDirOfContainer, TRAEFIK_CONTAINER } from '../model/names.ts';
import { hostPaths } from '../desired/paths.ts';
import type { ContainerSpec, Desired, DesiredHost, TraefikSpec } from '../desired/types.ts';
import type { ObservedContainer, ReachableHost, Snapshot } from '../probe/types.ts';
import { containerSpecCause, stateCause } from './causes.ts';
import { fingerprintSnapshot } from './fingerprint.ts';
import { isNeverHealthy } from './never-healthy.ts';
import { isKamalContainerOf, kamalRoleOf } from '../probe/kamal.ts';
import { inService, isAccessory, isManagedTraefik, isMrskMade, isOwnedBy, newestFirst, traefikServiceOf } from '../probe/observed.ts';
import { modeOf, type PlanMode, type PlanRequest } from './request.ts';
import { foreignRouteConflict, routerNamesOf } from './route-claims.ts';
import { recordHostDesired } from '../desired/from-release.ts';
import { AccessoryPlanner } from './diff-accessories.ts';
import { TraefikPlanner } from './diff-traefik.ts';
import { planAppRemoval, planUnusedImages } from './diff-remove.ts';
import type { HostPlanKit, NewStep } from './host-plan-kit.ts';
import { ACTIONS_BY_SYMBOL, type BlockedHost, type ChangeSymbol, type PendingChange, type Plan, type PlanStep, type StepAction, type ValueChange } from './types.ts';

/** What diff() is asked for (src/plan/request.ts): mode, target, hosts and roles, replace, skip. */
export type DiffOptions = PlanRequest;

const DEFAULT_TRAEFIK_API_PORT = 8080;

/** A serving container the new one takes the name of is renamed aside first: `<name>_replaced_<id>`. */
const renamedAside = (container: ObservedContainer): { container: ObservedContainer; renameTo: string } => ({
  container,
  renameTo: `${container.name}_replaced_${container.id.slice(0, 12)}`,
});


/** Plans one reachable host; returns its steps, or why it cannot be planned. */
class HostPlanner {
  readonly steps: PlanStep[] = [];
  /** Differences this plan leaves alone on purpose (a changed accessory, kept accessory data). */
  readonly pending: PendingChange[] = [];
  readonly #desired: Desired;
  readonly #request: PlanRequest;
  readonly #mode: PlanMode;
  /** Set while planning when the host cannot be planned after all (restore-release: an image is gone). */
  #blocked: string | undefined;
  readonly #host: ReachableHost;
  readonly #batch: number;
  readonly #wanted?: DesiredHost;
  readonly #roleFilter?: ReadonlySet<string>;
  readonly #cleanRemovedRoles: boolean;
  readonly #owned: ObservedContainer[];
  /** This app's accessory containers on the host (mrsk.accessory): only the accessory methods plan them. */
  readonly #accessories: ObservedContainer[];
  /** Kamal-made containers of this service on the host (src/probe/kamal.ts): taken over, never retained or pruned. */
  readonly #kamal: ObservedContainer[];
  /** Containers this plan stops / removes / starts, by id, with the step and address that do it. */
  readonly #stopped = new Map<string, { step: string; address: string; symbol: ChangeSymbol }>();
  readonly #removed = new Map<string, string>();
  readonly #started = new Set<string>();
  /** Running containers a same-version replace renames aside (their old name is the new container's). */
  readonly #displaced = new Set<string>();
  /** One pull per image per host, shared by every role that runs it. */
  readonly #pulls = new Map<string, string>();
  /** The step writing the app's Traefik file, which proxied containers wait for (their labels may name its transports and certificates). */
  #traefikFileWrite: string | undefined;
  /** Plan the accessories (diff-accessories.ts) and Traefik (diff-traefik.ts), on this planner's steps. */
  readonly #accessoryPlanner: AccessoryPlanner;
  readonly #traefikPlanner: TraefikPlanner;
  /** The view of this host's plan the parts in the other diff-*.ts files work through. */
  readonly #kit: HostPlanKit;

  constructor(
    desired: Desired,
    host: ReachableHost,
    batch: number,
    wanted: DesiredHost | undefined,
    roleFilter: ReadonlySet<string> | undefined,
    cleanRemovedRoles: boolean,
    request: PlanRequest = {},
  ) {
    this.#request = request;
    this.#mode = modeOf(request);
    this.#desired = desired;
    this.#host = host;
    this.#batch = batch;
    this.#wanted = wanted;
    this.#roleFilter = roleFilter;
    this.#cleanRemovedRoles = cleanRemovedRoles;
    // A container docker is already removing is gone for planning purposes.
    // Accessories are owned too, but no app rule may touch them (diff-accessories.ts does).
    this.#owned = host.containers.filter((c) => c.state !== 'removing' && isOwnedBy(c, desired.service, desired.destination) && !isAccessory(c));
    this.#accessories = host.containers.filter((c) => c.state !== 'removing' && isOwnedBy(c, desired.service, desired.destination) && isAccessory(c));
    this.#kamal = host.containers.filter((c) => c.state !== 'removing' && isKamalContainerOf(c, desired.service, desired.destination));
    this.#kit = {
      host,
      desired,
      wanted,
      request,
      roleFilter,
      steps: this.steps,
      pending: this.pending,
      owned: this.#owned,
      accessories: this.#accessories,
      pulls: this.#pulls,
      started: this.#started,
      removed: this.#removed,
      specs: () => this.#specs(),
      id: (...parts) => this.#id(...parts),
      address: (...parts) => this.#address(...parts),
      add: (step) => this.#add(step),
      stopAndRemove: (...args) => this.#stopAndRemove(...args),
      planImagesOf: (containers, after) => this.#planImagesOf(containers, after),
      stopTimeoutOf: (container) => this.#stopTimeoutOf(container),
      removeAction: (container, name) => this.#removeAction(container, name),
    };
    this.#accessoryPlanner = new AccessoryPlanner(this.#kit);
    this.#traefikPlanner = new TraefikPlanner(this.#kit);
  }

  #id(...parts: string[]): string {
    return [this.#host.host, ...parts].join(':');
  }

  #address(...parts: string[]): string {
    return [this.#host.host, ...parts].join('/');
  }

  #add(step: NewStep): string {
    const dependsOn = step.dependsOn.length < 2 ? step.dependsOn : [...new Set(step.dependsOn)];
    // Built field by field (not spread): one object shape for every step keeps large plans fast.
    const full: PlanStep = {
      id: step.id,
      host: this.#host.host,
      address: step.address,
      symbol: step.symbol,
      actions: ACTIONS_BY_SYMBOL[step.symbol],
      cause: step.cause,
      dependsOn,
      precondition: step.precondition,
      batch: this.#batch,
      action: step.action,
      ...(step.changes ? { changes: step.changes } : {}),
    };
    this.steps.push(full);
    return step.id;
  }

  /** Returns a reason when the host cannot be planned safely. */
  blocker(specs: readonly ContainerSpec[], traefik: TraefikSpec | undefined): string | undefined {
    const foreign = this.#host.containers.filter(
      (c) => !isOwnedBy(c, this.#desired.service, this.#desired.destination) && !this.#kamal.includes(c),
    );
    if (traefik) {
      const squatter = foreign.find((c) => c.name === TRAEFIK_CONTAINER && !isManagedTraefik(c));
      // Kamal's Traefik on a host where Kamal runs this service is taken over (#planTraefik).
      if (squatter && !this.#traefikPlanner.kamal()) return `a container named ${TRAEFIK_CONTAINER} exists that mrsk does not manage (no mrsk.traefik=true label); remove or rename it`;
    }
    for (const spec of specs) {
      const squatter = foreign.find((c) => c.name === spec.name);
      if (squatter) return `a container named ${spec.name} exists that does not belong to this service and destination; remove or rename it`;
    }
    // Another app on this host routing a host and path this app wants (route-claims.ts).
    const rules = Object.fromEntries(specs.filter((spec) => spec.proxied).flatMap((spec) => routerNamesOf(spec.labels).map((router) => [router, spec.labels[`traefik.http.routers.${router}.rule`]!])));
    const ownRouters = new Set([...Object.keys(rules), ...this.#host.containers.filter((c) => !foreign.includes(c)).flatMap((c) => routerNamesOf(c.labels))]);
    return foreignRouteConflict(this.#desired.service, rules, ownRouters, this.#host.traefik?.routers, this.#host.otherApps);
  }

  /** The roles this plan is about (all of the host's, or those --roles names), primary first. */
  #specs(): readonly ContainerSpec[] {
    return (this.#wanted?.containers ?? []).filter((spec) => !this.#roleFilter || this.#roleFilter.has(spec.role));
  }

  /** One method per request: the mode and target say which (src/plan/request.ts). */
  plan(): { blocked?: string } {
    const mode = this.#mode;
    const onTraefik = this.#request.target === 'traefik';
    const onAccessory = this.#request.target === 'accessory';
    let result: { blocked?: string };
    if (mode === 'prune') result = this.#planPrune();
    else if (mode === 'upload') result = onAccessory ? this.#accessoryPlanner.planUpload() : {};
    else if (mode === 'destroy') result = onTraefik ? this.#traefikPlanner.planRemoval() : onAccessory ? this.#accessoryPlanner.planDestroy() : planAppRemoval(this.#kit, this.#accessoryPlanner, this.#traefikPlanner);
    else if (mode === 'start' || mode === 'stop' || mode === 'restart') {
      result = onTraefik ? this.#traefikPlanner.planRunState(mode) : onAccessory ? this.#accessoryPlanner.planRunState(mode) : this.#planAppRunState(mode);
    } else if (onTraefik) result = this.#planTraefikOnly();
    else if (onAccessory) result = this.#accessoryPlanner.planConverge();
    else result = this.#planConverge();
    return this.#blocked ? { blocked: this.#blocked } : result;
  }

  /** converge / restore-release: everything the desired state asks for. */
  #planConverge(): { blocked?: string } {
    const wanted = this.#wanted;
    const specs = this.#specs();
    const traefik = this.#request.skip?.includes('traefik') ? undefined : this.#traefikPlanner.wanted();
    // apply and setup boot missing accessories (deploy, redeploy and rollback never touch them)
    const accessories = this.#mode === 'converge' && !this.#request.skip?.includes('accessories') ? this.#accessoryPlanner.specs() : [];
    const blocked = this.blocker(specs, traefik) ?? this.#accessoryPlanner.blocker(accessories);
    if (blocked) return { blocked };

    const network = wanted && specs.length > 0 ? this.#planNetwork(wanted.network) : undefined;
    // before the app's roles: the app may need its database when it starts
    const accessoriesReady = accessories.length > 0 ? this.#accessoryPlanner.planAll() : undefined;
    const traefikReady = traefik ? this.#traefikPlanner.plan(traefik, network) : undefined;
    // The per-app file is the app's, not Traefik's: a redeploy (skip: traefik) still writes it.
    this.#traefikFileWrite = wanted ? this.#traefikPlanner.planFileWrite(wanted, specs, network) : undefined;

    // The next role starts once the previous one's new container is healthy (the primary role
    // first): Traefik's pick-up and the old container's drain overlap the next role's start.
    // With boot.parallel_roles every role starts at once (a failed one stops no other).
    let previousRoleEnd: string | undefined;
    let previousRoleHealthy: string | undefined = accessoriesReady;
    for (const spec of specs) {
      const { end, healthy } = this.#planRole(spec, network, traefikReady, this.#desired.parallelRoles ? accessoriesReady : previousRoleHealthy);
      previousRoleEnd = end ?? previousRoleEnd;
      previousRoleHealthy = healthy ?? end ?? previousRoleHealthy;
    }

    const configuredRoles = new Set((wanted?.containers ?? []).map((spec) => spec.role));
    const removedRoles = new Set<string>();
    if (this.#cleanRemovedRoles) {
      for (const container of this.#owned) {
        const role = container.labels[ROLE_LABEL] ?? '';
        if (!configuredRoles.has(role)) removedRoles.add(role);
      }
      previousRoleEnd = this.#planRemovedRoles(removedRoles, previousRoleEnd);
    }

    const retainedRoles = [...specs.map((spec) => spec.role), ...removedRoles];
    this.#planRetention(retainedRoles, specs, previousRoleEnd);
    this.#planImageRemoval(specs);
    this.#traefikPlanner.planFileRemoval(specs);
    if (wanted) this.#planReleaseRecord(wanted, specs);
    return {};
  }

  /**
   * traefik boot / reboot: only the network and Traefik; `replace` forces a -/+ of Traefik. Once
   * Traefik (re)starts, the plan waits until it answers and routes every serving container of the
   * app again, so a rolling reboot never takes the next host down while this one does not route.
   */
  #planTraefikOnly(): { blocked?: string } {
    const traefik = this.#traefikPlanner.wanted();
    if (!traefik) return {};
    const blocked = this.blocker([], traefik);
    if (blocked) return { blocked };
    const network = this.#planNetwork(this.#wanted!.network);
    const ran = this.#traefikPlanner.plan(traefik, network);
    if (ran) this.#traefikPlanner.planWaits(traefik, ran);
    return {};
  }

  /** `-` stop (when it runs) then remove (`-/+` when a replacement follows); returns the remove step's id. */
  #stopAndRemove(container: ObservedContainer, address: string, cause: string, timeout: number, action: StepAction, after: readonly string[] = [], symbol: ChangeSymbol = '-'): string {
    const precondition = { containerId: container.id };
    const stop = inService(container)
      ? [
          this.#add({
            id: this.#id('container', container.name, 'stop'),
            address,
            symbol,
            cause,
            // a copy: callers keep pushing to the list they passed (remove: Traefik after the app),
            // and #add keeps a one-item list as it is, which made a step depend on its own remove
            dependsOn: [...after],
            precondition,
            action: { kind: 'container-stop', containerId: container.id, name: container.name, timeout },
          }),
        ]
      : [...after];
    const remove = this.#add({ id: this.#id('container', container.name, 'remove'), address, symbol, cause, dependsOn: stop, precondition, action });
    this.#removed.set(container.id, remove);
    return remove;
  }

  /** Removes the images these containers ran, when no other container on the host uses them. */
  #planImagesOf(containers: readonly ObservedContainer[], after: readonly string[]): void {
    const kept = this.#host.containers.filter((c) => !this.#removed.has(c.id));
    for (const image of [...new Set(containers.map((c) => c.image))].sort()) {
      if (kept.some((c) => c.image === image)) continue;
      if (!this.#host.images.some((observed) => observed.tags.includes(image) || observed.id === image)) continue;
      this.#add({
        id: this.#id('image', image, 'remove'),
        address: this.#address('image', image),
        symbol: '-',
        cause: 'no container uses it any more',
        dependsOn: [...after],
        precondition: {},
        action: { kind: 'image-remove', image },
      });
    }
  }

  /**
   * prune: stopped containers beyond retain_containers (rollback targets are kept, the running
   * ones are never touched), and images of the app that no container uses.
   */
  #planPrune(): { blocked?: string } {
    const what = this.#request.prune ?? { containers: true, images: true };
    const specs = this.#specs();
    if (what.containers) {
      const roles = new Set(this.#owned.map((c) => c.labels[ROLE_LABEL] ?? ''));
      this.#planRetention([...roles].filter((role) => !this.#roleFilter || this.#roleFilter.has(role)).sort(), specs, undefined);
      this.#planImageRemoval(specs);
    }
    if (what.images) planUnusedImages(this.#kit, specs);
    return {};
  }

  /**
   * app start / stop: the containers of the deployed version (the desired one), nothing else.
   * start: a stopped one is started and waited for (healthy, routed); a missing one blocks the
   * host (deploy makes it). stop: every serving container of the roles is drained and stopped.
   */
  #planAppRunState(mode: 'start' | 'stop' | 'restart'): { blocked?: string } {
    const missing: string[] = [];
    for (const spec of this.#specs()) {
      const address = this.#address('container', spec.name);
      let after: readonly string[] = [];
      if (mode !== 'start') {
        const serving = this.#owned.filter((c) => (c.labels[ROLE_LABEL] ?? '') === spec.role && inService(c));
        after = serving.map((c) => this.#drainAndStop(c, c.name, this.#address('container', c.name), '~', `${mode} requested`, []));
      }
      if (mode === 'stop') continue;
      const target = this.#owned.find((c) => c.name === spec.name);
      if (!target) {
        missing.push(`${spec.role} (${spec.name})`);
        continue;
      }
      if (mode === 'start' && inService(target) && target.health !== 'unhealthy') continue;
      const start = this.#add({
        id: this.#id(spec.role, 'start'),
        address,
        symbol: '~',
        cause: `${mode} requested`,
        dependsOn: [...after],
        precondition: { containerId: target.id },
        action: { kind: 'container-start', containerId: target.id, name: target.name, ...(spec.cordDir ? { cordDir: spec.cordDir } : {}) },
      });
      this.#planWaits(spec, address, '~', `${mode} requested`, start, undefined, mode === 'restart' || !inService(target) ? 'stopped' : 'running');
    }
    if (missing.length > 0) return { blocked: `no container of version ${this.#desired.version} for ${missing.join(', ')} (mrsk deploy makes it)` };
    return {};
  }

  #planNetwork(network: string): string | undefined {
    if (this.#host.networks.includes(network)) return undefined;
    return this.#add({
      id: this.#id('network'),
      address: this.#address('network', network),
      symbol: '+',
      cause: `network ${network} missing`,
      dependsOn: [],
      precondition: {},
      action: { kind: 'network-create', network },
    });
  }

  /** A stopped container that only holds the name the new one needs: removed first; returns the step id. */
  #removeNameHolder(role: string, address: string, symbol: ChangeSymbol, cause: string, before: readonly string[], holder: ObservedContainer): string {
    const remove = this.#add({
      id: this.#id(role, 'old', 'remove'),
      address,
      symbol,
      cause,
      dependsOn: [...before],
      precondition: { containerId: holder.id },
      action: this.#removeAction(holder),
    });
    this.#removed.set(holder.id, remove);
    return remove;
  }

  /** Seconds docker stop waits for a container of this role: its stop_timeout, else drain_timeout. */
  #stopTimeoutOf(container: ObservedContainer): number {
    const role = container.labels[ROLE_LABEL] ?? (this.#kamal.includes(container) ? kamalRoleOf(container) : undefined);
    return this.#wanted?.containers.find((spec) => spec.role === role)?.stopTimeout ?? this.#desired.drainTimeout;
  }

  /** Drains (when Traefik routes to it) and stops a container; `name` is what it is called by then. */
  #drainAndStop(
    container: ObservedContainer,
    name: string,
    address: string,
    symbol: ChangeSymbol,
    cause: string,
    after: readonly string[],
  ): string {
    const precondition = { containerId: container.id };
    let previous = after;
    // A Kamal-made container has no cord and mrsk's Traefik never routes it: it is only stopped.
    const service = this.#kamal.includes(container) ? undefined : this.#traefikServiceOf(container);
    if (service) {
      previous = [
        this.#add({
          id: this.#id('container', name, 'drain'),
          address,
          symbol,
          cause,
          dependsOn: previous,
          precondition,
          action: {
            kind: 'container-drain',
            containerId: container.id,
            name,
            service,
            cordDir: this.#cordDirOf(container),
            apiPort: this.#wanted?.traefik?.apiPort ?? DEFAULT_TRAEFIK_API_PORT,
            timeout: this.#desired.drainTimeout,
          },
        }),
      ];
    }
    const stop = this.#add({
      id: this.#id('container', name, 'stop'),
      address,
      symbol,
      cause,
      dependsOn: previous,
      precondition,
      action: { kind: 'container-stop', containerId: container.id, name, timeout: this.#stopTimeoutOf(container) },
    });
    this.#stopped.set(container.id, { step: stop, address, symbol });
    return stop;
  }

  #cordDirOf(container: ObservedContainer): string {
    return cordDirOfContainer(this.#desired.service, this.#desired.destination, container.name, container.labels);
  }

  /** Removing a container also removes its cord folder (proxied containers only have one). */
  #removeAction(container: ObservedContainer, name = container.name): StepAction {
    // A container replaced by one with the same spec (drift --fix of a hand edit) shares its drain
    // folder with its replacement, which keeps it: removing it would make the new one unhealthy.
    const cord = this.#cordDirOf(container);
    const proxied = this.#traefikServiceOf(container) !== undefined && !(this.#wanted?.containers.some((spec) => spec.cordDir === cord) ?? false);
    const assetsDir = this.#prunedAssetsDir(container);
    return {
      kind: 'container-remove',
      containerId: container.id,
      name,
      ...(proxied ? { cordDir: cord } : {}),
      ...(assetsDir ? { assetsDir } : {}),
    };
  }

  /** asset_path: the version's asset folder goes with its container, unless the desired version is that version. */
  #prunedAssetsDir(container: ObservedContainer): string | undefined {
    const role = container.labels[ROLE_LABEL];
    const version = container.labels[VERSION_LABEL];
    const wanted = this.#wanted?.containers.find((spec) => spec.role === role);
    if (!role || !version || !wanted?.assets || version === wanted.version) return undefined;
    return hostPaths(this.#desired.service, this.#desired.destination).assetsDir(role, version);
  }

  /**
   * asset_path: fills the new version's asset folder before its container starts, merged both
   * ways with the folders of the versions serving now (Kamal's asset bridging); returns the step id.
   */
  #planAssets(spec: ContainerSpec, address: string, symbol: ChangeSymbol, cause: string, dependsOn: readonly string[], serving: readonly ObservedContainer[]): string | undefined {
    if (!spec.assets) return undefined;
    const paths = hostPaths(this.#desired.service, this.#desired.destination);
    const previousDirs = [...new Set(serving.map((c) => paths.assetsDir(spec.role, c.labels[VERSION_LABEL] ?? '')))]
      .filter((dir) => dir !== spec.assets!.hostDir && !dir.endsWith('/'))
      .sort();
    return this.#add({
      id: this.#id(spec.role, 'assets'),
      address,
      symbol,
      cause,
      dependsOn,
      precondition: {},
      action: { kind: 'assets-prepare', name: spec.name, image: spec.image, assetPath: spec.assets.path, hostDir: spec.assets.hostDir, previousDirs },
    });
  }

  /** The Traefik service a running container is routed by, read from its own labels. */
  #traefikServiceOf(container: ObservedContainer): string | undefined {
    return traefikServiceOf(container.labels);
  }

  /**
   * Plans one role on this host; returns the id of its last step and of its new container's health
   * wait (the step after which the next role on the host may start), each if any.
   */
  #planRole(spec: ContainerSpec, network: string | undefined, traefikReady: string | undefined, gate: string | undefined): { readonly end: string | undefined; readonly healthy: string | undefined } {
    const role = spec.role;
    const roleContainers = this.#owned.filter((c) => c.labels[ROLE_LABEL] === role);
    const target = roleContainers.find((c) => c.name === spec.name);
    const others = roleContainers.filter((c) => c !== target && inService(c));
    // Kamal-made containers of this role: the running ones serve until mrsk's container is routed.
    const kamalOfRole = this.#kamal.filter((c) => kamalRoleOf(c) === role);
    const kamalHolder = kamalOfRole.find((c) => c.name === spec.name);
    const kamalRunning = kamalOfRole.filter((c) => c !== kamalHolder && inService(c));
    const takeoverCause = (containers: readonly ObservedContainer[]): string =>
      `takeover of Kamal container${containers.length === 1 ? '' : 's'} ${containers.map((c) => c.name).join(', ')}`;
    const chain = gate ? [gate] : []; // the previous role healthy (or the accessories ready)
    const address = this.#address('container', spec.name);
    const firstStep = this.steps.length;
    // replace (Terraform's -replace): a container edited by hand keeps its hash label but not its spec
    const forced = this.#request.replace?.includes(address) ?? false;
    const matches = target !== undefined && target.labels[SPEC_HASH_LABEL] === spec.specHash && !forced;
    // A proxied container starts once a Traefik this plan (re)starts runs: Traefik lists the
    // containers, then subscribes to docker events, so a health change in between is lost and
    // the new container would never be routed.
    const watchedBy = spec.proxied ? [...(traefikReady ? [traefikReady] : []), ...(this.#traefikFileWrite ? [this.#traefikFileWrite] : [])] : [];

    // the new container's health wait (the next role's gate) and the step after which it serves
    let healthy: string | undefined;
    let ready: string | undefined;
    let symbol: ChangeSymbol = '+';
    let displaced: { container: ObservedContainer; renameTo: string } | undefined;
    // Running but unhealthy most often means an interrupted drain removed its cord: start
    // restores the cord (starting a running container is a no-op) and the waits verify it.
    const unhealthy = target?.state === 'running' && target.health === 'unhealthy';
    // Started by an interrupted run and not healthy yet: the other versions leave only once it serves.
    const starting = target?.state === 'running' && target.health === 'starting' && (others.length > 0 || kamalRunning.length > 0);
    if (target && matches && inService(target) && !unhealthy && !starting) {
      // already converged for this role
    } else if (target && matches && starting) {
      symbol = '~';
      const cause = 'container still starting (an interrupted run started it): the other versions leave once it serves';
      ({ healthy, ready } = this.#planWaits(spec, address, symbol, cause, [...chain, ...(network ? [network] : []), ...watchedBy], traefikReady, 'running'));
    } else if (target && matches) {
      symbol = '~';
      const cause = unhealthy ? 'container unhealthy' : stateCause(target);
      // A retained version started again (rollback) serves beside the current one: bridge their assets.
      const assets = target.state === 'running' ? undefined : this.#planAssets(spec, address, symbol, cause, chain, others);
      const start = this.#add({
        id: this.#id(role, 'start'),
        address,
        symbol,
        cause,
        dependsOn: [...chain, ...(assets ? [assets] : []), ...(network ? [network] : []), ...watchedBy],
        precondition: { containerId: target.id },
        action: { kind: 'container-start', containerId: target.id, name: target.name, ...(spec.cordDir ? { cordDir: spec.cordDir } : {}) },
      });
      this.#started.add(target.id);
      ({ healthy, ready } = this.#planWaits(spec, address, symbol, cause, start, traefikReady, target.state === 'running' ? 'running' : 'stopped'));
    } else {
      let cause: string;
      let changes: readonly ValueChange[] = [];
      let before: readonly string[] = chain;
      const versions = [...new Set(others.map((c) => c.labels[VERSION_LABEL] ?? '?'))].join(', ');
      if (target) {
        const differs = containerSpecCause(target, spec.labels, spec.specHash);
        changes = differs.changes;
        if (inService(target)) {
          // Same name, other spec, still serving: rename it aside so the new one starts beside it
          // (start-first, like a new version); it is drained and stopped once the new one serves.
          symbol = '+/-';
          cause = forced && target.labels[SPEC_HASH_LABEL] === spec.specHash ? 'replace requested' : differs.cause;
          displaced = renamedAside(target);
        } else {
          // A stopped leftover (an earlier failed attempt, a hand edit) only holds the name: remove it first.
          if (others.length > 0) {
            symbol = '+/-';
            cause = `new version ${versions} → ${spec.version}; the stopped ${target.name} differs (${differs.cause})`;
          } else {
            symbol = '-/+';
            cause = `${stateCause(target)}, ${differs.cause}`;
          }
          before = [this.#removeNameHolder(role, address, symbol, cause, before, target)];
        }
      } else if (kamalHolder && inService(kamalHolder)) {
        // Kamal named its container as mrsk names this one (same version): rename it aside, as a same-version replace does.
        symbol = '+/-';
        cause = takeoverCause([kamalHolder, ...kamalRunning]);
        displaced = renamedAside(kamalHolder);
      } else if (kamalHolder) {
        // A stopped Kamal container only holds the name: remove it first.
        symbol = others.length > 0 || kamalRunning.length > 0 ? '+/-' : '-/+';
        cause = `${takeoverCause([kamalHolder, ...kamalRunning])} (${kamalHolder.name} is stopped and holds the name)`;
        before = [this.#removeNameHolder(role, address, symbol, cause, before, kamalHolder)];
      } else if (others.length > 0) {
        symbol = '+/-';
        cause = `new version ${versions} → ${spec.version}`;
      } else if (kamalRunning.length > 0) {
        symbol = '+/-';
        cause = takeoverCause(kamalRunning);
      } else {
        cause = roleContainers.length > 0 ? `no running container of role ${role}` : `role ${role} not deployed on this host`;
      }
      const imagePresent = this.#host.images.some((image) => image.tags.includes(spec.image));
      let pull = this.#pulls.get(spec.image);
      if (!imagePresent && this.#mode === 'restore-release') {
        // a rollback starts what is retained; pulling an image back is a deploy's job
        this.#blocked ??= `the image ${spec.image} of this release is no longer on the host (a rollback does not pull; mrsk deploy --version ${spec.version} brings it back)`;
      } else if (!imagePresent && !pull) {
        pull = this.#add({
          id: this.#id(role, 'pull'),
          address,
          symbol,
          cause,
          dependsOn: [],
          precondition: {},
          action: { kind: 'image-pull', image: spec.image },
        });
        this.#pulls.set(spec.image, pull);
      }
      const assets = this.#planAssets(spec, address, symbol, cause, [...before, ...(pull ? [pull] : [])], others);
      const run = this.#add({
        id: this.#id(role, 'run'),
        address,
        symbol,
        cause,
        dependsOn: [...before, ...(pull ? [pull] : []), ...(assets ? [assets] : []), ...(network ? [network] : []), ...watchedBy],
        // A displacing run expects the old container to still hold the name; any other expects it free.
        precondition: displaced ? { containerId: displaced.container.id } : { absentName: spec.name },
        action: displaced
          ? { kind: 'container-run', spec, replaces: { containerId: displaced.container.id, renameTo: displaced.renameTo } }
          : { kind: 'container-run', spec },
      });
      if (displaced) this.#displaced.add(displaced.container.id);
      ({ healthy, ready } = this.#planWaits(spec, address, symbol, cause, run, traefikReady));
      if (changes.length > 0) {
        // Changes ride on the resource's first step, where renderers look for them.
        const index = this.steps.findIndex((step, i) => i >= firstStep && step.address === address);
        const first = this.steps[index]!;
        this.steps[index] = { ...first, changes };
      }
    }

    // Running containers of other versions (and a displaced one) leave service once the new one serves.
    const leaving = [
      ...(displaced ? [{ container: displaced.container, name: displaced.renameTo }] : []),
      ...others.map((c) => ({ container: c, name: c.name })),
      ...kamalRunning.map((c) => ({ container: c, name: c.name })),
    ];
    for (const { container: other, name } of leaving) {
      const joinsReplace = symbol === '+/-' && ready !== undefined;
      const otherAddress = joinsReplace ? address : this.#address('container', name);
      const otherSymbol: ChangeSymbol = joinsReplace ? '+/-' : '-';
      const otherCause = joinsReplace
        ? this.steps[this.steps.length - 1]!.cause
        : this.#kamal.includes(other)
          ? takeoverCause([other])
          : `another running container of role ${role} (version ${other.labels[VERSION_LABEL] ?? '?'})`;
      // With nothing new to wait for, a drain still needs a Traefik this plan (re)starts: it is
      // Traefik that must be seen dropping the old container (a dead one fails the drain).
      const stop = this.#drainAndStop(other, name, otherAddress, otherSymbol, otherCause, ready ? [ready] : [...chain, ...watchedBy]);
      if (other === displaced?.container) {
        // No use keeping it: its version's name now belongs to the new container, and a retained
        // slot spent on it would push a real rollback version out.
        const remove = this.#add({
          id: this.#id('container', name, 'remove'),
          address: otherAddress,
          symbol: otherSymbol,
          cause: otherCause,
          dependsOn: [stop],
          precondition: { containerId: other.id },
          action: this.#removeAction(other, name),
        });
        this.#removed.set(other.id, remove);
      }
    }
    // The next role waits for this one's proof that the new version works (healthy), not for
    // Traefik to route it: that wait and the drain overlap the next role's start.
    return { end: this.steps.length > firstStep ? this.steps[this.steps.length - 1]!.id : undefined, healthy };
  }

  /** wait healthy, then (proxied) wait until Traefik routes to it; returns the health wait and the last step. */
  #planWaits(
    spec: ContainerSpec,
    address: string,
    symbol: ChangeSymbol,
    cause: string,
    after: string | readonly string[],
    traefikReady: string | undefined,
    existing?: 'stopped' | 'running',
  ): { readonly healthy: string; readonly ready: string } {
    const wait = this.#add({
      id: this.#id(spec.role, 'wait'),
      address,
      symbol,
      cause,
      dependsOn: typeof after === 'string' ? [after] : [...after],
      precondition: {},
      action: {
        kind: 'container-wait-healthy',
        name: spec.name,
        timeout: this.#desired.deployTimeout,
        readinessDelay: this.#desired.readinessDelay,
        ...(existing ? { existing } : {}),
      },
    });
    if (!spec.proxied || !spec.traefikService) return { healthy: wait, ready: wait };
    const routed = this.#add({
      id: this.#id(spec.role, 'traefik-wait'),
      address,
      symbol,
      cause,
      dependsOn: [wait, ...(traefikReady ? [traefikReady] : [])],
      precondition: {},
      action: {
        kind: 'traefik-wait-up',
        name: spec.name,
        service: spec.traefikService,
        apiPort: this.#wanted?.traefik?.apiPort ?? DEFAULT_TRAEFIK_API_PORT,
        timeout: this.#desired.deployTimeout,
      },
    });
    return { healthy: wait, ready: routed };
  }

  #planRemovedRoles(removedRoles: ReadonlySet<string>, previousRoleEnd: string | undefined): string | undefined {
    let last = previousRoleEnd;
    for (const container of this.#owned) {
      const role = container.labels[ROLE_LABEL] ?? '';
      if (!removedRoles.has(role) || !inService(container)) continue;
      const cause = this.#wanted ? `role ${role || '(none)'} is not on this host in the config` : 'host is not in the config';
      last = this.#drainAndStop(container, container.name, this.#address('container', container.name), '-', cause, previousRoleEnd ? [previousRoleEnd] : []);
    }
    return last;
  }

  /** Keeps the newest `retain` stopped containers per role (counting those this plan stops). */
  #planRetention(roles: readonly string[], specs: readonly ContainerSpec[], after: string | undefined): void {
    const retain = this.#wanted?.retainContainers ?? 0;
    const desiredNames = new Set(specs.map((spec) => spec.name));
    for (const role of new Set(roles)) {
      const stoppedAfterPlan = this.#owned
        .filter((c) => (c.labels[ROLE_LABEL] ?? '') === role && (!desiredNames.has(c.name) || this.#displaced.has(c.id)))
        .filter((c) => !this.#removed.has(c.id) && !this.#started.has(c.id))
        .filter((c) => !inService(c) || this.#stopped.has(c.id))
        .sort(newestFirst);
      // A version that never became healthy is no rollback target: it takes no retained slot.
      // The newest one is kept for inspection (none with retain_containers 0), older ones go.
      // A container with this app's labels that mrsk did not make (not named for its role and
      // version: made by hand, or renamed aside) is no rollback target either: it goes once stopped.
      const made = (c: ObservedContainer): boolean => isMrskMade(c, this.#desired.service, this.#desired.destination);
      const retained = stoppedAfterPlan.filter((c) => !isNeverHealthy(c) && made(c));
      const strays = stoppedAfterPlan.filter((c) => !isNeverHealthy(c) && !made(c));
      const neverHealthy = stoppedAfterPlan.filter((c) => isNeverHealthy(c));
      const plural = retain === 1 ? '' : 's';
      const removals = [
        ...retained.slice(retain).map((c) => ({ container: c, cause: `older than the ${retain} retained stopped container${plural} of role ${role || '(none)'}` })),
        ...strays.map((c) => ({ container: c, cause: `carries this app's labels but was not made by mrsk (no rollback target)` })),
        ...neverHealthy.slice(Math.min(retain, 1)).map((c) => ({
          container: c,
          cause: retain === 0 ? `never became healthy (retain_containers is 0)` : `never became healthy; a newer one of role ${role || '(none)'} is kept for inspection`,
        })),
      ];
      for (const { container, cause } of removals) {
        const stoppedBy = this.#stopped.get(container.id);
        const remove = this.#add({
          id: this.#id('container', container.name, 'remove'),
          address: stoppedBy?.address ?? this.#address('container', container.name),
          symbol: stoppedBy?.symbol ?? '-',
          cause,
          dependsOn: stoppedBy ? [stoppedBy.step] : after ? [after] : [],
          precondition: { containerId: container.id },
          action: this.#removeAction(container),
        });
        this.#removed.set(container.id, remove);
      }
    }
  }

  /** Removes the images of removed containers once nothing on the host (or in the plan) uses them. */
  #planImageRemoval(specs: readonly ContainerSpec[]): void {
    const stillUsed = new Set(specs.map((spec) => spec.image));
    for (const container of this.#host.containers) if (!this.#removed.has(container.id)) stillUsed.add(container.image);
    const removesByImage = new Map<string, string[]>();
    for (const container of this.#host.containers) {
      const remove = this.#removed.get(container.id);
      if (!remove || stillUsed.has(container.image)) continue;
      if (!this.#host.images.some((image) => image.tags.includes(container.image))) continue;
      removesByImage.set(container.image, [...(removesByImage.get(container.image) ?? []), remove]);
    }
    for (const [image, removes] of removesByImage) {
      this.#add({
        id: this.#id('image', image, 'remove'),
        address: this.#address('image', image),
        symbol: '-',
        cause: 'no container uses it any more',
        dependsOn: removes,
        precondition: {},
        action: { kind: 'image-remove', image },
      });
    }
  }

  /** Records the release when anything changed here, or when the ledger disagrees with the config. */
  #planReleaseRecord(wanted: DesiredHost, specs: readonly ContainerSpec[]): void {
    if (specs.length === 0) return;
    const recorded = this.#host.release;
    // the host's own version: a drift fix restores each host's recorded release, whatever the others run
    const version = specs[0]!.version;
    const inScope = new Set(specs.map((spec) => spec.role));
    const specHashes: Record<string, string> = {};
    for (const spec of wanted.containers) {
      const hash = inScope.has(spec.role) ? spec.specHash : recorded?.specHashes[spec.role];
      if (hash) specHashes[spec.role] = hash;
    }
    const traefikInScope = specs.some((spec) => spec.proxied);
    const traefikSpecHash = traefikInScope ? wanted.traefik?.specHash : recorded?.traefikSpecHash;
    const ledgerMatches =
      recorded !== undefined &&
      recorded.version === version &&
      canonicalJson(recorded.specHashes) === canonicalJson(specHashes) &&
      recorded.traefikSpecHash === traefikSpecHash;
    // The ledger records what the config asks for; a drift fix that restores it needs no new record.
    if (ledgerMatches) return;
    // a skipped host that runs only accessories misses no release (it never records one)
    const missedHosts = (this.#request.missedHosts ?? []).filter((m) => this.#desired.hosts[m.host]?.containers.length !== 0);
    const cause = !recorded
      ? `record release ${version}`
      : recorded.version !== version
        ? `record release ${recorded.version} → ${version}`
        : `record release ${version} (spec hashes changed)`;
    this.#add({
      id: this.#id('release'),
      address: this.#address('release'),
      symbol: recorded ? '~' : '+',
      cause,
      dependsOn: this.steps.map((step) => step.id),
      precondition: {},
      action: {
        kind: 'release-record',
        version,
        specHashes,
        ...(traefikSpecHash ? { traefikSpecHash } : {}),
        ...(missedHosts.length ? { missedHosts } : {}),
        // rollback restores it (src/desired/from-release.ts); out-of-scope roles keep the ledger's
        desired: recordHostDesired(wanted, { roles: inScope, traefik: traefikInScope }, recorded?.desired),
      },
    });
  }
}

/** The request's mode and target, for the plan's headline and JSON; none for a plain converge of the app. */
function intentOf(request: PlanRequest): Plan['intent'] {
  const mode = modeOf(request);
  const target = request.target ?? 'app';
  const replace = (request.replace?.length ?? 0) > 0;
  if (mode === 'converge' && target === 'app' && !replace) return undefined;
  return { mode, target, ...(replace ? { replace: true as const } : {}), ...(request.hostsInSeries ? { hostsInSeries: true as const } : {}) };
}

/**
 * Compares the desired state with a snapshot and returns the plan that converges the hosts.
 * Pure and deterministic. Unreachable or unsafe hosts become `blockedHosts`; the others are planned.
 */
export function diff(desired: Desired, snapshot: Snapshot, options: DiffOptions = {}): Plan {
  const hostFilter = options.hosts ? new Set(options.hosts) : undefined;
  const roleFilter = options.roles ? new Set(options.roles) : undefined;

  const order: { host: string; batch: number }[] = desired.batches.flatMap((hosts, batch) => hosts.map((host) => ({ host, batch })));
  const known = new Set(order.map((entry) => entry.host));
  const removedHosts = Object.keys(snapshot.hosts).filter((host) => !known.has(host)).sort();
  for (const host of removedHosts) order.push({ host, batch: desired.batches.length });

  const steps: PlanStep[] = [];
  const blockedHosts: BlockedHost[] = [];
  const pending: PendingChange[] = [];
  // hostsInSeries: each host that changes is a batch of its own, in rollout order
  let series = 0;
  for (const { host, batch } of order) {
    if (hostFilter && !hostFilter.has(host)) continue;
    const observed = snapshot.hosts[host];
    if (!observed) {
      // a host with only accessories is probed by the commands that act on accessories only
      if (desired.hosts[host]?.containers.length === 0 && desired.hosts[host]?.accessories) continue;
      blockedHosts.push({ host, status: 'error', message: 'the host was not probed' });
      continue;
    }
    if (observed.status !== 'ok') {
      blockedHosts.push({ host, status: observed.status, message: observed.message });
      continue;
    }
    const wanted = desired.hosts[host];
    // Containers of roles dropped from the config are cleaned only when no role the config puts
    // on this host is filtered out (`--roles web` on a web+job host leaves leftovers alone).
    const cleanRemovedRoles = !wanted || !roleFilter || wanted.containers.every((spec) => roleFilter.has(spec.role));
    const planner = new HostPlanner(desired, observed, options.hostsInSeries ? series : batch, wanted, roleFilter, cleanRemovedRoles, options);
    const result = planner.plan();
    if (result.blocked) blockedHosts.push({ host, status: 'error', message: result.blocked });
    else {
      steps.push(...planner.steps);
      pending.push(...planner.pending);
    }
    if (planner.steps.length > 0) series += 1;
  }

  // a plan with a host that does not run Docker names every host's runtime (a mixed fleet reads
  // which is which); an all-Docker plan names none, as before runtimes
  const planned = Object.values(snapshot.hosts).filter((h): h is ReachableHost => h.status === 'ok' && (hostFilter === undefined || hostFilter.has(h.host)));
  const runtimes = planned.some((h) => h.runtime !== 'docker') ? Object.fromEntries(planned.map((h) => [h.host, h.runtime])) : {};
  return {
    formatVersion: '1',
    service: desired.service,
    ...(desired.destination ? { destination: desired.destination } : {}),
    version: desired.version,
    ...(intentOf(options) ? { intent: intentOf(options) } : {}),
    ...(Object.keys(runtimes).length > 0 ? { runtimes } : {}),
    steps,
    blockedHosts,
    ...(pending.length > 0 ? { pending } : {}),
    snapshotFingerprint: fingerprintSnapshot(snapshot),
    batchWait: options.hostsInSeries ? 0 : desired.batchWait,
  };
}
