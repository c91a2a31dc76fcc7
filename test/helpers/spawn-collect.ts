// Runs a process to its end and collects what it printed: the one way the CLI tests spawn the
// real bin (or npm), so each test states only its command line and environment.
import { spawn, type SpawnOptions } from 'node:child_process';

/** What a finished process left: its exit code (null when killed by a signal) and its output. */
export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function spawnCollect(command: string, args: readonly string[], options: SpawnOptions): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk) => (stdout += chunk));
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
