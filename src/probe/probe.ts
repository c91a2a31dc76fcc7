// Probes hosts over a Runner: one composite script, one round trip per host, in parallel up to a
// limit. Transport failures become typed host states; they never reject the whole probe.
import { HostError, TimeoutError } from '../errors.ts';
import type { Runner } from '../ssh/types.ts';
import { parseProbeOutput } from './parse.ts';
import { probeScript } from './script.ts';
import type { HostProblem, HostSnapshot, Snapshot } from './types.ts';

/** Options of probeHosts. */
export interface ProbeOptions {
  /** Hosts probed at once (default 30, like ssh.max_concurrent). */
  readonly concurrency?: number;
  /** Image repository of the service, so its images are listed before any container exists. */
  readonly imageRepo?: string;
  /** Per-host limit for the probe command (default: the runner's command timeout). */
  readonly timeoutMs?: number;
}

/** Reads the state of every host (read-only) into a Snapshot; hosts keep the given order. */
export async function probeHosts(
  runner: Runner,
  hosts: readonly string[],
  service: string,
  destination?: string,
  options: ProbeOptions = {},
): Promise<Snapshot> {
  const script = probeScript(service, destination, options.imageRepo ? { imageRepo: options.imageRepo } : {});
  const results = await mapWithLimit(hosts, options.concurrency ?? 30, (host) =>
    probeHost(runner, host, script, service, destination, options.timeoutMs),
  );
  const snapshotHosts: Record<string, HostSnapshot> = {};
  hosts.forEach((host, index) => (snapshotHosts[host] = results[index]!));
  return { takenAt: new Date().toISOString(), hosts: snapshotHosts };
}

async function probeHost(
  runner: Runner,
  host: string,
  script: string,
  service: string,
  destination: string | undefined,
  timeoutMs: number | undefined,
): Promise<HostSnapshot> {
  let result;
  try {
    result = await runner.exec(host, { script }, timeoutMs === undefined ? {} : { timeoutMs });
  } catch (error) {
    return transportProblem(host, error);
  }
  const snapshot = parseProbeOutput(host, result.stdout, service, destination);
  if (snapshot.status === 'error' && result.code !== 0) {
    // the script itself exits 0; a non-zero code means the shell could not run it
    const stderr = result.stderr.trim().split('\n').slice(-3).join(' ');
    return { ...snapshot, message: `${snapshot.message} (exit ${result.code}${stderr ? `: ${stderr}` : ''})` };
  }
  return snapshot;
}

/** Maps a Runner rejection onto the snapshot's host states, keeping the runner's message. */
export function transportProblem(host: string, error: unknown): HostSnapshot {
  const message = withoutHostPrefix(host, error instanceof Error ? error.message : String(error));
  if (error instanceof HostError) return { host, status: HOST_ERROR_STATUS[error.kind], message };
  if (error instanceof TimeoutError) return { host, status: 'unreachable', message };
  return { host, status: 'error', message };
}

// 'host-key-unknown' only happens with strict checking; the snapshot has one host-key state and
// the message says which case it was.
const HOST_ERROR_STATUS: Readonly<Record<HostError['kind'], HostProblem>> = {
  unreachable: 'unreachable',
  'auth-failed': 'auth-failed',
  'host-key-changed': 'host-key-changed',
  'host-key-unknown': 'host-key-changed',
  timeout: 'unreachable',
  error: 'error',
};

function withoutHostPrefix(host: string, message: string): string {
  return message.startsWith(`${host}: `) ? message.slice(host.length + 2) : message;
}

/** Runs fn over items with at most limit calls in flight; results in item order. */
async function mapWithLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
