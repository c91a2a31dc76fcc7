// Probes hosts over a Runner: one composite script, one round trip per host, in parallel up to a
// limit. Transport failures become typed host states; they never reject the whole probe. A host
// whose probe hangs, prints more than the runner reads (OutputLimitError) or prints what cannot
// be parsed is 'unreadable'; the other hosts go on.
import { formatBytes, HostError, OutputLimitError, TimeoutError } from '../errors.ts';
import { hostExcerpt } from '../text/sanitize.ts';
import type { Runner } from '../ssh/types.ts';
import type { RuntimeWish } from '../runtime/runtime.ts';
import { parseProbeOutput } from './parse.ts';
import { probeScript } from './script.ts';
import type { HostProblem, HostSnapshot, Snapshot } from './types.ts';

/** Options of probeHosts. */
export interface ProbeOptions {
  /** Hosts probed at once (default 30, like ssh.max_concurrent). */
  readonly concurrency?: number;
  /** Image repository of the service, so its images are listed before any container exists. */
  readonly imageRepo?: string;
  /** The runtime the configuration asks of a host (default: docker everywhere). */
  readonly runtimeOf?: (host: string) => RuntimeWish;
  /** Per-host limit for the probe command (default PROBE_TIMEOUT_MS, or the runner's command timeout when that is shorter). */
  readonly timeoutMs?: number;
}

/**
 * How long a probe may take by default. It only reads (docker ps/inspect, two small files,
 * Traefik's API) and takes about a second; a host whose `docker` hangs is reported after this
 * rather than after the 300 s command timeout meant for pulls and drains.
 */
export const PROBE_TIMEOUT_MS = 60_000;

/** Reads the state of every host (read-only) into a Snapshot; hosts keep the given order. */
export async function probeHosts(
  runner: Runner,
  hosts: readonly string[],
  service: string,
  destination?: string,
  options: ProbeOptions = {},
): Promise<Snapshot> {
  // one script per runtime wish (hosts that ask the same share it)
  const scripts = new Map<RuntimeWish, string>();
  const scriptFor = (host: string): string => {
    const runtime = options.runtimeOf?.(host) ?? 'docker';
    let script = scripts.get(runtime);
    if (script === undefined) {
      script = probeScript(service, destination, { ...(options.imageRepo ? { imageRepo: options.imageRepo } : {}), runtime });
      scripts.set(runtime, script);
    }
    return script;
  };
  const timeoutMs = options.timeoutMs ?? Math.min(PROBE_TIMEOUT_MS, runner.commandTimeoutMs ?? PROBE_TIMEOUT_MS);
  const results = await mapWithLimit(hosts, options.concurrency ?? 30, (host) =>
    probeHost(runner, host, scriptFor(host), service, destination, timeoutMs),
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
  timeoutMs: number,
): Promise<HostSnapshot> {
  let result;
  try {
    result = await runner.exec(host, { script }, { timeoutMs });
  } catch (error) {
    return probeFailure(host, error, timeoutMs);
  }
  const snapshot = parseProbeOutput(host, result.stdout, service, destination);
  if ((snapshot.status === 'error' || snapshot.status === 'unreadable') && result.code !== 0) {
    // the script itself exits 0; a non-zero code means the shell could not run it
    const stderr = result.stderr.trim().split('\n').slice(-3).join(' ');
    return { ...snapshot, message: `${snapshot.message} (exit ${result.code}${stderr ? `: ${hostExcerpt(stderr, 300)}` : ''})` };
  }
  return snapshot;
}

/** A failed probe command: what it means for this host, in words about the probe rather than its script. */
function probeFailure(host: string, error: unknown, timeoutMs: number): HostSnapshot {
  if (error instanceof OutputLimitError) {
    return {
      host,
      status: 'unreadable',
      message: `the probe printed more than ${formatBytes(error.limitBytes)} (mrsk's cap on what it reads from one host command) and was stopped: does \`docker\` on this host print without end?`,
    };
  }
  if (error instanceof TimeoutError) {
    return {
      host,
      status: 'unreadable',
      message: `the probe did not finish within ${Math.round(timeoutMs / 1000)}s and was stopped: does \`docker\` on this host hang? (try: ssh ${host} docker ps)`,
    };
  }
  return transportProblem(host, error);
}

/** The warnings of usable hosts (an unreadable release record or lock), one `host: message` line each. */
export function snapshotWarnings(snapshot: Snapshot): string[] {
  return Object.values(snapshot.hosts).flatMap((host) => (host.status === 'ok' ? (host.warnings ?? []).map((warning) => `${host.host}: ${warning.message}`) : []));
}

/** Maps a Runner rejection onto the snapshot's host states, keeping the runner's message (host errors' leave the host out). */
export function transportProblem(host: string, error: unknown): HostSnapshot {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof HostError) return { host, status: HOST_ERROR_STATUS[error.kind], message };
  // a command that ran too long: the host answered SSH, its command did not finish
  if (error instanceof TimeoutError) return { host, status: 'unreadable', message };
  return { host, status: 'error', message: hostExcerpt(message, 500) };
}

// 'host-key-unknown' only happens with strict checking; the snapshot has one host-key state and
// the message says which case it was.
const HOST_ERROR_STATUS: Readonly<Record<HostError['kind'], HostProblem>> = {
  unreachable: 'unreachable',
  'auth-failed': 'auth-failed',
  'host-key-changed': 'host-key-changed',
  'host-key-unknown': 'host-key-changed',
  timeout: 'unreachable',
  unreadable: 'unreadable',
  error: 'error',
};

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
