// A plan is data: an ordered list of idempotent steps, each naming its host, the resource it
// changes (address), a Terraform-style symbol, a human cause and the steps it waits for.
// The executor (src/apply) carries no decision logic: it runs these in dependency order and
// re-checks each step's precondition first, refusing a stale step instead of running it.
import type { ContainerSpec, TraefikFileSpec, TraefikSpec } from '../desired/types.ts';
import type { RuntimeName } from '../runtime/runtime.ts';
import type { AccessoryFileSpec, AccessorySpec } from '../desired/accessory.ts';
import type { HostProblem } from '../probe/types.ts';
import type { PlanMode, PlanTarget } from './request.ts';
import type { RecordedHostDesired } from '../desired/from-release.ts';

/** `+` create, `~` update in place, `-` destroy, `+/-` replace start-first, `-/+` replace stop-first. */
export type ChangeSymbol = '+' | '~' | '-' | '+/-' | '-/+';

/** Terraform's action names, for --json consumers. */
export type ChangeAction = 'create' | 'update' | 'delete' | 'read';

/** Terraform's action list for each symbol. */
export const ACTIONS_BY_SYMBOL: Readonly<Record<ChangeSymbol, readonly ChangeAction[]>> = {
  '+': ['create'],
  '~': ['update'],
  '-': ['delete'],
  '+/-': ['create', 'delete'],
  '-/+': ['delete', 'create'],
};

/** The operation a step performs, with everything the executor needs to do it. */
export type StepAction =
  | { readonly kind: 'network-create'; readonly network: string }
  | { readonly kind: 'image-pull'; readonly image: string }
  /** docker run -d of a new app container (env file with secrets uploaded first). */
  | {
      readonly kind: 'container-run';
      readonly spec: ContainerSpec;
      /**
       * Same-version replace: the running container holding spec.name (this id) is first renamed
       * (`docker rename`) to renameTo, so the new one can start beside it; it is drained and
       * stopped by later steps. Absent for every other run.
       */
      readonly replaces?: { readonly containerId: string; readonly renameTo: string };
    }
  /**
   * asset_path bridging, before the container that mounts the folder starts: copy the image's
   * asset path into the version's host folder, then merge the serving versions' folders into it
   * and it into them, never overwriting a file (src/host/assets.ts). Folders are home-relative.
   */
  | {
      readonly kind: 'assets-prepare';
      /** The container the folder is for. */
      readonly name: string;
      readonly image: string;
      readonly assetPath: string;
      readonly hostDir: string;
      /** Asset folders of the versions serving now (missing ones are skipped). */
      readonly previousDirs: readonly string[];
    }
  | { readonly kind: 'traefik-run'; readonly spec: TraefikSpec }
  /**
   * Before an accessory runs: create its host folders (`directories`, data kept across reboots)
   * and upload its `files` (mode, owner). A file's content is read from the local file when the
   * step runs and must still have the planned hash; it travels as upload data, never on a command line.
   */
  | {
      readonly kind: 'accessory-prepare';
      readonly name: string;
      readonly directories: readonly string[];
      readonly files: readonly AccessoryFileSpec[];
    }
  /** docker run -d of an accessory (env file with its secrets uploaded first, files and folders mounted). */
  | { readonly kind: 'accessory-run'; readonly spec: AccessorySpec }
  /**
   * `accessory remove --data` / `remove --data`: delete the accessory's host folder (files and
   * data, home-relative) and its absolute `directories`. Only ever planned on request.
   */
  | { readonly kind: 'accessory-data-remove'; readonly name: string; readonly dirs: readonly string[] }
  /**
   * Write this app's file in Traefik's file-provider folder (~/.mrsk/traefik/dynamic/<file.name>,
   * mode 0600): before any container whose labels refer to it starts. Its certificate and key are
   * Secrets, rendered only on upload.
   */
  | { readonly kind: 'traefik-file-write'; readonly file: TraefikFileSpec }
  /** Remove this app's file from Traefik's file-provider folder: after no container refers to it. */
  | { readonly kind: 'traefik-file-remove'; readonly name: string }
  /** Start an existing stopped container (rollback to a retained version, drift fix). */
  | { readonly kind: 'container-start'; readonly containerId: string; readonly name: string; readonly cordDir?: string }
  /** Wait for Docker health `healthy` (or readinessDelay when the container has no healthcheck). */
  | {
      readonly kind: 'container-wait-healthy';
      readonly name: string;
      readonly timeout: number;
      readonly readinessDelay: number;
      /** Set when the container existed before the plan (started again, not run): on failure it is
       * put back as it was (stopped again, or left running), never marked as a version that never became healthy. */
      readonly existing?: 'stopped' | 'running';
    }
  /** Poll Traefik's API until the container's server is UP in its service. */
  | { readonly kind: 'traefik-wait-up'; readonly name: string; readonly service: string; readonly apiPort: number; readonly timeout: number }
  /** Remove the drain file, then poll Traefik until the container's server is gone from the service. */
  | {
      readonly kind: 'container-drain';
      readonly containerId: string;
      readonly name: string;
      readonly service: string;
      readonly cordDir: string;
      readonly apiPort: number;
      readonly timeout: number;
    }
  | { readonly kind: 'container-stop'; readonly containerId: string; readonly name: string; readonly timeout: number }
  | {
      readonly kind: 'container-remove';
      readonly containerId: string;
      readonly name: string;
      /** Its drain folder, to clean up with it. */
      readonly cordDir?: string;
      /** Its version's asset folder (asset_path), removed with the last container of that version. */
      readonly assetsDir?: string;
    }
  | { readonly kind: 'image-remove'; readonly image: string }
  /** Remove a network no container of any app uses any more (remove, when no other app is on the host). */
  | { readonly kind: 'network-remove'; readonly network: string }
  /**
   * Podman host: make its Docker-compatible API socket serve (Traefik reads it) and its health checks
   * run: `keeper` starts mrsk's keeper (no systemd), `systemd` enables podman.socket.
   */
  | { readonly kind: 'podman-service-start'; readonly how: 'keeper' | 'systemd' }
  /** Podman host without systemd: stop mrsk's keeper and the API service it started (remove of the last app). */
  | { readonly kind: 'podman-service-stop' }
  /** Poll Traefik's /ping until it answers (a rolling traefik reboot waits for each host). */
  | { readonly kind: 'traefik-wait-ready'; readonly apiPort: number; readonly timeout: number }
  /**
   * Remove the app's state folder on the host (secrets' env files, drain files, release ledger,
   * audit log; home-relative), except the lock folder: the lock is held while this runs and its
   * release removes it, and the then empty folders with it.
   */
  | { readonly kind: 'state-remove'; readonly dir: string; readonly keep: readonly string[] }
  /** `docker logout` of the registry the config logs the hosts in to (remove). */
  | { readonly kind: 'registry-logout'; readonly server?: string }
  /** Record the applied release on the host (ledger for drift and rollback). */
  | {
      readonly kind: 'release-record';
      readonly version: string;
      readonly specHashes: Readonly<Record<string, string>>;
      readonly traefikSpecHash?: string;
      /** Hosts this run skipped (`--skip-unreachable`): recorded so drift and the next plan show them as behind. */
      readonly missedHosts?: readonly { readonly host: string; readonly reason: string }[];
      /** What this host was asked to run, without secret values (src/desired/from-release.ts): rollback restores it. */
      readonly desired?: RecordedHostDesired;
    };

