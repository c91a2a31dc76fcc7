// The host files the probe reads, by the one definition in src/desired/paths.ts.
import { hostPaths } from '../desired/paths.ts';

/** `.mrsk/<service>[-<destination>]`: the state folder of one service and destination. */
export function stateDir(service: string, destination?: string): string {
  return hostPaths(service, destination).root;
}

/** The deploy lock: a folder created atomically with mkdir, holding holder.json (a LockInfo). */
export function lockDir(service: string, destination?: string): string {
  return hostPaths(service, destination).lockDir;
}

/** The lock holder record inside lockDir. */
export function lockHolderFile(service: string, destination?: string): string {
  return hostPaths(service, destination).lockHolder;
}

/** The last release applied on the host (a ReleaseRecord, no secret values). */
export function currentReleaseFile(service: string, destination?: string): string {
  return hostPaths(service, destination).currentRelease;
}
