import type { RuntimeName } from '../runtime/runtime.ts';
// What a read-only probe saw on the hosts. JSON-only (no classes), so it can be saved in a plan
// file, printed with --json and kept as a fixture. Parsers from raw probe output into this model
// live in src/probe/parse.ts and are pure. Every text in it that came from a host is sanitized
// (src/text/sanitize.ts): no terminal control sequences.

export type ContainerState = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';
export type HealthState = 'starting' | 'healthy' | 'unhealthy';

export interface ObservedContainer {
  readonly id: string; // full id
  readonly name: string; // without leading slash
  readonly image: string; // image reference the container was created from
  readonly imageId: string; // sha256:…
  readonly state: ContainerState;
  readonly exitCode: number;
  /** Docker health; undefined when the container has no healthcheck. */
  readonly health?: HealthState;
  readonly labels: Readonly<Record<string, string>>;
  readonly createdAt: string; // ISO 8601
  readonly startedAt?: string;
  readonly finishedAt?: string;
  /** IP address on the mrsk network, when attached. */
  readonly ip?: string;
  readonly restartCount: number;
}

export interface ObservedImage {
  readonly id: string;
  /** repo:tag references; empty for dangling images. */
  readonly tags: readonly string[];
  readonly createdAt: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** The deploy lock on a host: a directory with a JSON holder record. */
export interface LockInfo {
  readonly holder: string; // user@machine
  readonly command: string;
  readonly message?: string;
  readonly acquiredAt: string; // ISO 8601
  readonly leaseExpiresAt: string; // ISO 8601
  readonly id: string;
  readonly pid?: number;
}

export interface TraefikServiceState {
  readonly status: string; // enabled | disabled | warning
  /** server URL → UP | DOWN */
  readonly serverStatus: Readonly<Record<string, string>>;
}

export interface TraefikRouterState {
  readonly rule: string;
  readonly service: string;
  readonly status: string;
}

/** Traefik's live view from its API; undefined in HostSnapshot when no API answered. */
export interface TraefikState {
  /** keyed by name without the @provider suffix */
  readonly services: Readonly<Record<string, TraefikServiceState>>;
  readonly routers: Readonly<Record<string, TraefikRouterState>>;
}

/** The last release recorded by apply on this host (see the drift issue): desired state without secret values. */
export interface ReleaseRecord {
  readonly id: string;
  readonly version: string;
  readonly appliedAt: string;
  readonly appliedBy: string;
  /** role → spec hash of the container that was applied */
  readonly specHashes: Readonly<Record<string, string>>;
  readonly traefikSpecHash?: string;
  readonly desired?: unknown;
  /** Hosts a `--skip-unreachable` run left out of this release: they are behind until deployed again. */
  readonly missedHosts?: readonly MissedHost[];
}

/** A host a run could not use and skipped on purpose (`--skip-unreachable`), with what was seen. */
export interface MissedHost {
  readonly host: string;
  readonly reason: string;
}

export type HostProblem =
  | 'unreachable'
  | 'auth-failed'
  | 'host-key-changed'
  | 'docker-missing'
  /** The runtime the configuration asks (podman), or any runtime (`auto`), is not installed. */
  | 'runtime-missing'
  /** Podman reached as a user other than root: mrsk drives rootful Podman only. */
  | 'podman-rootless'
  | 'docker-down'
  | 'permission-denied'
  /** Reached, but what the host sent cannot be used: output that does not parse, more than mrsk reads from one command, or a probe that never finished. */
  | 'unreadable'
  | 'error';

/**
 * Something on a usable host that mrsk could not read and worked around; shown as a warning.
 * release-unreadable: the release record is not a record (the deployed release counts as unknown).
 * lock-unreadable: the lock folder exists but its holder cannot be read (the host counts as locked).
 */
export interface HostWarning {
  readonly kind: 'release-unreadable' | 'lock-unreadable';
  /** What was wrong and how to fix it; sanitized host text. */
  readonly message: string;
}

/** ReachableHost.traefikFileHash of a file whose first line is not mrsk's hash line (edited, or not mrsk's). */
export const UNKNOWN_TRAEFIK_FILE_HASH = 'unknown';

export interface ReachableHost {
  readonly host: string;
  readonly status: 'ok';
  /** The runtime version (`docker version` / `podman version`: {{.Server.Version}}). */
  readonly dockerVersion: string;
  /** The container runtime the probe used on this host (the configured one, or what `auto` found). */
  readonly runtime: RuntimeName;
  /** On a Podman host: its API socket, mrsk's keeper and systemd (see runtime/podman-service.ts). */
  readonly podmanService?: PodmanServiceState;
  /** The host's architecture in docker's words (amd64, arm64, …; from `uname -m`); absent when unknown. */
  readonly arch?: string;
  /** $HOME of the SSH user: relative host paths in the desired state (cord folders, env files) resolve against it. */
  readonly home: string;
  /** Containers carrying mrsk.service=<service> labels, Kamal-made ones of the service (src/probe/kamal.ts), plus any container named like Traefik's. */
  readonly containers: readonly ObservedContainer[];
  readonly images: readonly ObservedImage[];
  readonly networks: readonly string[];
  /**
   * Other apps with mrsk-made containers on this host (`service` or `service/destination`),
   * sorted; absent when the probe did not say (older probe output): then Traefik and the
   * network count as shared.
   */
  readonly otherApps?: readonly string[];
  readonly lock?: LockInfo;
  readonly traefik?: TraefikState;
  readonly release?: ReleaseRecord;
  /**
   * The hash on the first line of this app's file in Traefik's file-provider folder
   * (~/.mrsk/traefik/dynamic/<service>[-<dest>].yml); UNKNOWN_TRAEFIK_FILE_HASH when the file
   * exists but mrsk did not write it as it is now; absent when there is no such file.
   */
  readonly traefikFileHash?: string;
  /** What could not be read on this host and how mrsk went on; absent when all was readable. */
  readonly warnings?: readonly HostWarning[];
}

/** What the probe saw of Podman's API service on a Podman host. */
export interface PodmanServiceState {
  /** Podman's Docker-compatible API socket exists. */
  readonly socket: boolean;
  /** The first line of the running keeper's script (its version), or undefined when no keeper runs. */
  readonly keeper?: string;
  /** The host runs systemd (Podman's health-check timers and podman.socket work there). */
  readonly systemd: boolean;
}

export interface UnreachableHost {
  readonly host: string;
  readonly status: HostProblem;
  readonly message: string;
}

export type HostSnapshot = ReachableHost | UnreachableHost;

export interface Snapshot {
  readonly takenAt: string;
  readonly hosts: Readonly<Record<string, HostSnapshot>>;
}
