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
}

export interface LocalResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

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
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      options.onOutput?.(chunk);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      options.onOutput?.(chunk);
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') resolve({ code: 127, stdout, stderr: `${program}: command not found` });
      else reject(error);
    });
    child.on('close', (code) => resolve({ code: code ?? 255, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}

/** Runs a local command; non-zero exit → RemoteCommandError for host "local" (secrets redacted). */
export async function runLocal(argv: readonly string[], options: LocalOptions = {}): Promise<LocalResult> {
  const result = await runLocalRaw(argv, options);
  if (result.code !== 0) {
    const secrets = options.secrets ?? [];
    throw new RemoteCommandError('local', redact(argv.join(' '), secrets), result.code, redact(result.stderr || result.stdout, secrets));
  }
  return result;
}
