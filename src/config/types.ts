// The normalized configuration: what every other module reads. Produced by loadConfig() in
// src/config/load.ts from config/deploy.yml (+ destination file), after interpolation, secret
// resolution, validation and defaults. Deeply frozen; keys are camelCase.
import type { Secret } from '../secret.ts';
import type { RuntimeWish } from '../runtime/runtime.ts';

/** Environment for one role: clear values and secrets (by variable name). */
export interface EnvSpec {
  readonly clear: Readonly<Record<string, string>>;
  readonly secret: Readonly<Record<string, Secret>>;
}

/** Extra `docker run` options from config (`options:` maps): `{ memory: '512m', 'add-host': [...] }`. */
export type DockerOptions = Readonly<Record<string, string | number | boolean | readonly string[]>>;

export interface RoleTraefik {
  /** Whether containers of this role are routed by Traefik (default: only the primary role, Kamal's rule). */
  readonly enabled: boolean;
  /** Extra traefik.* labels from config, merged over the generated ones. */
  readonly labels: Readonly<Record<string, string>>;
}

/** Docker logging of a container: `--log-driver` and `--log-opt` values. */
export interface LoggingConfig {
  readonly driver?: string;
  readonly options: Readonly<Record<string, string>>;
}

export interface Role {
  readonly name: string;
  readonly hosts: readonly string[];
  /**
   * Command override as argv; undefined keeps the image's CMD. The loader splits a string cmd into
   * words as a POSIX shell would (src/config/shell-words.ts); a string given here directly is split
   * the same way by desired().
   */
  readonly cmd?: string | readonly string[];
  readonly env: EnvSpec;
  readonly labels: Readonly<Record<string, string>>;
  readonly options: DockerOptions;
  readonly traefik: RoleTraefik;
  /** Tags of this role's tagged hosts (`- 10.0.0.1: [a, b]`): host → tags, selecting env.tags. */
  readonly hostTags?: Readonly<Record<string, readonly string[]>>;
  /** This role's logging with the top level merged under it; undefined: the top-level logging. */
  readonly logging?: LoggingConfig;
  /** Seconds docker stop waits for this role's containers (stop_timeout); undefined: drain_timeout. */
  readonly stopTimeout?: number;
  /** Kamal 1's per-role healthcheck merged over the top level; undefined: the top-level one. */
  readonly healthcheck?: HealthcheckConfig;
  /** asset_path (the role's, else the top level's): the image's assets folder, bridged across versions during a rollout. */
  readonly assetPath?: string;
  /**
   * Kamal 2's proxy settings of a routed role (the role's merged over the top level's): set when
   * the file has `proxy:` (top level or this role) and the role is routed; undefined keeps the
   * routing of files without it (every request, port healthcheck.port, HTTP only).
   */
  readonly proxy?: ProxyConfig;
}

/** How a routed role serves HTTPS: Let's Encrypt through Traefik's ACME resolver, or a certificate from secrets. */
export type ProxySsl =
  | { readonly kind: 'acme' }
  | {
      readonly kind: 'custom';
      /** PEM certificate (chain) and key, checked at load (they parse and belong together). */
      readonly certificate: Secret;
      readonly privateKey: Secret;
    };

/** Traefik's buffering middleware of a role (only when buffering is on). Sizes in bytes, 0 = no limit. */
export interface ProxyBuffering {
  readonly maxRequestBody: number;
  readonly maxResponseBody: number;
  readonly memory: number;
}

/** Kamal 2's `proxy:` of one routed role, defaults applied (src/config/proxy.ts). */
export interface ProxyConfig {
  /** Host names of the Host rule; empty: any host (below every app that names its hosts). */
  readonly hosts: readonly string[];
  /** Port the app listens on in the container (default 80). */
  readonly appPort: number;
  /** undefined: plain HTTP only. */
  readonly ssl?: ProxySsl;
  /** With ssl: HTTP answers with a redirect to HTTPS (default true). */
  readonly sslRedirect: boolean;
  /** Seconds Traefik waits for the app's response headers; undefined: no limit. */
  readonly responseTimeout?: number;
  /** Path prefixes without a trailing slash; empty: every path. */
  readonly pathPrefixes: readonly string[];
  /** Remove the prefix before the request reaches the app (default true). */
  readonly stripPathPrefix: boolean;
  readonly buffering?: ProxyBuffering;
}

