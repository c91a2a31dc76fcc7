// One command on one SSH channel, from open to close.
//
// Policies (why they are what they are):
// - Commands get EOF on stdin unless `stdin` is given, so nothing can hang reading it.
// - A command that times out, is aborted or prints too much is stopped for real: a signal request,
//   and a kill of every process carrying the command's MRSK_RUN tag in its environment (OpenSSH
//   ignores signal requests for root sessions, and a closed channel alone leaves the command running).
// - The channel slot is freed only when the server confirms the channel closed (or after a grace
//   period), so the count of channels in flight stays true and OpenSSH's MaxSessions is never hit.
// - What mrsk reads from one command is capped (maxOutputBytes, default 16 MiB of stdout + stderr):
//   past the cap the command is killed and fails with OutputLimitError naming host and cap, so a
//   broken or hostile host (a `docker` printing without end) cannot exhaust mrsk's memory. The
//   largest legitimate outputs (a probe of a host with hundreds of containers) are a few MiB.
// - A pty command is wired to the local terminal (raw mode, window size) and has no timeout by default.
import type { ClientChannel } from 'ssh2';
import { randomBytes } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import type { Readable, Writable } from 'node:stream';
import { AbortedError, HostError, OutputLimitError, TimeoutError } from '../errors.ts';
import type { SshClient } from './connect.ts';
import type { HostConnection } from './host-slots.ts';
import { display, seconds } from './messages.ts';
import { commandToShell, shq } from '../shell/quote.ts';
import type { ExecOptions, ExecResult } from './types.ts';

/** Default cap on what mrsk reads from one host command (stdout + stderr). */
export const DEFAULT_MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

/** The local terminal an interactive (pty) command is wired to. */
export interface Terminal {
  readonly stdin: Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  readonly stdout: Writable & { columns?: number; rows?: number; on(event: 'resize', listener: () => void): unknown };
}

/** What a command gets unless its ExecOptions say otherwise. */
export interface ChannelDefaults {
  readonly commandTimeoutMs: number;
  readonly maxOutputBytes: number;
  /** Where pty commands read and write; default process.stdin / process.stdout. */
  readonly terminal?: Terminal;
}

/**
 * Runs one command line on a channel of `client`, whose channel slot the caller holds:
 * `channelDone` frees it (idempotent on the caller's side) once the channel is really gone.
 */
export function runChannel(
  connection: HostConnection<SshClient>,
  client: SshClient,
  line: string,
  options: ExecOptions,
  channelDone: () => void,
  defaults: ChannelDefaults,
): Promise<ExecResult> {
  const host = connection.host;
  // A tag in the command's environment, inherited by everything it starts, so a timed-out
  // command can be found and killed (OpenSSH ignores signal requests for root sessions).
  const runTag = `MRSK_RUN=${randomBytes(8).toString('hex')}`;
  if (options.signal?.aborted) {
    channelDone(); // aborted while waiting for a channel
    return Promise.reject(new AbortedError(`${host}: \`${display(line)}\` aborted before it started`));
  }
  const pty = options.pty === true;
  const timeoutMs = options.timeoutMs ?? (pty ? undefined : defaults.commandTimeoutMs);
  return new Promise<ExecResult>((resolve, reject) => {
    let settled = false;
    let channel: ClientChannel | undefined;
    let timer: NodeJS.Timeout | undefined;
    const cleanups: Array<() => void> = [];
    const finish = (outcome: { result?: ExecResult; error?: Error }) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      connection.inFlight.delete(onConnectionLost);
      for (const cleanup of cleanups.splice(0)) cleanup();
      if (outcome.error) reject(outcome.error);
      else resolve(outcome.result!);
    };
    const onConnectionLost = (error: Error) => {
      finish({ error });
      channelDone();
    };
    connection.inFlight.add(onConnectionLost);
    // Stopping a command: ask the remote process to die, close the channel, and free the
    // channel slot only when the server confirms (or after a grace period), so the slot count stays true.
    const stop = (error: Error) => {
      finish({ error });
      if (channel) {
        sendSignal(channel, 'KILL');
        channel.close();
        killTagged(connection, client, runTag);
        const grace = setTimeout(channelDone, 5_000);
        grace.unref();
        channel.once('close', () => clearTimeout(grace));
      }
    };
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => stop(new TimeoutError(`\`${display(line)}\` timed out after ${seconds(timeoutMs)}`, { host })), timeoutMs);
    }
    if (options.signal) {
      const onAbort = () => stop(new AbortedError(`${host}: \`${display(line)}\` aborted`));
      options.signal.addEventListener('abort', onAbort, { once: true });
      cleanups.push(() => options.signal!.removeEventListener('abort', onAbort));
    }
    const terminal = defaults.terminal ?? { stdin: process.stdin, stdout: process.stdout };
    const execOptions = pty
      ? { pty: { rows: terminal.stdout.rows ?? 24, cols: terminal.stdout.columns ?? 80, term: process.env.TERM ?? 'xterm-256color' } }
      : {};
    client.exec(`${runTag} ${line}`, execOptions, (error, opened) => {
      if (error) {
        finish({ error: new HostError(host, `could not open an SSH channel: ${error.message}`, { kind: 'error', cause: error }) });
        channelDone();
        return;
      }
      channel = opened;
      const maxOutputBytes = options.maxOutputBytes ?? defaults.maxOutputBytes;
      const onLimit = () => stop(new OutputLimitError(host, display(line), maxOutputBytes));
      const collected = pty ? wireTerminal(opened, terminal, cleanups) : collectOutput(opened, options, maxOutputBytes, onLimit);
      let exitCode: number | null | undefined;
      opened.on('exit', (code: number | null) => {
        exitCode = code;
      });
      opened.on('close', (code?: number | null) => {
        channelDone();
        const final = exitCode !== undefined ? exitCode : code;
        // A signal-killed process or a missing exit status is a failure, never success.
        const status = typeof final === 'number' ? final : 255;
        finish({ result: { code: status, stdout: collected.stdout(), stderr: collected.stderr() } });
      });
      if (settled) {
        // timed out or aborted before the channel opened
        stop(new AbortedError('stopped'));
        return;
      }
      if (!pty) {
        if (options.stdin !== undefined) opened.end(options.stdin);
        else opened.end();
      }
    });
  });
}