/** The name of an operation. */
export type StepKind = StepAction['kind'];

/**
 * What must still be true on the host for the step to run; the executor re-checks it and fails
 * the step as stale when it is not (another deploy, or a hand edit, changed the host since the plan).
 */
export interface Precondition {
  /** The container must exist with this id. */
  readonly containerId?: string;
  /** No container with this name may exist. */
  readonly absentName?: string;
}

/** One value a replace changes, for display; secret values are never carried (hidden: true). */
export interface ValueChange {
  /** What changed, e.g. `env RAILS_LOG_LEVEL`, `image`, `cmd`, `args`. */
  readonly subject: string;
  readonly before?: string;
  readonly after?: string;
  /** A secret: the values are not known to the plan and never shown. */
  readonly hidden?: boolean;
}

/** One idempotent operation on one host. */
export interface PlanStep {
  /** Unique within the plan, stable for the same inputs, e.g. `h1:web:run`. */
  readonly id: string;
  readonly host: string;
  /** The resource changed, e.g. `h1/container/app-web-v2`, `h1/traefik`, `h1/network/mrsk`. Steps of one resource share it. */
  readonly address: string;
  readonly symbol: ChangeSymbol;
  readonly actions: readonly ChangeAction[];
  /** Why, for a human: `new version v1 → v2`, `env DATABASE_URL changed (value hidden)`, `container exited (1)`. */
  readonly cause: string;
  readonly dependsOn: readonly string[];
  readonly precondition: Precondition;
  /** Rollout batch (boot.limit); batch n+1 starts after batch n finished and boot.wait passed. */
  readonly batch: number;
  readonly action: StepAction;
  /** The value changes behind the cause (on the first step of a replaced resource), for rendering. */
  readonly changes?: readonly ValueChange[];
}

/** A host the plan could not be made for, shown in the plan; other hosts are still planned. */
export interface BlockedHost {
  readonly host: string;
  readonly status: HostProblem;
  readonly message: string;
}

/**
 * A difference the plan leaves alone on purpose, with the command that applies it: an accessory
 * whose spec changed is never replaced implicitly (replacing a database is an outage the user
 * chooses), and data a removal keeps.
 */
export interface PendingChange {
  readonly host: string;
  /** e.g. `h1/accessory/redis`. */
  readonly address: string;
  readonly cause: string;
  /** What applies it, e.g. `mrsk accessory reboot redis`. */
  readonly command: string;
}

/** The ordered steps that converge the hosts, and the hosts that could not be planned. */
export interface Plan {
  readonly formatVersion: '1';
  readonly service: string;
  readonly destination?: string;
  readonly version: string;
  readonly steps: readonly PlanStep[];
  readonly blockedHosts: readonly BlockedHost[];
  /** Differences this plan does not change (see PendingChange); absent when there are none. */
  readonly pending?: readonly PendingChange[];
  /** What the plan was asked for, when it is not a plain converge of the app (src/plan/request.ts). */
  readonly intent?: {
    readonly mode: PlanMode;
    readonly target: PlanTarget;
    /** Resources replaced on request even where they match (traefik reboot, accessory reboot). */
    readonly replace?: true;
    /** One host after the other (traefik reboot, restart). */
    readonly hostsInSeries?: true;
  };
  /** The container runtime of each planned host when one of them does not run Docker; absent when all run Docker. */
  readonly runtimes?: Readonly<Record<string, RuntimeName>>;
  /** sha256 of the canonical snapshot the plan was made from (stale-plan check). */
  readonly snapshotFingerprint: string;
  readonly batchWait: number;
}
