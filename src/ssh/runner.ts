// The SSH transport: a Runner over ssh2 with one reused connection per host.
//
// This file only assembles the parts; each keeps its own policies:
// - host-slots.ts: one connection per host for the run, at most maxConcurrentHosts (30) hosts
//   connected at once (the least recently used idle one gives way), at most
//   maxChannelsPerConnection (8) channels in flight on each (OpenSSH allows MaxSessions = 10).
// - connect.ts: where and as whom (options, then ~/.ssh/config), one bastion hop shared by all
//   hosts (it holds no slot); host-key-policy.ts checks every host key against known_hosts (ssh2
//   would accept any key otherwise); auth.ts picks the keys and words connect failures.
// - channel.ts: one command per channel, with timeouts, kills that reach the remote process, the
//   output cap (maxOutputBytes, 16 MiB), and EOF on stdin unless `stdin` is given.
// - argv → one shell line only through src/shell/quote.ts. Scripts run under `sh -c` (see commandToShell).
import { homedir } from 'node:os';
import { posix } from 'node:path';
import { randomBytes } from 'node:crypto';
import { AbortedError, InternalError, RemoteCommandError } from '../errors.ts';
import type { Secret } from '../secret.ts';
import { runChannel, DEFAULT_MAX_OUTPUT_BYTES } from './channel.ts';
import type { ChannelDefaults, Terminal } from './channel.ts';
import { Connector, endClient } from './connect.ts';
import type { SshClient } from './connect.ts';
import { HostKeyPolicy } from './host-key-policy.ts';
import { HostSlots } from './host-slots.ts';
import { display } from './messages.ts';
import { expandTilde } from './openssh-config.ts';
import { commandToShell, shq } from '../shell/quote.ts';
import type { Command, ExecOptions, ExecResult, Runner } from './types.ts';

export { DEFAULT_MAX_OUTPUT_BYTES } from './channel.ts';
export type { Terminal } from './channel.ts';

/** How the SSH runner connects and how far it goes at once. Every field has a default. */
export interface SshRunnerOptions {
  /** Remote user; default: `User` from ~/.ssh/config, else root. */
  readonly user?: string;
  /** Remote port; default: `Port` from ~/.ssh/config, else 22. */
  readonly port?: number;
  /** Bastion `user@host[:port]`; default: `ProxyJump` from ~/.ssh/config for the host. */
  readonly proxy?: string;
  /** Private key files tried after the agent, before ~/.ssh/config IdentityFile and the default keys. */
  readonly keys?: readonly string[];
  /**
   * Private keys held in memory (ssh.key_data), tried first: never written to disk, never printed
   * (a Secret's name is what messages show).
   */
  readonly keyData?: readonly Secret[];
  /**
   * known_hosts lines given as content (ssh.known_hosts): used instead of knownHostsFile, never
   * written to; a host not listed is refused unless strictHostKeyChecking is 'false'.
   */
  readonly knownHosts?: Secret;
  /** accept-new (default): record unknown hosts, refuse changed keys; true: refuse unknown too; false: accept any key. */
  readonly strictHostKeyChecking?: 'accept-new' | 'true' | 'false';
  /** Default ~/.ssh/known_hosts. */
  readonly knownHostsFile?: string;
  /** Default ~/.ssh/config (a missing file is fine). */
  readonly sshConfigFile?: string;
  /** Hosts connected at once (default 30). */
  readonly maxConcurrentHosts?: number;
  /** Channels in flight per connection (default 8; OpenSSH allows 10). */
  readonly maxChannelsPerConnection?: number;
  /** TCP connect + handshake + auth (default 10 s). */
  readonly connectTimeoutMs?: number;
  /** Per command unless ExecOptions.timeoutMs says otherwise (default 300 s; pty commands have none by default). */
  readonly commandTimeoutMs?: number;
  /** Bytes of stdout + stderr read from one command unless ExecOptions.maxOutputBytes says otherwise (default 16 MiB). */
  readonly maxOutputBytes?: number;
  /** SSH keepalive interval (default 15 s; 3 missed → the connection is dropped). */
  readonly keepaliveIntervalMs?: number;
  /** Passphrase for encrypted keys; default env MRSK_SSH_PASSPHRASE. */
  readonly passphrase?: Secret;
  /** ssh-agent socket; default env SSH_AUTH_SOCK; null: do not use an agent. */
  readonly agentSocket?: string | null;
  /** Local home directory for `~` and the default keys (default os.homedir()). */
  readonly home?: string;
  /** Called after accept-new recorded a host's key in known_hosts. */
  readonly onHostKeyLearned?: (host: string, fingerprint: string) => void;
  /** Where pty commands read and write (default process.stdin / process.stdout). */
  readonly terminal?: Terminal;
}

