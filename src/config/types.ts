// The normalized configuration: what every other module reads. Produced by loadConfig() in
// src/config/load.ts from config/deploy.yml (+ destination file), after interpolation, secret
// resolution, validation and defaults. Deeply frozen; keys are camelCase.
import type { Secret } from '../secret.ts';

/** Environment for one role: clear values and secrets (by variable name). */
export interface EnvSpec {
  readonly clear: Readonly<Record<string, string>>;
  readonly secret: Readonly<Record<string, Secret>>;
}

/** Extra `docker run` options from config (`options:` maps): `{ memory: '512m', 'add-host': [...] }`. */
export type DockerOptions = Readonly<Record<string, string | number | boolean | readonly string[]>>;

export interface RoleTraefik {
  /** Whether containers of this role are routed by Traefik (default: only the `web` role). */
  readonly enabled: boolean;
  /** Extra traefik.* labels from config, merged over the generated ones. */
  readonly labels: Readonly<Record<string, string>>;
}

export interface Role {
  readonly name: string;
  readonly hosts: readonly string[];
  /** Command override; undefined keeps the image's CMD. Strings are run by the image's shell form. */
  readonly cmd?: string | readonly string[];
  readonly env: EnvSpec;
  readonly labels: Readonly<Record<string, string>>;
  readonly options: DockerOptions;
  readonly traefik: RoleTraefik;
}

export interface HealthcheckConfig {
  readonly path: string; // default /up
  readonly port: number; // default 3000
  readonly interval: number; // seconds, default 1
  readonly timeout: number; // seconds, default 5
  readonly maxAttempts: number; // default 3: consecutive failures before unhealthy (drain speed)
  /** Custom command run inside the container instead of an HTTP GET of path:port. */
  readonly cmd?: string;
}

export interface TraefikConfig {
  readonly image: string; // default traefik:v3.6
  /** Extra CLI args as key → value (`true` means a bare flag): { 'accesslog': true, 'log.level': 'DEBUG' }. */
  readonly args: Readonly<Record<string, string | number | boolean>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly options: DockerOptions;
  readonly hostPort: number; // default 80
  /** Host port for Traefik's API, published on 127.0.0.1 only (default 8080). */
  readonly apiPort: number;
}

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
  readonly password?: Secret;
}

export interface AccessoryConfig {
  readonly name: string;
  readonly image: string;
  readonly hosts: readonly string[];
  readonly port?: string;
  readonly cmd?: string;
  readonly env: EnvSpec;
  readonly volumes: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  readonly options: DockerOptions;
}

export interface Config {
  /** Path of the main config file as given (for messages). */
  readonly file: string;
  /** Folder the config paths are relative to (the project root: parent of config/). */
  readonly root: string;
  readonly destination?: string;
  readonly service: string;
  /** Image repository without tag, e.g. `registry.example.com/acme/app`. */
  readonly image: string;
  readonly registry: RegistryConfig;
  /** Roles in config order, the primary role first. */
  readonly roles: readonly Role[];
  readonly primaryRole: string;
  /** First host of the primary role. */
  readonly primaryHost: string;
  /** Every host, no duplicates, in role order (primary role first), so hosts[0] is the primary host. */
  readonly hosts: readonly string[];
  /** Base env (roles already have theirs merged over it). */
  readonly env: EnvSpec;
  readonly healthcheck: HealthcheckConfig;
  readonly traefik: TraefikConfig;
  readonly ssh: SshConfig;
  readonly builder: BuilderConfig;
  readonly volumes: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  readonly logging: { readonly driver?: string; readonly options: Readonly<Record<string, string>> };
  readonly retainContainers: number; // default 5
  readonly readinessDelay: number; // seconds, default 7
  readonly deployTimeout: number; // seconds, default 30
  readonly drainTimeout: number; // seconds, default 30
  /** Rolling batches: limit = hosts per batch (number, or percentage string like "25%"), wait seconds between. */
  readonly boot: { readonly limit?: number | string; readonly wait: number };
  readonly accessories: readonly AccessoryConfig[];
  readonly aliases: Readonly<Record<string, string>>;
  readonly minimumVersion?: string;
  /** Every Secret in this config, for redacting remote output. */
  readonly secrets: readonly Secret[];
}
