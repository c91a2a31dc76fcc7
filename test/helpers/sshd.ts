// Starts a real OpenSSH sshd (Debian's openssh-server) on 127.0.0.1 for integration tests:
// its own config, host key, authorized_keys and log in a temp dir, a random free port, and a
// generated client key pair. Needs root (sshd's privilege separation); stop() always cleans up.
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SSHD = '/usr/sbin/sshd';

/** A running test sshd. */
export interface TestSshd {
  readonly port: number;
  /** `SHA256:…` of the host key, as ssh-keygen -l prints it. */
  readonly hostKeyFingerprint: string;
  /** The host public key line (`ssh-ed25519 AAAA… comment`), for writing known_hosts files. */
  readonly hostPublicKey: string;
  /** A private key (unencrypted, ed25519) whose public half is authorized for every user. */
  readonly clientKeyPath: string;
  /** The temp dir holding config, keys and log (removed by stop()). */
  readonly dir: string;
  readonly logFile: string;
  /** The sshd log so far. */
  log(): string;
  /** Polls the log until it matches (or throws after timeoutMs). */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Authorizes another public key line. */
  authorize(publicKeyLine: string): void;
  /** Stops sshd (and its sessions) and deletes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

/** Options for startSshd. */
export interface SshdOptions {
  /** sshd LogLevel (default VERBOSE: connections, auth and disconnects are logged). */
  readonly logLevel?: 'VERBOSE' | 'DEBUG1' | 'DEBUG2';
  /** Extra sshd_config lines. */
  readonly extraConfig?: string;
}

/** Starts sshd on a free loopback port and waits until it listens. */
export async function startSshd(options: SshdOptions = {}): Promise<TestSshd> {
  const dir = mkdtempSync(join(tmpdir(), 'mrsk-sshd-'));
  let child: ChildProcess | undefined;
  try {
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // sshd's privilege-separation chroot
    const hostKey = join(dir, 'ssh_host_ed25519_key');
    const clientKeyPath = join(dir, 'client_ed25519');
    await Promise.all([generateKey(hostKey, 'test-host'), generateKey(clientKeyPath, 'test-client')]);
    const hostPublicKey = readFileSync(`${hostKey}.pub`, 'utf8').trim();
    const hostKeyFingerprint = await fingerprintOf(`${hostKey}.pub`);
    const authorizedKeys = join(dir, 'authorized_keys');
    writeFileSync(authorizedKeys, readFileSync(`${clientKeyPath}.pub`, 'utf8'), { mode: 0o600 });
    const logFile = join(dir, 'sshd.log');

    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const configFile = join(dir, 'sshd_config');
      writeFileSync(
        configFile,
        [
          `Port ${port}`,
          'ListenAddress 127.0.0.1',
          `HostKey ${hostKey}`,
          `AuthorizedKeysFile ${authorizedKeys}`,
          `PidFile ${join(dir, 'sshd.pid')}`,
          'StrictModes no',
          'UsePAM no',
          'PermitRootLogin prohibit-password',
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          'PrintMotd no',
          'AllowTcpForwarding yes',
          `LogLevel ${options.logLevel ?? 'VERBOSE'}`,
          options.extraConfig ?? '',
          '',
        ].join('\n'),
      );
      writeFileSync(logFile, '');
      child = spawn(SSHD, ['-D', '-f', configFile, '-E', logFile], { stdio: 'ignore' });
      const started = child;
      // Safety net: a test process that dies without running its after() hooks leaves no sshd behind.
      process.once('exit', () => {
        if (started.exitCode === null) started.kill('SIGKILL');
      });
      const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
      const listening = waitFor(() => /Server listening on 127\.0\.0\.1 port/.test(readFileSync(logFile, 'utf8')), 10_000);
      const outcome = await Promise.race([listening.then(() => 'up' as const), exited.then(() => 'exited' as const)]);
      if (outcome === 'up') {
        return makeHandle({ port, dir, logFile, hostPublicKey, hostKeyFingerprint, clientKeyPath, child, exited });
      }
      const log = readFileSync(logFile, 'utf8');
      if (attempt >= 3 || !/Address already in use/.test(log)) throw new Error(`sshd did not start:\n${log}`);
    }
  } catch (error) {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

function makeHandle(parts: {
  port: number;
  dir: string;
  logFile: string;
  hostPublicKey: string;
  hostKeyFingerprint: string;
  clientKeyPath: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}): TestSshd {
  let stopping: Promise<void> | undefined;
  const log = () => (existsSync(parts.logFile) ? readFileSync(parts.logFile, 'utf8') : '');
  return {
    port: parts.port,
    hostKeyFingerprint: parts.hostKeyFingerprint,
    hostPublicKey: parts.hostPublicKey,
    clientKeyPath: parts.clientKeyPath,
    dir: parts.dir,
    logFile: parts.logFile,
    log,
    async waitForLog(pattern, timeoutMs = 5_000) {
      await waitFor(() => pattern.test(log()), timeoutMs).catch(() => {
        throw new Error(`sshd log never matched ${pattern}:\n${log()}`);
      });
      return log();
    },
    authorize(publicKeyLine) {
      writeFileSync(join(parts.dir, 'authorized_keys'), `${publicKeyLine.trim()}\n`, { flag: 'a' });
    },
    stop() {
      stopping ??= (async () => {
        if (parts.child.exitCode === null && parts.child.signalCode === null) {
          parts.child.kill('SIGTERM');
          const timer = setTimeout(() => parts.child.kill('SIGKILL'), 3_000);
          await parts.exited;
          clearTimeout(timer);
        }
        rmSync(parts.dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

/** Generates an unencrypted (or passphrase-protected) ed25519 key pair at path / path.pub. */
export async function generateKey(path: string, comment: string, passphrase = ''): Promise<void> {
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', comment, '-f', path]);
}

/** `SHA256:…` of a public key file, from ssh-keygen itself (the reference the code is checked against). */
export async function fingerprintOf(publicKeyPath: string): Promise<string> {
  const { stdout } = await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', publicKeyPath]);
  const fingerprint = stdout.split(/\s+/)[1];
  if (!fingerprint?.startsWith('SHA256:')) throw new Error(`unexpected ssh-keygen output: ${stdout}`);
  return fingerprint;
}

/** A TCP port on 127.0.0.1 that was free a moment ago (nothing listens on it now). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
