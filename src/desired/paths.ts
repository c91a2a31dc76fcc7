// Where mrsk keeps its files on a host, relative to the SSH user's home (like ~/.ssh). One
// folder per service and destination so several apps can share a host without touching each other.
// The one definition: desired state (cord folders), the probe (reads) and apply (writes) use it.

/** `<service>` or `<service>-<destination>`: the key of everything mrsk keeps per app on a host. */
export function appKey(service: string, destination?: string): string {
  return destination ? `${service}-${destination}` : service;
}

export interface HostPaths {
  /** ~/.mrsk/<app> */
  readonly root: string;
  /** The deploy lock: a folder created atomically with mkdir, holding holder.json. */
  readonly lockDir: string;
  readonly lockHolder: string;
  readonly auditLog: string;
  /** Env files with secret values, mode 0600, one per container. */
  envFile(containerName: string): string;
  /** Release ledger: current.json plus one file per applied release. */
  readonly releasesDir: string;
  readonly currentRelease: string;
  /** Drain files ("cords"), one folder per routed container instance. */
  readonly cordsDir: string;
  /** asset_path bridging: one folder per role and version, mounted over the asset path. */
  assetsDir(role: string, version: string): string;
}

export function hostPaths(service: string, destination?: string): HostPaths {
  const root = `.mrsk/${appKey(service, destination)}`;
  return {
    root,
    lockDir: `${root}/lock`,
    lockHolder: `${root}/lock/holder.json`,
    auditLog: `${root}/audit.log`,
    envFile: (containerName) => `${root}/env/${containerName}.env`,
    releasesDir: `${root}/releases`,
    currentRelease: `${root}/releases/current.json`,
    cordsDir: `${root}/cords`,
    assetsDir: (role, version) => `${root}/assets/${role}/${version}`,
  };
}

/**
 * A host path as people read it: home-relative paths as `~/…`, one slash between parts (messages
 * once showed `~/.mrsk//releases/…`).
 */
export function displayHostPath(path: string): string {
  const single = path.replace(/\/{2,}/g, '/');
  return single.startsWith('/') || single.startsWith('~/') ? single : `~/${single}`;
}

/** Resolves a home-relative host path to an absolute one (docker -v needs absolute paths). */
export function absoluteOnHost(home: string, path: string): string {
  if (path.startsWith('/')) return path;
  return `${home.replace(/\/+$/, '')}/${path}`;
}
