// What a command asks the planner for. Intent goes *into* diff() as data; nothing edits a plan
// afterwards. Every command that changes a host states its intent here (README's command table
// lists which request each one makes), so each one gets the same plan, preview, preconditions,
// --json and progress:
//
//   apply, deploy, setup        converge
//   redeploy                    converge, skip: ['traefik']
//   rollback, drift --fix       restore-release (the release's desired state; never pulls)
//   prune [containers|images]   prune
//   remove                      destroy, target app (Traefik and the network only when no other app uses them)
//   traefik boot                converge, target traefik
//   traefik reboot              converge, target traefik, replace <host>/traefik, hostsInSeries
//   traefik start|stop|restart  start|stop|restart, target traefik
//   traefik remove              destroy, target traefik
//   app start|stop              start|stop, target app
//   accessory boot|reboot|start|stop|restart|remove NAME|all
//                               converge|start|stop|restart|destroy, target accessory (reboot: replace)
//   accessory upload NAME|all   upload, target accessory
import type { MissedHost } from '../probe/types.ts';

/**
 * - `converge`: make the hosts run the desired state (the default).
 * - `restore-release`: converge to a recorded release's desired state; a host missing that
 *   release's image is blocked instead of pulling it (a rollback only starts what is retained).
 * - `prune`: only remove stopped containers beyond retain_containers and unused images.
 * - `destroy`: take the target off the hosts.
 * - `start` / `stop` / `restart`: change the run state of the target's existing containers.
 * - `upload`: write the target's files to the hosts and nothing else (accessories: their `files`,
 *   as Kamal's `accessory upload`); containers are not touched.
 */
export type PlanMode = 'converge' | 'restore-release' | 'prune' | 'destroy' | 'start' | 'stop' | 'restart' | 'upload';

/** What a mode acts on: the app's roles (default), the host's Traefik, or the app's accessories. */
export type PlanTarget = 'app' | 'traefik' | 'accessory';

/** Resources a converge can leave out. */
export type SkippableResource = 'traefik' | 'accessories';

export interface PlanRequest {
  readonly mode?: PlanMode;
  /**
   * converge: `traefik` plans only the network and Traefik (traefik boot/reboot); `app` (default)
   * plans everything. Other modes: what they act on.
   */
  readonly target?: PlanTarget;
  /** Limits the plan to some hosts and/or roles (`--hosts`, `--roles`); names are exact. */
  readonly hosts?: readonly string[];
  readonly roles?: readonly string[];
  /** Hosts left out on purpose (`--skip-unreachable`): each release recorded by this plan names them. */
  readonly missedHosts?: readonly MissedHost[];
  /** Resources a converge does not touch (redeploy: Traefik is expected to run). */
  readonly skip?: readonly SkippableResource[];
  /**
   * Addresses replaced even when they match the desired state (Terraform's -replace), e.g.
   * `h1/traefik` for traefik reboot.
   */
  readonly replace?: readonly string[];
  /** One host after the other, each waited for before the next starts (rolling traefik reboot). */
  readonly hostsInSeries?: boolean;
  /** prune: what to remove (default both). */
  readonly prune?: { readonly containers: boolean; readonly images: boolean };
  /** target accessory: the accessories meant (by name; default all of the config's). */
  readonly accessories?: readonly string[];
  /** destroy of accessories: also delete their host `directories` and `files` (`accessory remove --data`). */
  readonly removeData?: boolean;
  /** destroy of the app: the registry server to log the hosts out of (when the config logs in). */
  readonly registryLogout?: { readonly server?: string };
}

/** The mode of a request, with its default. */
export const modeOf = (request: PlanRequest): PlanMode => request.mode ?? 'converge';
