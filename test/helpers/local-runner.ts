// A Runner that runs commands on this machine with /bin/sh, as if each "host" were a server
// reached over SSH: the same shell line the SSH runner sends (argv quoted by shq, scripts via
// `sh -c`), with the host's own environment (DOCKER_HOST, HOME, PATH) and optionally as another
// user. A host not in the table is unreachable, as a real one would be. createShellRunner makes
// one whose every host is a folder under a root, for testing the host scripts (lock, audit,
// uploads) for real without a server; docker commands need a real daemon.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { HostError, TimeoutError } from '../../src/errors.ts';
import { commandToShell } from '../../src/shell/quote.ts';
import type { Command, ExecOptions, ExecResult, Runner } from '../../src/ssh/types.ts';

/** How one pretend host runs commands. */
export interface LocalHost {
  /** The host's $HOME (relative upload paths resolve against it). */
  readonly home: string;
  /** Environment overrides, e.g. DOCKER_HOST of the daemon this host stands for. */
  readonly env?: Readonly<Record<string, string>>;
  /** Run as this user and group (needs root), e.g. to meet a socket permission error. */
  readonly uid?: number;
  readonly gid?: number;
}

/** Runs commands locally per host; counts one "connection" per host and every command. */
export class LocalRunner implements Runner {
  readonly #hosts: (host: string) => LocalHost | undefined;
  readonly #stats: Record<string, { connections: number; commands: number }> = {};
  /** Every command line run, per host, in order. */
  readonly log: Record<string, string[]> = {};

  /** hosts: a table, or a function giving each host (undefined: unreachable). */
  constructor(hosts: Readonly<Record<string, LocalHost>> | ((host: string) => LocalHost | undefined)) {
    this.#hosts = typeof hosts === 'function' ? hosts : (host) => (Object.hasOwn(hosts, host) ? hosts[host] : undefined);
  }

  exec(host: string, command: Command, options: ExecOptions = {}): Promise<ExecResult> {
    const target = this.#hosts(host);
    if (!target) return Promise.reject(new HostError(host, 'connect ECONNREFUSED (no such local host)', { kind: 'unreachable' }));
    const stats = (this.#stats[host] ??= { connections: 1, commands: 0 });
    stats.commands++;
    const line = commandToShell(command);
    (this.log[host] ??= []).push(line);
    return new Promise((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', line], {
        cwd: target.home,
        env: { ...process.env, HOME: target.home, ...target.env },
        ...(target.uid !== undefined ? { uid: target.uid } : {}),
        ...(target.gid !== undefined ? { gid: target.gid } : {}),
      });
      let stdout = '';
      let stderr = '';
      const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => {
        child.kill('SIGKILL');
        reject(new TimeoutError(`${host}: command timed out after ${options.timeoutMs} ms`));
      }, options.timeoutMs);
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        options.onStdout?.(chunk);
      });
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
        options.onStderr?.(chunk);
      });
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(new HostError(host, `cannot run /bin/sh: ${error.message}`, { kind: 'error', cause: error }));
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? 255, stdout, stderr });
      });
      child.stdin.on('error', () => {}); // a command that exits without reading stdin closes the pipe early
      child.stdin.end(options.stdin ?? '');
    });
  }

  async upload(host: string, remotePath: string, content: string | Buffer, mode: number): Promise<void> {
    const target = this.#hosts(host);
    if (!target) throw new HostError(host, 'connect ECONNREFUSED (no such local host)', { kind: 'unreachable' });
    const path = remotePath.startsWith('/') ? remotePath : join(target.home, remotePath);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(`${path}.tmp`, '', { mode });
    await chmod(`${path}.tmp`, mode);
    await writeFile(`${path}.tmp`, content);
    await rename(`${path}.tmp`, path);
  }

  async close(): Promise<void> {}

  stats(): Readonly<Record<string, { connections: number; commands: number }>> {
    return structuredClone(this.#stats);
  }
}

/** A LocalRunner whose hosts are folders under root (made on first use), with their paths at hand. */
export interface ShellRunner extends Runner {
  /** Every command line run, per host, in order. */
  readonly log: Record<string, string[]>;
  /** The folder standing for a host's $HOME. */
  homeOf(host: string): string;
}

/**
 * A plain object, not the class itself, so that tests can wrap it with `{ ...runner, exec }`
 * (a spread keeps own properties only, never a class's methods).
 */
export function createShellRunner(root: string): ShellRunner {
  const homeOf = (host: string) => {
    const home = join(root, host);
    mkdirSync(home, { recursive: true });
    return home;
  };
  const runner = new LocalRunner((host) => ({ home: homeOf(host) }));
  return {
    log: runner.log,
    homeOf,
    exec: (host, command, options) => runner.exec(host, command, options),
    upload: (host, path, content, mode) => runner.upload(host, path, content, mode),
    close: () => runner.close(),
    stats: () => runner.stats(),
  };
}