/** A Runner over SSH (see the policies at the top of this file). Call close() at the end of a run. */
export function createSshRunner(options: SshRunnerOptions = {}): Runner {
  return new SshRunner(options);
}

class SshRunner implements Runner {
  readonly commandTimeoutMs: number;
  readonly #channelDefaults: ChannelDefaults;
  readonly #connector: Connector;
  readonly #slots: HostSlots<SshClient>;
  readonly #stats = new Map<string, { connections: number; commands: number }>();
  #closing: Promise<void> | undefined;

  constructor(options: SshRunnerOptions) {
    const home = options.home ?? homedir();
    this.commandTimeoutMs = options.commandTimeoutMs ?? 300_000;
    this.#channelDefaults = {
      commandTimeoutMs: this.commandTimeoutMs,
      maxOutputBytes: options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
      terminal: options.terminal,
    };
    this.#connector = new Connector({
      user: options.user,
      port: options.port,
      proxy: options.proxy,
      sshConfigFile: options.sshConfigFile,
      keepaliveIntervalMs: options.keepaliveIntervalMs,
      home,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      auth: { home, agentSocket: options.agentSocket, passphrase: options.passphrase, keys: options.keys, keyData: options.keyData },
      hostKeys: new HostKeyPolicy({
        knownHosts: options.knownHosts,
        strictHostKeyChecking: options.strictHostKeyChecking,
        knownHostsFile: expandTilde(options.knownHostsFile ?? '~/.ssh/known_hosts', home),
        home,
        onHostKeyLearned: options.onHostKeyLearned,
      }),
    });
    this.#slots = new HostSlots<SshClient>({
      maxHosts: options.maxConcurrentHosts ?? 30,
      maxChannels: options.maxChannelsPerConnection ?? 8,
      open: async (host, onDown) => {
        const client = await this.#connector.open(host, onDown);
        this.#statsFor(host).connections++;
        return client;
      },
      endAndWait: endClient,
    });
    if (!(this.#channelDefaults.maxOutputBytes > 0)) throw new RangeError('maxOutputBytes must be positive');
  }

  async exec(host: string, command: Command, options: ExecOptions = {}): Promise<ExecResult> {
    const line = commandToShell(command);
    if (options.signal?.aborted) throw new AbortedError(`${host}: \`${display(line)}\` aborted before it started`);
    return this.#slots.use(host, async (connection) => {
      const client = await connection.ready;
      await connection.channels.acquire();
      let releaseChannel: () => void = () => connection.channels.release();
      const channelDone = () => {
        releaseChannel();
        releaseChannel = () => {};
      };
      try {
        this.#statsFor(host).commands++;
        return await runChannel(connection, client, line, options, channelDone, this.#channelDefaults);
      } catch (error) {
        channelDone();
        throw error;
      }
    });
  }

  async upload(host: string, remotePath: string, content: string | Buffer, mode: number): Promise<void> {
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new InternalError(`invalid file mode ${mode}`);
    if (remotePath === '' || remotePath.endsWith('/')) throw new InternalError(`upload needs a file path, got "${remotePath}"`);
    // Content travels on stdin, never argv (secrets); umask 077 makes the file 0600 before a byte is written.
    const temporary = `${remotePath}.${randomBytes(4).toString('hex')}.tmp`;
    const script = [
      'umask 077',
      `mkdir -p ${shq(posix.dirname(remotePath))} && cat > ${shq(temporary)} && chmod ${mode.toString(8).padStart(4, '0')} ${shq(temporary)} && mv -f ${shq(temporary)} ${shq(remotePath)} || { rm -f ${shq(temporary)}; exit 1; }`,
    ].join('\n');
    const result = await this.exec(host, { script }, { stdin: content });
    if (result.code !== 0) throw new RemoteCommandError(host, `upload ${remotePath}`, result.code, result.stderr);
  }

  close(): Promise<void> {
    // Hosts first: their connections run through the bastions.
    this.#closing ??= this.#slots.close().then(() => this.#connector.close());
    return this.#closing;
  }

  stats(): Readonly<Record<string, { connections: number; commands: number }>> {
    return Object.fromEntries([...this.#stats].map(([host, counts]) => [host, { ...counts }]));
  }

  #statsFor(host: string) {
    let counts = this.#stats.get(host);
    if (!counts) {
      counts = { connections: 0, commands: 0 };
      this.#stats.set(host, counts);
    }
    return counts;
  }
}
