// The shells the host-side scripts are run in by these tests: dash (Debian's /bin/sh) and busybox
// sh (Alpine's; busybox comes with the bed's packages, test/bed/install-deps.sh).
import { spawnSync } from 'node:child_process';

export const SHELLS = [['dash'], ['busybox', 'sh']] as const;
export type Shell = (typeof SHELLS)[number];

/** Runs SCRIPT with `SHELL -c` (20 s at most); a shell that cannot be started throws. */
export function runInShell(shell: Shell, script: string, env?: NodeJS.ProcessEnv): { readonly code: number | null; readonly stdout: string; readonly stderr: string } {
  const result = spawnSync(shell[0], [...shell.slice(1), '-c', script], { encoding: 'utf8', timeout: 20_000, ...(env ? { env } : {}) });
  if (result.error) throw result.error;
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
