// Hooks: executable files run on this machine (never on a host) at fixed points of a command,
// with Kamal's KAMAL_* variables (and the same as MRSK_*). The pure part says which folder and
// file and which environment; runHook runs one and turns a failure into a HookError.
import { execFile, spawn } from 'node:child_process';
import { constants, existsSync, statSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Output } from '../cli/output.ts';
import type { Config } from '../config/types.ts';
import { DeployError } from '../errors.ts';

export const HOOK_NAMES = ['pre-connect', 'pre-build', 'pre-deploy', 'post-deploy', 'docker-setup', 'pre-proxy-reboot', 'post-proxy-reboot'] as const;
export type HookName = (typeof HOOK_NAMES)[number];

/** A hook failed (exit 1): the message names it, its exit code, and the end of what it wrote on stderr. */
export class HookError extends DeployError {}

/** What a hook is told about the command that runs it. */
export interface HookFacts {
  readonly service: string;
  readonly version?: string;
  readonly hosts: readonly string[];
  /** `deploy`, `setup`, `traefik`, … */
  readonly command: string;
  /** `reboot` for `traefik reboot`. */
  readonly subcommand?: string;
  readonly destination?: string;
  /** The roles --roles selected, comma-separated; absent without --roles. */
  readonly role?: string;
  /** Seconds the command took (post-deploy). */
  readonly runtime?: number;
  readonly recordedAt: Date;
  readonly performer: string;
}

/** Kamal's short form of a version for messages: the first 7 characters, unless it has a `_` (…_uncommitted_…). */
export function abbreviatedVersion(version: string): string {
  return version.includes('_') ? version : version.slice(0, 7);
}

/** The variables a hook gets: KAMAL_* as Kamal documents them, each also as MRSK_*; unset ones are left out. */
export function hookEnv(facts: HookFacts): Record<string, string> {
  const values: Record<string, string | undefined> = {
    RECORDED_AT: facts.recordedAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    PERFORMER: facts.performer,
    SERVICE: facts.service,
    VERSION: facts.version,
    SERVICE_VERSION: facts.version !== undefined ? `${facts.service}@${abbreviatedVersion(facts.version)}` : undefined,
    HOSTS: facts.hosts.join(','),
    COMMAND: facts.command,
    SUBCOMMAND: facts.subcommand,
    DESTINATION: facts.destination,
    ROLE: facts.role,
    RUNTIME: facts.runtime !== undefined ? String(Math.round(facts.runtime)) : undefined,
  };
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) continue;
    env[`KAMAL_${name}`] = value;
    env[`MRSK_${name}`] = value;
  }
  return env;
}

/**
 * The hooks folder: hooks_path (relative to the project root) when set, else `.kamal/hooks` when
 * that folder exists, else `.mrsk/hooks`.
 */
export function hooksFolder(root: string, hooksPath: string | undefined, isDirectory: (path: string) => boolean): string {
  if (hooksPath !== undefined) return isAbsolute(hooksPath) ? hooksPath : resolve(root, hooksPath);
  const kamal = join(root, '.kamal', 'hooks');
  return isDirectory(kamal) ? kamal : join(root, '.mrsk', 'hooks');
}

/** The last lines of a hook's stderr for an error message (at most `lines` lines and 2000 characters). */
export function stderrTail(stderr: string, lines = 10): string {
  const tail = stderr.replace(/\s+$/, '').split('\n').slice(-lines).join('\n');
  return tail.length > 2000 ? `…${tail.slice(-2000)}` : tail;
}

/** The message of a failed hook. Pure. */
export function hookFailure(name: HookName, file: string, code: number | null, signal: string | null, stderr: string, consequence: string): string {
  const how = code !== null ? `exit ${code}` : `killed by ${signal ?? 'a signal'}`;
  const tail = stderrTail(stderr);
  return `the ${name} hook (${file}) failed (${how}), ${consequence}${tail ? `. It said:\n${tail.split('\n').map((line) => `  ${line}`).join('\n')}` : ' (it wrote nothing on stderr)'}`;
}

/** What a failing hook means for the command, said in its error. */
export function consequenceOf(name: HookName): string {
  switch (name) {
    case 'pre-connect':
      return 'so nothing was built and no host was contacted';
    case 'pre-build':
      return 'so nothing was built and no host was changed';
    case 'pre-deploy':
      return 'so no host was changed';
    case 'docker-setup':
      return 'so nothing was deployed';
    case 'pre-proxy-reboot':
      return 'so Traefik was not touched';
    case 'post-deploy':
      return 'after the deploy (it stays deployed)';
    case 'post-proxy-reboot':
      return 'after Traefik was rebooted';
  }
}

