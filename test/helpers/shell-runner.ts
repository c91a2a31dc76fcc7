// A Runner that runs commands with this machine's /bin/sh, in a folder that stands for the SSH
// user's home on a host — the same shell lines the SSH runner would send. For testing the remote
// scripts (lock, audit, uploads) for real without a server; docker commands need a real host.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFile, chmod, rename } from 'node:fs/promises';
import { commandToShell } from '../../src/ssh/quote.ts';
import type { Command, ExecOptions, ExecResult, Runner } from '../../src/ssh/types.ts';

export interface ShellRunner extends Runner {
  /** Every command line run, per host, in order. */
  readonly log: Record<string, string[]>;
  homeOf(host: string): string;
}

export function createShellRunner(root: string): ShellRunner {
  const log: Record<string, string[]> = {};
  const homeOf = (host: string) => {
    const home = join(root, host);
    mkdirSync(home, { recursive: true });
    return home;
  };
  return {
    log,
    homeOf,
    exec(host: string, command: Command, options: ExecOptions = {}): Promise<ExecResult> {
      const line = commandToShell(command);
      (log[host] ??= []).push(line);
      return new Promise((resolve, reject) => {
        const child = spawn('/bin/sh', ['-c', line], { cwd: homeOf(host), env: { ...process.env, HOME: homeOf(host) } });
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
        child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code: code ?? 255, stdout, stderr }));
        // a script that exits without reading its input is fine, as over SSH
        child.stdin.on('error', () => {});
        child.stdin.end(options.stdin ?? '');
      });
    },
    async upload(host: string, remotePath: string, content: string | Buffer, mode: number): Promise<void> {
      const path = remotePath.startsWith('/') ? remotePath : join(homeOf(host), remotePath);
      mkdirSync(dirname(path), { recursive: true });
      await writeFile(`${path}.tmp`, content, { mode });
      await chmod(`${path}.tmp`, mode);
      await rename(`${path}.tmp`, path);
    },
    async close() {},
    stats: () => ({}),
  };
}