export interface HealthcheckConfig {
  readonly path: string; // default /up
  readonly port: number; // default 3000
  readonly interval: number; // seconds, default 1
  readonly timeout: number; // seconds, default 5
  readonly maxAttempts: number; // default 3: tries of the check (an interval apart, in one Docker health run) before unhealthy
  /** Custom command run inside the container instead of an HTTP GET of path:port. */
  readonly cmd?: string;
}

export interface TraefikConfig {
  readonly image: string; // default traefik:v3.6
  /** Extra CLI args as key → value (`true` means a bare flag, a list repeats the flag): { 'accesslog': true, 'log.level': 'DEBUG' }. */
  readonly args: Readonly<Record<string, TraefikArgValue>>;
  /** Environment of the Traefik container (traefik.env). */
  readonly env?: EnvSpec;
  /** Whether Traefik's HTTP port is published on the host (traefik.publish, default true). */
  readonly publish?: boolean;
  readonly labels: Readonly<Record<string, string>>;
  readonly options: DockerOptions;
  readonly hostPort: number; // default 80
  /** Host port for Traefik's API, published on 127.0.0.1 only (default 8080). */
  readonly apiPort: number;
  /** Host port of HTTPS, Traefik's websecure entrypoint (proxy.run.https_port); undefined: 443. */
  readonly httpsPort?: number;
  /** proxy.acme_email: the ACME account e-mail of the letsencrypt resolver (shared by every app on a host). */
  readonly acmeEmail?: string;
}

/** One value of traefik.args. */
export type TraefikArgValue = string | number | boolean | readonly (string | number | boolean)[];

export interface SshConfig {
  readonly user: string; // default root
  readonly port: number; // default 22
  /** Bastion: `user@host[:port]`. */
  readonly proxy?: string;
  readonly keys: readonly string[];
  readonly strictHostKeyChecking: 'accept-new' | 'true' | 'false';
  readonly maxConcurrent: number; // default 30
  readonly connectTimeout: number; // seconds, default 10
  readonly commandTimeout: number; // seconds, default 300
  /** Seconds between SSH keepalives, default 15; 3 missed drop the connection. */
  readonly keepaliveInterval: number;
  /** ssh.key_data: private keys from secrets, used in memory only (never written, never printed). */
  readonly keyData: readonly Secret[];
  /** ssh.known_hosts: known_hosts lines from a secret; replaces knownHostsFile when set. */
  readonly knownHosts?: Secret;
  readonly knownHostsFile?: string; // default ~/.ssh/known_hosts
  readonly configFile?: string; // default ~/.ssh/config
}

export interface BuilderConfig {
  readonly multiarch: boolean;
  readonly arch: readonly string[]; // e.g. ['amd64'] ; empty = the hosts' architectures (src/build/plan.ts)
  /** Build context folder; undefined = a clean git clone of HEAD (Kamal's rule, src/build/clone.ts). */
  readonly context?: string;
  readonly dockerfile: string; // default 'Dockerfile'
  readonly args: Readonly<Record<string, string>>;
  readonly secrets: Readonly<Record<string, Secret>>;
  /** Docker endpoint of the remote builder (Kamal 2's string, or Kamal 1's remote.host). */
  readonly remote?: string;
  /** false: every architecture builds on the remote (Kamal 2's `local: false`). Default true. */
  readonly local?: boolean;
  /** Kamal 1's local.host: the local Docker endpoint for a hybrid build. */
  readonly localHost?: string;
  /** buildx driver (docker-container, docker, …); undefined = the daemon's own builder. */
  readonly driver?: string;
  readonly target?: string;
  readonly ssh?: string;
  readonly provenance?: string | boolean;
  readonly sbom?: string | boolean;
  readonly cache?: { readonly type: string; readonly options?: string; readonly image?: string };
}

export interface RegistryConfig {
  /** Registry host; undefined means Docker Hub. */
  readonly server?: string;
  readonly username?: string;
  /** The secret username came from (`username: [NAME]`): it is shown as [REDACTED] like a secret. */
  readonly usernameSecret?: string;
  readonly password?: Secret;
}

/** One accessory `files` entry: a project file uploaded to the host and mounted read-only. */
export interface AccessoryFile {
  /** The local path as written (relative to the project root unless absolute). */
  readonly local: string;
  /** The local path resolved against the project root. */
  readonly localPath: string;
  /** Its path in the container. */
  readonly remote: string;
  /** Mode of the host copy, four octal digits (default 0644). */
  readonly mode: string;
  /** chown of the host copy (`user`, `user:group` or numeric ids); undefined: the SSH user. */
  readonly owner?: string;
  /** `sha256:<hex>` of the content when the config was loaded (never the content itself). */
  readonly hash: string;
}