const run = promisify(execFile);

/** The local user a hook names as performer: `git config user.email`, else the login name (Kamal's rule). */
export async function performer(cwd: string): Promise<string> {
  try {
    const email = (await run('git', ['config', 'user.email'], { cwd, encoding: 'utf8' })).stdout.trim();
    if (email) return email;
  } catch {
    // not set, or not a repository
  }
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

/** Where and how runHook runs. */
export interface HookRun {
  /** The project root (hooks run there; hooks_path is relative to it). */
  readonly root: string;
  readonly hooksPath?: string;
  readonly out: Output;
  readonly signal?: AbortSignal;
  /** --skip-hooks */
  readonly skip?: boolean;
  /** The environment the hook inherits (default process.env); mrsk adds the KAMAL_/MRSK_ variables and no secret. */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Runs the hook NAME when its file exists: stdout and stderr go to the verbose output (-v), and
 * the end of stderr is in the error when it fails. Returns whether it ran. A file that is not executable is an error, not a
 * skip (a pre-deploy gate must never be silently passed over).
 */
export async function runHook(name: HookName, facts: Omit<HookFacts, 'recordedAt' | 'performer'> & Partial<Pick<HookFacts, 'recordedAt' | 'performer'>>, how: HookRun): Promise<boolean> {
  if (how.skip) return false;
  const folder = hooksFolder(how.root, how.hooksPath, (path) => existsSync(path) && statSync(path).isDirectory());
  const file = join(folder, name);
  if (!existsSync(file)) return false;
  const shown = relative(how.root, file) || file;
  try {
    await access(file, constants.X_OK);
  } catch {
    throw new HookError(`the ${name} hook (${shown}) is not executable: \`chmod +x ${shown}\`, rename it (e.g. ${name}.sample) to leave it out, or run with --skip-hooks`);
  }
  const env = { ...(how.env ?? process.env), ...hookEnv({ recordedAt: new Date(), performer: facts.performer ?? (await performer(how.root)), ...facts }) };
  how.out.info(`Running the ${name} hook (${shown})…`);
  const started = Date.now();
  const { code, signal, stderr } = await new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolvePromise, reject) => {
    const child = spawn(file, [], { cwd: how.root, env, stdio: ['ignore', 'pipe', 'pipe'], signal: how.signal });
    let err = '';
    let lineBuffer = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      lineBuffer += chunk;
      const lines = lineBuffer.split('\n');
      lineBuffer = lines.pop()!;
      for (const line of lines) how.out.debug(`${name}: ${line}`);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      err += chunk;
      for (const line of chunk.replace(/\n$/, '').split('\n')) how.out.debug(`${name}: ${line}`);
      if (err.length > 64 * 1024) err = err.slice(-32 * 1024); // only the tail is ever shown
    });
    child.on('error', (error) => reject(error));
    child.on('close', (exitCode, exitSignal) => {
      if (lineBuffer) how.out.debug(`${name}: ${lineBuffer}`);
      resolvePromise({ code: exitCode, signal: exitSignal, stderr: err });
    });
  }).catch((error: NodeJS.ErrnoException) => {
    if (how.signal?.aborted) throw error;
    throw new HookError(`the ${name} hook (${shown}) could not be started: ${error.code ?? error.message} (a script needs a #! line, e.g. #!/bin/sh)`);
  });
  if (code !== 0) throw new HookError(hookFailure(name, shown, code, signal, stderr, consequenceOf(name)));
  how.out.info(`The ${name} hook passed (${((Date.now() - started) / 1000).toFixed(1)}s)`);
  return true;
}

/** The facts of one command, bound once; each call runs one hook with extra facts (post-deploy: runtime). */
export type CommandHooks = (name: HookName, extra?: Partial<Omit<HookFacts, 'recordedAt' | 'performer' | 'service' | 'destination'>>) => Promise<boolean>;

/** Binds the hooks of one command run: its config, output, --skip-hooks, and what it is about. */
export function commandHooks(
  config: Pick<Config, 'root' | 'hooksPath' | 'service' | 'destination'>,
  how: { readonly out: Output; readonly signal?: AbortSignal; readonly skip?: boolean },
  facts: Omit<HookFacts, 'recordedAt' | 'performer' | 'service' | 'destination'>,
): CommandHooks {
  return (name, extra = {}) =>
    runHook(
      name,
      { service: config.service, ...(config.destination ? { destination: config.destination } : {}), ...facts, ...extra },
      { root: config.root, hooksPath: config.hooksPath, out: how.out, signal: how.signal, skip: how.skip },
    );
}