/** Kills the processes whose environment carries runTag (best effort, in the background, holding one channel slot). */
function killTagged(connection: HostConnection<SshClient>, client: SshClient, runTag: string): void {
  // Three passes: a command that timed out while still starting may not carry the tag yet.
  const pass = `for f in $(grep -l -z -x -F ${shq(runTag)} /proc/[0-9]*/environ 2>/dev/null); do p=\${f#/proc/}; kill -KILL "\${p%/environ}" 2>/dev/null; done`;
  const script = `${pass}; sleep 0.5; ${pass}; sleep 1; ${pass}; true`;
  void connection.channels.acquire().then(() => {
    if (connection.closed) {
      connection.channels.release();
      return;
    }
    try {
      client.exec(commandToShell({ script }), (error, channel) => {
        if (error) {
          connection.channels.release();
          return;
        }
        channel.resume();
        channel.stderr.resume();
        channel.on('close', () => connection.channels.release());
        channel.end();
      });
    } catch {
      connection.channels.release(); // the connection went away meanwhile
    }
  });
}

function wireTerminal(channel: ClientChannel, terminal: Terminal, cleanups: Array<() => void>) {
  const { stdin, stdout } = terminal;
  const wasRaw = stdin.isTTY === true;
  if (wasRaw) stdin.setRawMode?.(true);
  stdin.pipe(channel);
  stdin.resume();
  channel.pipe(stdout, { end: false });
  channel.stderr.pipe(stdout, { end: false });
  const onResize = () => channel.setWindow(stdout.rows ?? 24, stdout.columns ?? 80, 0, 0);
  stdout.on('resize', onResize);
  cleanups.push(() => {
    stdout.removeListener('resize', onResize);
    stdin.unpipe(channel);
    if (wasRaw) stdin.setRawMode?.(false);
    stdin.pause();
  });
  return { stdout: () => '', stderr: () => '' };
}

/** What collectOutput reads: a channel's stdout ('data') and stderr. */
interface OutputSource {
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  readonly stderr: { on(event: 'data', listener: (chunk: Buffer) => void): unknown };
}

/**
 * Buffers stdout/stderr (both must be read or 'close' never fires) and feeds the callbacks decoded
 * text. Past maxBytes (stdout + stderr) it calls onLimit once, drops what it holds and reads on
 * only to discard, until the stopped channel closes.
 */
export function collectOutput(
  channel: OutputSource,
  options: Pick<ExecOptions, 'onStdout' | 'onStderr' | 'keepOutput'>,
  maxBytes: number,
  onLimit: () => void,
) {
  const keep = options.keepOutput !== false;
  let stdoutChunks: Buffer[] = [];
  let stderrChunks: Buffer[] = [];
  const stdoutDecoder = new StringDecoder('utf8');
  const stderrDecoder = new StringDecoder('utf8');
  let total = 0;
  let over = false;
  const take = (chunk: Buffer, chunks: Buffer[], decoder: StringDecoder, callback: ((text: string) => void) | undefined) => {
    if (over) return;
    total += chunk.length;
    if (total > maxBytes) {
      over = true;
      stdoutChunks = [];
      stderrChunks = [];
      onLimit();
      return;
    }
    if (keep) chunks.push(chunk);
    if (callback) callback(decoder.write(chunk));
  };
  channel.on('data', (chunk: Buffer) => take(chunk, stdoutChunks, stdoutDecoder, options.onStdout));
  channel.stderr.on('data', (chunk: Buffer) => take(chunk, stderrChunks, stderrDecoder, options.onStderr));
  return {
    stdout: () => Buffer.concat(stdoutChunks).toString('utf8'),
    stderr: () => Buffer.concat(stderrChunks).toString('utf8'),
  };
}

/**
 * Sends a "signal" channel request (OpenSSH ≥ 7.9 kills the command's process group). ssh2's
 * channel.signal() refuses once stdin was ended, which is always the case here, so this goes to
 * the protocol object directly; without it a timed-out command would keep running on the host.
 */
function sendSignal(channel: ClientChannel, signal: string): void {
  const internals = channel as unknown as {
    outgoing?: { id?: number; state?: string };
    _client?: { _protocol?: { signal?: (id: number, name: string) => void } };
  };
  const protocol = internals._client?._protocol;
  const id = internals.outgoing?.id;
  if (protocol?.signal && id !== undefined && (internals.outgoing?.state === 'open' || internals.outgoing?.state === 'eof')) {
    try {
      protocol.signal(id, signal);
    } catch {
      // the connection is going away; closing the channel below is all that is left
    }
  }
}
