// The desired state derived purely from Config + version: what each host must run.
import type { Secret } from '../secret.ts';
import type { AccessorySpec } from './accessory.ts';

/** The Docker healthcheck of a container (--health-* flags). */
export interface HealthcheckSpec {
  /** Shell command run inside the container by Docker (CMD-SHELL). */
  readonly cmd: string;
  readonly interval: number; // seconds
  readonly timeout: number; // seconds
  readonly retries: number;
  readonly startPeriod: number; // seconds
}

/** A host folder of bridged assets mounted over the image's asset path. */
export interface AssetsMount {
  /** Absolute path inside the image (asset_path). */
  readonly path: string;
  /** Home-relative host folder: ~/.mrsk/<app>/assets/<role>/<version>. */
  readonly hostDir: string;
}

/** One app container as mrsk will run it. Field order and content feed the spec hash. */
export interface ContainerSpec {
  readonly name: string; // <service>-<role>[-<dest>]-<version>
  readonly service: string;
  readonly role: string;
  readonly destination?: string;
  readonly version: string;
  readonly image: string; // full reference with tag
  readonly cmd?: readonly string[]; // argv appended after the image; undefined = image default
  readonly env: Readonly<Record<string, string>>; // clear values
  /** Secret env values: written to a 0600 env file on the host, never put on a command line. */
  readonly secretEnv: Readonly<Record<string, Secret>>;
  readonly volumes: readonly string[];
  /** All labels incl. mrsk.* (with mrsk.spec-hash) and traefik.* for proxied roles. */
  readonly labels: Readonly<Record<string, string>>;
  readonly healthcheck?: HealthcheckSpec;
  readonly logging: { readonly driver?: string; readonly options: Readonly<Record<string, string>> };
  /** Extra docker run options as argv, already expanded (e.g. ['--memory', '512m']). */
  readonly options: readonly string[];
  readonly network: string;
  /** Proxied by Traefik: needs the drain file and the Traefik cutover. */
  readonly proxied: boolean;
  /** Traefik service name (stable across versions) when proxied. */
  readonly traefikService?: string;
  /** Host folder holding this container's drain file ("cord"), bind-mounted into it. */
  readonly cordDir?: string;
  /**
   * asset_path bridging: the host folder (home-relative, per role and version) holding this
   * version's assets merged with the previous version's, mounted over `path`. Hashed when set;
   * absent without asset_path, so such specs keep their hashes.
   */
  readonly assets?: AssetsMount;
  /** Seconds docker stop waits before SIGKILL (stop_timeout / stop_wait_time); undefined: drain_timeout. Not hashed. */
  readonly stopTimeout?: number;
  readonly specHash: string; // v1:<sha256>
}

/** The Traefik container on a host that carries a proxied role. */
export interface TraefikSpec {
  readonly name: string; // 'traefik' (or traefik-<dest>? no: one per host)
  readonly image: string;
  readonly args: readonly string[]; // argv after the image
  readonly ports: readonly string[]; // -p values
  readonly volumes: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  /** traefik.env clear values (--env). */
  readonly env?: Readonly<Record<string, string>>;
  readonly options: readonly string[];
  readonly network: string;
  /** Port on 127.0.0.1 of the host where the API answers. */
  readonly apiPort: number;
  readonly specHash: string;
}

/**
 * An app's file in Traefik's file-provider folder (~/.mrsk/traefik/dynamic/<name>): what labels
 * cannot carry. Rendered with its secrets only by the executor (src/desired/proxy-routing.ts).
 */
export interface TraefikFileSpec {
  /** `<service>[-<dest>].yml`. */
  readonly name: string;
  /** Servers transports by name (the role key): seconds Traefik waits for response headers. */
  readonly transports: Readonly<Record<string, { readonly responseHeaderTimeout: number }>>;
  /** Certificates from secrets, served by SNI. */
  readonly certificates: readonly { readonly certificate: Secret; readonly privateKey: Secret }[];
  /** `v1:<sha256>` of the content, secret values as HMACs; the file's first line carries it. */
  readonly hash: string;
}

/** What one host must run. */
export interface DesiredHost {
  readonly host: string;
  readonly network: string; // 'mrsk'
  /** One per role on this host, primary role first. */
  readonly containers: readonly ContainerSpec[];
  readonly traefik?: TraefikSpec;
  /** This app's file for Traefik on this host; undefined: the app has none (an old one is removed). */
  readonly traefikFile?: TraefikFileSpec;
  readonly retainContainers: number;
  /** The config's accessories on this host (src/desired/accessory.ts), in config order; a host with only accessories has no containers. */
  readonly accessories?: readonly AccessorySpec[];
}

/** What every host must run for one service, destination and version; the input of diff. */
export interface Desired {
  readonly service: string;
  readonly destination?: string;
  readonly version: string;
  readonly primaryRole: string;
  readonly hosts: Readonly<Record<string, DesiredHost>>;
  /** Host batches in rollout order (boot.limit); each batch rolls in parallel. */
  readonly batches: readonly (readonly string[])[];
  readonly batchWait: number; // seconds between batches
  /** boot.parallel_roles: every role on a host starts at once, not one after another. */
  readonly parallelRoles: boolean;
  readonly deployTimeout: number;
  readonly drainTimeout: number;
  readonly readinessDelay: number;
}
