// What the parts of one host's plan share (diff.ts plans the app's roles, diff-traefik.ts Traefik,
// diff-accessories.ts the accessories, diff-remove.ts what `remove` takes away): the host as
// probed, what it should run, the request, and the step list with the helpers that add to it.
// diff.ts's HostPlanner owns them and hands this view to the parts.
import type { ContainerSpec, Desired, DesiredHost } from '../desired/types.ts';
import type { ObservedContainer, ReachableHost } from '../probe/types.ts';
import type { PlanRequest } from './request.ts';
import type { ChangeSymbol, PendingChange, PlanStep, StepAction } from './types.ts';

/** A step as a planner writes it; the host, batch and actions are filled in when it is added. */
export type NewStep = Omit<PlanStep, 'host' | 'batch' | 'actions'>;

export interface HostPlanKit {
  readonly host: ReachableHost;
  readonly desired: Desired;
  /** What the host should run (absent: nothing of the app any more). */
  readonly wanted: DesiredHost | undefined;
  readonly request: PlanRequest;
  /** The roles --roles names (absent: every role of the host). */
  readonly roleFilter: ReadonlySet<string> | undefined;
  /** The steps planned so far, in order. */
  readonly steps: readonly PlanStep[];
  /** Differences the plan leaves alone on purpose, with the command that makes them. */
  readonly pending: PendingChange[];
  /** This app's containers on the host (not its accessories), not being removed. */
  readonly owned: readonly ObservedContainer[];
  /** This app's accessory containers on the host (mrsk.accessory), not being removed. */
  readonly accessories: readonly ObservedContainer[];
  /** One pull per image per host, shared by every part that runs it: image → pull step id. */
  readonly pulls: Map<string, string>;
  /** Ids of the containers the plan starts. */
  readonly started: Set<string>;
  /** Containers the plan removes: id → the remove step's id. */
  readonly removed: Map<string, string>;
  /** The roles this plan is about (all of the host's, or those --roles names), primary first. */
  specs(): readonly ContainerSpec[];
  /** A step id on this host: `<host>:<parts…>`. */
  id(...parts: string[]): string;
  /** A resource address on this host: `<host>/<parts…>`. */
  address(...parts: string[]): string;
  /** Adds a step; returns its id. */
  add(step: NewStep): string;
  /** `-` stop (when it runs) then remove; returns the remove step's id. */
  stopAndRemove(container: ObservedContainer, address: string, cause: string, timeout: number, action: StepAction, after?: readonly string[], symbol?: ChangeSymbol): string;
  /** Removes the images these containers ran, when no other container on the host uses them. */
  planImagesOf(containers: readonly ObservedContainer[], after: readonly string[]): void;
  /** Seconds docker stop waits for a container of this role: its stop_timeout, else drain_timeout. */
  stopTimeoutOf(container: ObservedContainer): number;
  /** The action that removes a container, with its cord and pruned asset folders. */
  removeAction(container: ObservedContainer, name?: string): StepAction;
}
