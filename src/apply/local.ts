// Runs commands on this machine (image build, push, local registry login) with argv, never a
// shell. Output can be streamed; secrets go through stdin or the environment, never argv.
import { spawn } from 'node:child_process';
import { RemoteCommandError } from '../errors.ts';
import { redact, type Secret } from '../secret.ts';

export interface LocalOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly stdin?: string;
  readonly cwd?: string;
  readonly onOutput?: (chunk: string) => void;
  readonly secrets?: readonly Secret[];
  readonly signal?: AbortSignal;
  /** Kill the command after this long; it then ends with code 124 and says so on stderr. */
  readonly timeoutMs?: number;
}

export interface LocalResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** How commands run on this machine: runLocalRaw, or a fake in tests. Never rejects on an exit code. */
export type LocalExec = (argv: readonly string[], options?: LocalOptions) => Promise<LocalResult>;

export function runLocalRaw(argv: readonly string[], options: LocalOptions = {}): Promise<LocalResult> {
  return new Promise((resolve, reject) => {
    const [program, ...args] = argv;
    if (!program) return reject(new Error('empty command'));
    const child = spawn(program, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      signal: options.signal,
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      options.onOutput?.(chunk);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      options.onOutput?.(chunk);
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (error.code === 'ENOENT') resolve({ code: 127, stdout, stderr: `${program}: command not found` });
      else reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (timedOut) resolve({ code: 124, stdout, stderr: `${stderr}${stderr && !stderr.endsWith('\n') ? '\n' : ''}${program}: no answer within ${Math.round(options.timeoutMs! / 1000)}s` });
      else resolve({ code: code ?? 255, stdout, stderr });
    });
    child.stdin.on('error', () => {}); // a command that exits without reading its input
    child.stdin.end(options.stdin ?? '');
  });
}

/** Runs a local command; non-zero exit → RemoteCommandError for host "local" (secrets redacted). */
export async function runLocal(argv: readonly string[], options: LocalOptions = {}, exec: LocalExec = runLocalRaw): Promise<LocalResult> {
  const result = await exec(argv, options);
  if (result.code !== 0) {
    const secrets = options.secrets ?? [];
    throw new RemoteCommandError('local', redact(argv.join(' '), secrets), result.code, redact(result.stderr || result.stdout, secrets));
  }
  return result;
}
