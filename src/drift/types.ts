// The drift model: what differs between a host and the last release recorded on it. Plain JSON
// data (no classes), so `mrsk drift --json` prints it as it is and alerting can read it.
import type { HostProblem } from '../probe/types.ts';

/**
 * Every kind of difference drift reports. `config-changed` is not drift of the host but of the
 * config: it is reported and never fixed (`mrsk apply` rolls it out).
 */
export type DriftKind =
  | 'no-release'
  | 'config-changed'
  | 'network-missing'
  | 'container-missing'
  | 'container-stopped'
  | 'container-unhealthy'
  | 'spec-differs'
  | 'stray-container'
  | 'old-version-running'
  | 'traefik-missing'
  | 'traefik-stopped'
  | 'traefik-spec-differs'
  /** The app's file in Traefik's file-provider folder is gone, or is not the one the config asks for. */
  | 'traefik-file-missing'
  | 'traefik-file-differs'
  | 'retention-exceeded'
  /** Skipped by a `--skip-unreachable` run: another host records a newer release this one never got. */
  | 'behind'
  /**
   * Accessories are compared with the config (they are not versioned with the app, the ledger
   * keeps none): --fix creates a missing one and starts a stopped one, never replaces a changed
   * one (`mrsk accessory reboot NAME`) nor removes one the config no longer has (it may hold data).
   */
  | 'accessory-missing'
  | 'accessory-stopped'
  | 'accessory-unhealthy'
  | 'accessory-changed'
  | 'accessory-stray';

/** One difference on one host, with its cause in words and whether `--fix` corrects it. */
export interface DriftFinding {
  readonly host: string;
  readonly kind: DriftKind;
  /** The role it concerns, when it concerns one. */
  readonly role?: string;
  /** The accessory it concerns (its name in the config, or on the container's mrsk.accessory label). */
  readonly accessory?: string;
  /** The container it concerns (name), or `traefik`. */
  readonly container?: string;
  /** The container's id when one exists on the host (drift --fix names hand-edited ones for replacement). */
  readonly containerId?: string;
  /** Why this is drift, for a person: `container exited (137)`, `label foo changed`, … */
  readonly cause: string;
  /** True when `mrsk drift --fix` restores the recorded release for it. */
  readonly fixable: boolean;
  /** What to do instead, for findings --fix leaves alone. */
  readonly hint?: string;
  /** Containers a retention finding would remove (ids), oldest first. */
  readonly excessContainerIds?: readonly string[];
}

/** The release a host was compared with (the record apply left on it). */
export interface ComparedRelease {
  readonly id: string;
  readonly version: string;
  readonly appliedAt: string;
  readonly appliedBy: string;
}

/** One host's result: compared (findings may be empty) or not checked (unreachable, docker down…). */
export type HostDrift =
  | {
      readonly host: string;
      readonly status: 'checked';
      readonly release?: ComparedRelease;
      /** A host in no role that runs only accessories: it records no release, and none is expected. */
      readonly accessoriesOnly?: true;
      readonly findings: readonly DriftFinding[];
    }
  | { readonly host: string; readonly status: 'error'; readonly problem: HostProblem; readonly message: string };

/** The whole drift report, per host in config order. */
export interface DriftReport {
  readonly formatVersion: '1';
  readonly service: string;
  readonly destination?: string;
  readonly takenAt: string;
  readonly hosts: readonly HostDrift[];
  readonly summary: {
    readonly hostsChecked: number;
    readonly hostsWithDrift: number;
    readonly hostsInError: number;
    readonly findings: number;
    readonly fixable: number;
  };
}
