// Shared setup for the SSH integration tests: runner options isolated from the machine's own
// ~/.ssh (a temp home, no agent, a temp known_hosts) pointed at a test sshd.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SshRunnerOptions } from '../../../src/ssh/runner.ts';
import type { TestSshd } from '../../helpers/sshd.ts';

/** A temp local home; remove() deletes it. */
export function tempHome(): { path: string; knownHosts: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'mrsk-home-'));
  return { path, knownHosts: join(path, '.ssh', 'known_hosts'), remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Options that reach `sshd` with its client key and nothing from the real environment. */
export function optionsFor(sshd: TestSshd, home: string, overrides: SshRunnerOptions = {}): SshRunnerOptions {
  return {
    home,
    port: sshd.port,
    keys: [sshd.clientKeyPath],
    agentSocket: null,
    sshConfigFile: join(home, 'no-ssh-config'),
    ...overrides,
  };
}

/** The client port of an SSH session, from `$SSH_CONNECTION` (`client-ip client-port server-ip server-port`). */
export function clientPortOf(sshConnection: string): number {
  const port = Number(sshConnection.trim().split(' ')[1]);
  if (!Number.isInteger(port)) throw new Error(`not an SSH_CONNECTION value: ${sshConnection}`);
  return port;
}
