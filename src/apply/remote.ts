// Small helpers over the Runner used by the executor and the commands: run argv and fail
// with a RemoteCommandError whose text is redacted; inspect containers; poll with a deadline.
// Host text that reaches a message is sanitized (src/text/sanitize.ts) and redacted.
import { HostError, RemoteCommandError, TimeoutError } from '../errors.ts';
import { hostExcerpt, sanitizeHostValue } from '../text/sanitize.ts';
import { redact, type Secret } from '../secret.ts';
import type { Command, ExecOptions, ExecResult, Runner } from '../ssh/types.ts';
import { toShell } from '../shell/quote.ts';
import { inspectContainerWhenStarted, inspectContainers, type HostWait, type RuntimeName } from '../runtime/index.ts';
import type { HostRuntimes } from './host-runtimes.ts';

export interface Remote {
  readonly runner: Runner;
  readonly secrets: readonly Secret[];
  readonly signal?: AbortSignal;
  /** Each host's container runtime; without it (tests that build a Remote by hand) every host runs Docker. */
  readonly runtimes?: HostRuntimes;
}

/** The runtime of a host whose runtime is known (configured, or found by the probe). */
export function runtimeOf(remote: Pick<Remote, 'runtimes'>, host: string): RuntimeName {
  return remote.runtimes?.of(host) ?? 'docker';
}

/** The runtime of a host, asking the host when the configuration says `auto` and no probe has run. */
export async function resolveRuntime(remote: Remote, host: string): Promise<RuntimeName> {
  return remote.runtimes ? remote.runtimes.resolve(remote.runner, host, remote.signal) : 'docker';
}

function describe(command: Command): string {
  return Array.isArray(command) ? toShell(command as readonly string[]) : (command as { script: string }).script.split('\n')[0] ?? '';
}

/** Runs a command and returns its result; a non-zero exit becomes a RemoteCommandError (secrets redacted). */
export async function run(remote: Remote, host: string, command: Command, options: ExecOptions = {}): Promise<ExecResult> {
  const result = await remote.runner.exec(host, command, { signal: remote.signal, ...options });
  if (result.code !== 0) {
    throw new RemoteCommandError(host, redact(describe(command), remote.secrets), result.code, redact(result.stderr || result.stdout, remote.secrets));
  }
  return result;
}

/** Runs a command whose failure is an answer, not an error (e.g. "does it exist?"). */
export async function tryRun(remote: Remote, host: string, command: Command, options: ExecOptions = {}): Promise<ExecResult> {
  return remote.runner.exec(host, command, { signal: remote.signal, ...options });
}

/**
 * JSON a host printed, with every string sanitized. Output that is not JSON fails the host as
 * unreadable with a short, sanitized and redacted excerpt (never JSON.parse's raw message, which
 * quotes the input).
 */
export function parseHostJson<T>(remote: Pick<Remote, 'secrets'>, host: string, what: string, text: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HostError(host, `${what} printed something that is not JSON: ${redact(hostExcerpt(text, 120), remote.secrets)}`, { kind: 'unreadable' });
  }
  return sanitizeHostValue(value) as T;
}

export interface InspectedContainer {
  readonly id: string;
  readonly name: string;
  readonly running: boolean;
  readonly status: string;
  readonly exitCode: number;
  /** When it last started (.State.StartedAt, the host's clock): a change means it restarted. */
  readonly startedAt?: string;
  /** Its main process on the host (.State.Pid), while it runs. */
  readonly pid?: number;
  readonly health?: string;
  /** Docker's last health probe results (.State.Health.Log, oldest first; Docker keeps 5). */
  readonly healthLog: readonly { readonly exitCode: number; readonly output: string }[];
  /** What Docker probes (.Config.Healthcheck.Test), e.g. ['CMD-SHELL', 'wget …']; undefined without one. */
  readonly healthTest?: readonly string[];
  readonly labels: Record<string, string>;
  readonly networks: Record<string, { IPAddress?: string }>;
  /** Bind mounts: container path → host path. */
  readonly binds: Record<string, string>;
}

/**
 * docker inspect of one container, or undefined when it does not exist. whenStarted: looked at on
 * the host first until it is no longer running with health `starting` (inspectContainerWhenStarted).
 */
export async function inspectContainer(
  remote: Remote,
  host: string,
  nameOrId: string,
  opts: { readonly whenStarted?: HostWait } = {},
): Promise<InspectedContainer | undefined> {
  const rt = runtimeOf(remote, host);
  const argv = inspectContainers(rt, [nameOrId]);
  const result = await tryRun(remote, host, opts.whenStarted ? inspectContainerWhenStarted(rt, nameOrId, opts.whenStarted) : argv);
  if (result.code !== 0) {
    if (/no such (container|object)/i.test(result.stderr)) return undefined;
    throw new RemoteCommandError(host, toShell(argv), result.code, redact(result.stderr, remote.secrets));
  }
  const [raw] = parseHostJson<{
    Id: string;
    Name: string;
    State: { Status: string; Running: boolean; ExitCode: number; StartedAt?: string; Pid?: number; Health?: { Status: string; Log?: { ExitCode: number; Output: string }[] | null } };
    Config: { Labels: Record<string, string> | null; Healthcheck?: { Test?: string[] | null } | null };
    NetworkSettings: { Networks: Record<string, { IPAddress?: string }> | null };
    Mounts?: { Type: string; Source: string; Destination: string }[] | null;
  }[]>(remote, host, `\`${runtimeOf(remote, host)} inspect\``, result.stdout);
  if (!raw) return undefined;
  return {
    id: raw.Id,
    name: raw.Name.replace(/^\//, ''),
    running: raw.State.Running,
    status: raw.State.Status,
    exitCode: raw.State.ExitCode,
    ...(raw.State.StartedAt ? { startedAt: raw.State.StartedAt } : {}),
    ...(raw.State.Running && typeof raw.State.Pid === 'number' && raw.State.Pid > 0 ? { pid: raw.State.Pid } : {}),
    // Podman prints an empty Status for a container without a health check
    health: raw.State.Health?.Status || undefined,
    healthLog: (raw.State.Health?.Log ?? []).map((entry) => ({ exitCode: entry.ExitCode, output: String(entry.Output ?? '') })),
    ...(raw.Config.Healthcheck?.Test ? { healthTest: raw.Config.Healthcheck.Test } : {}),
    labels: raw.Config.Labels ?? {},
    networks: raw.NetworkSettings.Networks ?? {},
    binds: Object.fromEntries((raw.Mounts ?? []).filter((m) => m.Type === 'bind').map((m) => [m.Destination, m.Source])),
  };
}

/**
 * Calls check every intervalMs until it returns a value (not undefined) or the deadline passes.
 * intervalMs may be a function, asked after each check: how long until the next one is worth it.
 */
export async function poll<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
  options: { intervalMs?: number | (() => number); signal?: AbortSignal } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const interval = options.intervalMs ?? 500;
  for (;;) {
    if (options.signal?.aborted) throw new TimeoutError(`interrupted while waiting for ${what}`);
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new TimeoutError(`timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${what}`);
    const next = typeof interval === 'function' ? interval() : interval;
    await sleep(Math.min(next, Math.max(0, deadline - Date.now())), options.signal);
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
