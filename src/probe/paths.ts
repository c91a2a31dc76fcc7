// Where mrsk keeps its per-service state on a host, relative to the SSH user's $HOME. The probe
// reads these files; apply writes them. One definition so both agree.

/** `.mrsk/<service>[-<destination>]`: the state folder of one service and destination. */
export function stateDir(service: string, destination?: string): string {
  return `.mrsk/${destination ? `${service}-${destination}` : service}`;
}

/** The deploy lock: a folder created atomically with mkdir, holding holder.json (a LockInfo). */
export function lockDir(service: string, destination?: string): string {
  return `${stateDir(service, destination)}/lock`;
}

/** The lock holder record inside lockDir. */
export function lockHolderFile(service: string, destination?: string): string {
  return `${lockDir(service, destination)}/holder.json`;
}

/** The last release applied on the host (a ReleaseRecord, no secret values). */
export function currentReleaseFile(service: string, destination?: string): string {
  return `${stateDir(service, destination)}/releases/current.json`;
}