/** One accessory `directories` entry: a host folder created and mounted read-write. */
export interface AccessoryDirectory {
  /** Host folder as written: absolute, or relative to the accessory's data folder; undefined: named after `remote`. */
  readonly local?: string;
  /** Its path in the container. */
  readonly remote: string;
}

export interface AccessoryConfig {
  readonly name: string;
  /** The image reference (prefixed with the accessory's registry.server, Kamal's rule). */
  readonly image: string;
  readonly hosts: readonly string[];
  /** As written: `6379`, `6379:6379`, `127.0.0.1:6379:6379`. */
  readonly port?: string;
  readonly cmd?: string;
  readonly env: EnvSpec;
  readonly volumes: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  readonly options: DockerOptions;
  readonly files: readonly AccessoryFile[];
  readonly directories: readonly AccessoryDirectory[];
  /** Its own registry (server and login); undefined: the image is pulled as written. */
  readonly registry?: RegistryConfig;
  /** Container name override (Kamal's `service`); undefined: `<service>-<name>`. */
  readonly service?: string;
  /** Docker network; undefined: the app's network (mrsk), where the app reaches it by name. */
  readonly network?: string;
}

export interface Config {
  /** Path of the main config file as given (for messages). */
  readonly file: string;
  /** Folder the config paths are relative to (the project root: parent of config/). */
  readonly root: string;
  readonly destination?: string;
  readonly service: string;
  /**
   * The one resolved image repository (without tag) that build, push, pull, plan, prune, rollback
   * and drift use: registry.server + '/' + image (Kamal's rule), e.g. `registry.example.com/acme/app`.
   */
  readonly image: string;
  /** Which rule gave `image` (shown by `mrsk config`): see resolveImage in src/config/normalize.ts. */
  readonly imageRule?: string;
  readonly registry: RegistryConfig;
  /** Roles in config order, the primary role first. */
  readonly roles: readonly Role[];
  readonly primaryRole: string;
  /** First host of the primary role. */
  readonly primaryHost: string;
  /** Every host, no duplicates, in role order (primary role first), so hosts[0] is the primary host. */
  readonly hosts: readonly string[];
  /** The top level's runtime (`runtime`, or `runtime.default`): docker unless the file says otherwise. */
  readonly runtime: RuntimeWish;
  /**
   * The runtime asked of every host of the config (role and accessory hosts): runtime.tags over
   * servers.<role>.runtime over the top level (src/config/runtime.ts). Read it with runtimeWishOf.
   */
  readonly hostRuntimes: Readonly<Record<string, RuntimeWish>>;
  /** Base env (roles already have theirs merged over it). */
  readonly env: EnvSpec;
  /** env.tags: env per host tag, merged over a role's env on the hosts with that tag (in the host's tag order). */
  readonly envTags?: Readonly<Record<string, EnvSpec>>;
  readonly healthcheck: HealthcheckConfig;
  readonly traefik: TraefikConfig;
  readonly ssh: SshConfig;
  readonly builder: BuilderConfig;
  /** hooks_path as written (relative to root); undefined = .kamal/hooks, else .mrsk/hooks. */
  readonly hooksPath?: string;
  /** Top-level asset_path as written (roles carry the one that applies to them). */
  readonly assetPath?: string;
  readonly volumes: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  /** Top-level logging as written (roles carry their merged logging); none at all means Kamal's max-size=10m. */
  readonly logging: LoggingConfig;
  readonly retainContainers: number; // default 5
  readonly readinessDelay: number; // seconds, default 7
  readonly deployTimeout: number; // seconds, default 30
  readonly drainTimeout: number; // seconds, default 30
  /** Top-level stop_timeout (or Kamal 1's stop_wait_time), seconds; undefined: drain_timeout. */
  readonly stopTimeout?: number;
  /** allow_empty_roles: roles without hosts are kept (and skipped) instead of refused. */
  readonly allowEmptyRoles?: boolean;
  /** Rolling batches: limit = hosts per batch (number, or percentage string like "25%"), wait seconds between. */
  /** boot.limit, boot.wait, and boot.parallel_roles (every role on a host at once; default one after another). */
  readonly boot: { readonly limit?: number | string; readonly wait: number; readonly parallelRoles: boolean };
  readonly accessories: readonly AccessoryConfig[];
  readonly aliases: Readonly<Record<string, string>>;
  readonly minimumVersion?: string;
  /** Every Secret in this config, for redacting remote output. */
  readonly secrets: readonly Secret[];
}
