// The SSH transport: a Runner over ssh2 with one reused connection per host.
//
// Policies (why they are what they are):
// - One connection per host for a whole run, opened on first use; concurrent first calls share
//   one connect. A no-op `mrsk plan` therefore costs one TCP+SSH handshake per host.
// - At most maxChannelsPerConnection (8) channels in flight per connection: OpenSSH refuses
//   more than MaxSessions (10) and the refusal sticks until reconnect.
// - A host holds one of maxConcurrentHosts slots while its connection is open or opening. When
//   every slot is taken and another host needs one, the least recently used *idle* connection
//   (no command in flight) is closed to make room; otherwise the host waits for one to go idle.
//   So with ≤ maxConcurrentHosts hosts nothing is ever reconnected. The bastion connection is
//   shared by all hosts and holds no slot.
// - Host keys are checked against known_hosts (ssh2 would accept any key otherwise).
// - argv → one shell line only through quote.ts. Scripts run under `sh -c` (see commandToShell).
// - Commands get EOF on stdin unless `stdin` is given, so nothing can hang reading it.
// - What mrsk reads from one command is capped (maxOutputBytes, default 16 MiB of stdout + stderr):
//   past the cap the command is killed and fails with OutputLimitError naming host and cap, so a
//   broken or hostile host (a `docker` printing without end) cannot exhaust mrsk's memory. The
//   largest legitimate outputs (a probe of a host with hundreds of containers) are a few MiB.
import ssh2 from 'ssh2';
import type { AnyAuthMethod, AuthenticationType, ClientChannel, ConnectConfig, NextAuthHandler } from 'ssh2';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { randomBytes } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import type { Readable, Writable } from 'node:stream';
import { AbortedError, ConfigError, HostError, HostKeyError, InternalError, OutputLimitError, RemoteCommandError, TimeoutError } from '../errors.ts';
import type { HostErrorKind } from '../errors.ts';
import type { Config } from '../config/types.ts';
import { Secret } from '../secret.ts';
import { commandToShell, shq } from './quote.ts';
import {
  checkHostKey,
  fingerprintSha256,
  knownHostsLine,
  knownHostsName,
  knownKeyTypes,
  parseKnownHosts,
} from './known-hosts.ts';
import { expandTilde, parseJumpSpec, resolveOpenSshHost } from './openssh-config.ts';
import type { JumpSpec, OpenSshHostSettings } from './openssh-config.ts';
import { Semaphore } from './semaphore.ts';
import type { Command, ExecOptions, ExecResult, Runner } from './types.ts';

const { Client, utils } = ssh2;
type SshClient = InstanceType<typeof Client>;

/** The local terminal an interactive (pty) command is wired to. */
export interface Terminal {
  readonly stdin: Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  readonly stdout: Writable & { columns?: number; rows?: number; on(event: 'resize', listener: () => void): unknown };
}

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

/** SshRunnerOptions from the normalized config. ssh.user root / port 22 are the defaults, so they leave ~/.ssh/config in charge. */
export function sshRunnerOptionsFromConfig(config: Config): SshRunnerOptions {
  const ssh = config.ssh;
  const passphrase = process.env.MRSK_SSH_PASSPHRASE;
  return {
    ...(ssh.user !== 'root' ? { user: ssh.user } : {}),
    ...(ssh.port !== 22 ? { port: ssh.port } : {}),
    ...(ssh.proxy !== undefined ? { proxy: ssh.proxy } : {}),
    keys: ssh.keys.map((key) => (key.startsWith('~') || key.startsWith('/') ? key : join(config.root, key))),
    strictHostKeyChecking: ssh.strictHostKeyChecking,
    ...(ssh.keyData.length > 0 ? { keyData: checkedKeyData(config, passphrase) } : {}),
    ...(ssh.knownHosts !== undefined ? { knownHosts: ssh.knownHosts } : {}),
    ...(ssh.knownHostsFile !== undefined ? { knownHostsFile: ssh.knownHostsFile } : {}),
    ...(ssh.configFile !== undefined ? { sshConfigFile: ssh.configFile } : {}),
    maxConcurrentHosts: ssh.maxConcurrent,
    connectTimeoutMs: ssh.connectTimeout * 1000,
    commandTimeoutMs: ssh.commandTimeout * 1000,
    keepaliveIntervalMs: ssh.keepaliveInterval * 1000,
    ...(passphrase ? { passphrase: new Secret('MRSK_SSH_PASSPHRASE', passphrase) } : {}),
  };
}

/**
 * The ssh.key_data keys, each checked before any connection: a key that cannot be parsed (or
 * decrypted) is a config error naming the secret, never showing its value (exit 78).
 */
function checkedKeyData(config: Config, passphrase: string | undefined): readonly Secret[] {
  const problems = config.ssh.keyData.flatMap((key, index) => {
    const parsed = utils.parseKey(key.reveal(), passphrase);
    if (!(parsed instanceof Error)) return [];
    const what = /^ssh\.key_data\[/.test(key.name) ? 'the key text' : `secret ${key.name}`;
    const why = /passphrase|encrypted/i.test(parsed.message)
      ? passphrase
        ? 'it could not be decrypted with MRSK_SSH_PASSPHRASE'
        : 'it is encrypted: set MRSK_SSH_PASSPHRASE (a secret in CI) or give an unencrypted key'
      : `it is not a private key ssh can use (${redactKey(parsed.message, key)}); give the whole key file's text, BEGIN and END lines included`;
    return [{ file: config.file, path: `ssh.key_data[${index}]`, message: `${what}: ${why}` }];
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return config.ssh.keyData;
}

// A parser message never quotes the key today; this keeps it so if one ever did.
function redactKey(message: string, key: Secret): string {
  return key.reveal().split('\n').reduce((text, line) => (line.trim().length >= 8 ? text.split(line.trim()).join('[REDACTED]') : text), message);
}

/** A Runner over SSH (see the policies at the top of this file). Call close() at the end of a run. */
export function createSshRunner(options: SshRunnerOptions = {}): Runner {
  return new SshRunner(options);
}

/** Where and as whom to connect for one configured host name. */
interface Target {
  readonly host: string; // as named in the config (an ~/.ssh/config alias maybe)
  readonly hostName: string;
  readonly port: number;
  readonly user: string;
  readonly identityFiles: readonly string[];
  readonly jump?: JumpSpec;
}

interface HostConnection {
  readonly host: string;
  ready: Promise<SshClient>;
  client?: SshClient;
  readonly channels: Semaphore;
  /** Commands in flight or waiting for a channel. */
  busy: number;
  lastUsed: number;
  closed: boolean;
  /** Rejects the in-flight commands when the connection drops. */
  readonly inFlight: Set<(error: Error) => void>;
}

const DEFAULT_HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNRESET',
  'EPIPE',
  'EADDRNOTAVAIL',
]);

/** Default cap on what mrsk reads from one host command (stdout + stderr). */
export const DEFAULT_MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

class SshRunner implements Runner {
  readonly commandTimeoutMs: number;
  readonly #options: SshRunnerOptions;
  readonly #home: string;
  readonly #knownHostsFile: string;
  readonly #maxHosts: number;
  readonly #maxChannels: number;
  readonly #connectTimeoutMs: number;
  readonly #commandTimeoutMs: number;
  readonly #maxOutputBytes: number;
  readonly #connections = new Map<string, HostConnection>();
  /** Connections holding a host slot (open or opening). */
  readonly #slotHolders = new Set<HostConnection>();
  readonly #slotWaiters: Array<() => void> = [];
  readonly #bastions = new Map<string, Promise<SshClient>>();
  readonly #bastionClients = new Set<SshClient>();
  readonly #stats = new Map<string, { connections: number; commands: number }>();
  #sshConfigText: string | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: SshRunnerOptions) {
    this.#options = options;
    this.#home = options.home ?? homedir();
    this.#knownHostsFile = expandTilde(options.knownHostsFile ?? '~/.ssh/known_hosts', this.#home);
    this.#maxHosts = options.maxConcurrentHosts ?? 30;
    this.#maxChannels = options.maxChannelsPerConnection ?? 8;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.#commandTimeoutMs = options.commandTimeoutMs ?? 300_000;
    this.commandTimeoutMs = this.#commandTimeoutMs;
    this.#maxOutputBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    if (this.#maxHosts < 1) throw new RangeError('maxConcurrentHosts must be at least 1');
    if (!(this.#maxOutputBytes > 0)) throw new RangeError('maxOutputBytes must be positive');
  }

  async exec(host: string, command: Command, options: ExecOptions = {}): Promise<ExecResult> {
    const line = commandToShell(command);
    if (options.signal?.aborted) throw new AbortedError(`${host}: \`${display(line)}\` aborted before it started`);
    const connection = this.#connectionFor(host);
    connection.busy++;
    try {
      const client = await connection.ready;
      await connection.channels.acquire();
      let releaseChannel: () => void = () => connection.channels.release();
      const channelDone = () => {
        releaseChannel();
        releaseChannel = () => {};
      };
      try {
        this.#statsFor(host).commands++;
        return await this.#runChannel(connection, client, line, options, channelDone);
      } catch (error) {
        channelDone();
        throw error;
      }
    } finally {
      connection.busy--;
      connection.lastUsed = Date.now();
      if (connection.busy === 0) this.#maybeYieldSlot(connection);
    }
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
    this.#closing ??= this.#closeAll();
    return this.#closing;
  }

  stats(): Readonly<Record<string, { connections: number; commands: number }>> {
    return Object.fromEntries([...this.#stats].map(([host, counts]) => [host, { ...counts }]));
  }

  // ---- connections -------------------------------------------------------------------------

  #connectionFor(host: string): HostConnection {
    if (this.#closing) throw new HostError(host, 'the SSH runner is closed', { kind: 'error' });
    const existing = this.#connections.get(host);
    if (existing && !existing.closed) return existing;
    const connection: HostConnection = {
      host,
      ready: Promise.resolve() as unknown as Promise<SshClient>,
      channels: new Semaphore(this.#maxChannels),
      busy: 0,
      lastUsed: Date.now(),
      closed: false,
      inFlight: new Set(),
    };
    this.#connections.set(host, connection);
    connection.ready = this.#open(connection);
    connection.ready.catch(() => {}); // the caller of exec sees the error; avoid an unhandled rejection here
    return connection;
  }

  async #open(connection: HostConnection): Promise<SshClient> {
    await this.#acquireSlot(connection);
    try {
      if (this.#closing) throw new HostError(connection.host, 'the SSH runner is closed', { kind: 'error' });
      const target = this.#resolveTarget(connection.host);
      const sock = target.jump ? await this.#forwardThroughBastion(target) : undefined;
      const client = await this.#connect(target, sock, (client) => this.#onConnectionDown(connection, client));
      connection.client = client;
      this.#statsFor(connection.host).connections++;
      if (connection.closed) {
        client.end(); // close() or a drop happened while connecting
        throw new HostError(connection.host, 'the SSH runner is closed', { kind: 'error' });
      }
      return client;
    } catch (error) {
      this.#markConnectionDown(connection);
      throw error;
    }
  }

  #onConnectionDown(connection: HostConnection, client: SshClient): void {
    if (connection.client !== undefined && connection.client !== client) return;
    const lost = new HostError(connection.host, 'the SSH connection was closed', { kind: 'unreachable' });
    for (const reject of connection.inFlight) reject(lost);
    this.#markConnectionDown(connection);
  }

  #markConnectionDown(connection: HostConnection): void {
    if (connection.closed && !this.#slotHolders.has(connection)) return;
    connection.closed = true;
    if (this.#connections.get(connection.host) === connection) this.#connections.delete(connection.host);
    if (this.#slotHolders.delete(connection)) this.#slotWaiters.shift()?.();
  }

  async #acquireSlot(connection: HostConnection): Promise<void> {
    for (;;) {
      if (this.#closing) throw new HostError(connection.host, 'the SSH runner is closed', { kind: 'error' });
      if (this.#slotHolders.size < this.#maxHosts) {
        this.#slotHolders.add(connection);
        return;
      }
      const idle = this.#leastRecentlyUsedIdle();
      if (idle) {
        idle.client?.end();
        this.#markConnectionDown(idle);
        continue;
      }
      await new Promise<void>((resolve) => this.#slotWaiters.push(resolve));
    }
  }

  #leastRecentlyUsedIdle(): HostConnection | undefined {
    let best: HostConnection | undefined;
    for (const holder of this.#slotHolders) {
      if (holder.busy > 0 || holder.client === undefined || holder.closed) continue;
      if (!best || holder.lastUsed < best.lastUsed) best = holder;
    }
    return best;
  }

  // Runs after a host's last command finished. setImmediate lets the same host's next command
  // (awaited right after this one) keep the connection before it is given away.
  #maybeYieldSlot(connection: HostConnection): void {
    if (this.#slotWaiters.length === 0) return;
    setImmediate(() => {
      if (connection.busy > 0 || connection.closed || this.#slotWaiters.length === 0) return;
      connection.client?.end();
      this.#markConnectionDown(connection);
    });
  }

  #resolveTarget(host: string): Target {
    const settings = this.#openSshSettings(host);
    const user = this.#options.user ?? settings.user ?? 'root';
    const proxy = this.#options.proxy ?? settings.proxyJump;
    let jump: JumpSpec | undefined;
    if (proxy !== undefined) {
      if (proxy.includes(',')) throw new HostError(host, `multi-hop proxy "${proxy}" is not supported; use one bastion`, { kind: 'error' });
      jump = parseJumpSpec(proxy);
      if (!jump) throw new HostError(host, `invalid ssh proxy "${proxy}": expected user@host[:port]`, { kind: 'error' });
    }
    return {
      host,
      hostName: settings.hostName,
      port: this.#options.port ?? settings.port ?? 22,
      user,
      identityFiles: settings.identityFiles,
      ...(jump ? { jump } : {}),
    };
  }

  #openSshSettings(host: string): OpenSshHostSettings {
    if (this.#sshConfigText === undefined) {
      const file = expandTilde(this.#options.sshConfigFile ?? '~/.ssh/config', this.#home);
      this.#sshConfigText = existsSync(file) ? readFileSync(file, 'utf8') : '';
    }
    return resolveOpenSshHost(this.#sshConfigText, host, { home: this.#home, localUser: safeLocalUser() });
  }

  /** A channel to the target through the shared bastion connection. */
  async #forwardThroughBastion(target: Target): Promise<Readable> {
    const jump = target.jump!;
    const key = `${jump.user ?? ''}@${jump.host}:${jump.port ?? ''}`;
    let bastion = this.#bastions.get(key);
    if (!bastion) {
      const settings = this.#openSshSettings(jump.host);
      const bastionTarget: Target = {
        host: jump.host,
        hostName: settings.hostName,
        port: jump.port ?? settings.port ?? 22,
        user: jump.user ?? settings.user ?? this.#options.user ?? 'root',
        identityFiles: settings.identityFiles,
      };
      bastion = this.#connect(bastionTarget, undefined, (client) => {
        this.#bastionClients.delete(client);
        if (this.#bastions.get(key) === bastion) this.#bastions.delete(key);
      }).then((client) => {
        this.#bastionClients.add(client);
        return client;
      });
      this.#bastions.set(key, bastion);
      bastion.catch(() => this.#bastions.delete(key));
    }
    let client: SshClient;
    try {
      client = await bastion;
    } catch (error) {
      const reason = error instanceof HostError ? error.message : String(error);
      throw new HostError(target.host, `bastion failed: ${reason}`, {
        kind: error instanceof HostError ? error.kind : 'unreachable',
        cause: error,
      });
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new HostError(target.host, `connect timeout via bastion ${jump.host} after ${seconds(this.#connectTimeoutMs)}`, { kind: 'timeout' })),
        this.#connectTimeoutMs,
      );
      client.forwardOut('127.0.0.1', 0, target.hostName, target.port, (error, stream) => {
        clearTimeout(timer);
        if (error) {
          reject(new HostError(target.host, `unreachable via bastion ${jump.host} (${error.message})`, { kind: 'unreachable', cause: error }));
        } else resolve(stream);
      });
    });
  }

  /** Opens one authenticated, host-key-checked SSH connection. `onDown` runs once it closes after being ready. */
  #connect(target: Target, sock: Readable | undefined, onDown: (client: SshClient) => void): Promise<SshClient> {
    const auth = this.#authMethods(target);
    const knownName = knownHostsName(target.hostName, target.port);
    const knownEntries = this.#readKnownHosts();
    const preferred = knownKeyTypes(knownEntries, knownName).flatMap(hostKeyAlgorithmsFor);
    const algorithms = [...new Set([...preferred, ...DEFAULT_HOST_KEY_ALGORITHMS])];
    return new Promise((resolve, reject) => {
      const client = new Client();
      let hostKeyError: HostKeyError | undefined;
      let ready = false;
      let settled = false;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        reject(error);
        client.end();
      };
      client.on('ready', () => {
        ready = true;
        settled = true;
        resolve(client);
      });
      client.on('error', (error: Error & { level?: string; code?: string }) => {
        if (ready) return; // 'close' follows and onDown handles in-flight commands
        fail(hostKeyError ?? this.#connectError(target, error, auth));
      });
      client.on('close', () => {
        if (ready) onDown(client);
        else fail(hostKeyError ?? new HostError(target.host, `connection closed during SSH handshake with ${target.hostName}:${target.port}`, { kind: 'unreachable' }));
      });
      const config: ConnectConfig = {
        host: target.hostName,
        port: target.port,
        username: target.user,
        readyTimeout: this.#connectTimeoutMs,
        keepaliveInterval: this.#options.keepaliveIntervalMs ?? 15_000,
        keepaliveCountMax: 3,
        algorithms: { serverHostKey: algorithms as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] },
        authHandler: auth.handler,
        hostVerifier: (keyBlob: Buffer): boolean => {
          hostKeyError = this.#verifyHostKey(target, knownName, keyBlob);
          return hostKeyError === undefined;
        },
        ...(sock ? { sock } : {}),
      };
      try {
        client.connect(config);
      } catch (error) {
        fail(new HostError(target.host, `cannot connect: ${(error as Error).message}`, { kind: 'error', cause: error }));
      }
    });
  }

  #readKnownHosts() {
    if (this.#options.knownHosts) return parseKnownHosts(this.#options.knownHosts.reveal());
    try {
      return parseKnownHosts(readFileSync(this.#knownHostsFile, 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }

  /** undefined when the key is acceptable (and recorded, for accept-new); else the error to report. */
  #verifyHostKey(target: Target, knownName: string, keyBlob: Buffer): HostKeyError | undefined {
    const fromSecret = this.#options.knownHosts;
    const configured = this.#options.strictHostKeyChecking ?? 'accept-new';
    if (configured === 'false') return undefined;
    // known hosts given as content cannot learn: an unknown host is refused
    const policy = fromSecret ? 'true' : configured;
    const presented = fingerprintSha256(keyBlob);
    const file = fromSecret ? `ssh.known_hosts (secret ${fromSecret.name})` : tildePath(this.#knownHostsFile, this.#home);
    const check = checkHostKey(this.#readKnownHosts(), knownName, keyBlob);
    switch (check.status) {
      case 'known':
        return undefined;
      case 'revoked':
        return new HostKeyError(target.host, `host key ${presented} of ${knownName} is marked @revoked in ${file} (line ${check.entry.line}); refusing to connect`);
      case 'changed':
        return new HostKeyError(
          target.host,
          `host key for ${knownName} has CHANGED: ${file} has ${check.knownFingerprints.join(', ')} ` +
            `(line ${check.entries.map((entry) => entry.line).join(', ')}), the host presented ${presented}. ` +
            `This may be a man-in-the-middle attack. If the host was reinstalled, ` +
            (fromSecret
              ? `put its new key in secret ${fromSecret.name} (ssh-keyscan${target.port === 22 ? '' : ` -p ${target.port}`} ${shq(target.hostName)}) and run mrsk again.`
              : `remove the old key (ssh-keygen -f ${shq(this.#knownHostsFile)} -R ${shq(knownName)}) and run mrsk again.`),
        );
      case 'unknown':
        if (policy === 'true') {
          return new HostKeyError(
            target.host,
            `host key for ${knownName} (${presented}) is not in ${file}` +
              (fromSecret
                ? `, and known hosts given as a secret are not learned; verify the key and add its line to ${fromSecret.name} ` +
                  `(ssh-keyscan${target.port === 22 ? '' : ` -p ${target.port}`} ${shq(target.hostName)})`
                : ` and ssh.strict_host_key_checking is true; ` +
                  `verify the key and add it (ssh-keyscan${target.port === 22 ? '' : ` -p ${target.port}`} ${shq(target.hostName)} >> ${shq(this.#knownHostsFile)})`),
            { kind: 'host-key-unknown' },
          );
        }
        this.#learnHostKey(knownName, keyBlob);
        this.#options.onHostKeyLearned?.(target.host, presented);
        return undefined;
    }
  }

  #learnHostKey(knownName: string, keyBlob: Buffer): void {
    const file = this.#knownHostsFile;
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    let prefix = '';
    if (existsSync(file)) {
      const current = readFileSync(file);
      if (current.length > 0 && current[current.length - 1] !== 0x0a) prefix = '\n';
    }
    appendFileSync(file, `${prefix}${knownHostsLine(knownName, keyBlob)}\n`, { mode: 0o600 });
  }

  // ---- authentication ----------------------------------------------------------------------

  /** The auth methods in order (agent, configured keys, ~/.ssh/config IdentityFile, default keys) and a record of what was tried. */
  #authMethods(target: Target): { handler: (left: AuthenticationType[] | null, partial: boolean | null, next: NextAuthHandler) => void; tried: string[]; notes: string[] } {
    const methods: Array<{ label: string; method: AnyAuthMethod }> = [];
    const notes: string[] = [];
    const agent = this.#options.agentSocket === undefined ? process.env.SSH_AUTH_SOCK : this.#options.agentSocket;
    if (agent) methods.push({ label: 'agent', method: { type: 'agent', username: target.user, agent } });
    const passphrase = this.#options.passphrase ?? envPassphrase();
    const configured = (this.#options.keys ?? []).map((key) => expandTilde(key, this.#home));
    const defaults = ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((name) => join(this.#home, '.ssh', name));
    // ssh.key_data first: keys a pipeline gave on purpose, held in memory only (checked when the options were made)
    const inMemory = (this.#options.keyData ?? []).map((key) => ({
      label: /^ssh\.key_data\[/.test(key.name) ? key.name : `ssh.key_data (secret ${key.name})`,
      method: { type: 'publickey', username: target.user, key: key.reveal(), ...(passphrase ? { passphrase: passphrase.reveal() } : {}) } as AnyAuthMethod,
    }));
    methods.unshift(...inMemory);
    const seen = new Set<string>();
    for (const [file, explicit] of [
      ...configured.map((file) => [file, true] as const),
      ...target.identityFiles.map((file) => [file, false] as const),
      ...defaults.map((file) => [file, false] as const),
    ]) {
      if (seen.has(file)) continue;
      seen.add(file);
      const label = tildePath(file, this.#home);
      let content: Buffer;
      try {
        content = readFileSync(file);
      } catch (error) {
        if (explicit) notes.push(`${label} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
        continue;
      }
      const parsed = utils.parseKey(content, passphrase?.reveal());
      if (parsed instanceof Error) {
        if (/passphrase|encrypted/i.test(parsed.message)) {
          notes.push(
            passphrase
              ? `${label} could not be decrypted with MRSK_SSH_PASSPHRASE`
              : `${label} is encrypted: set MRSK_SSH_PASSPHRASE or add it to ssh-agent`,
          );
        } else notes.push(`${label} is not a usable private key (${parsed.message})`);
        continue;
      }
      methods.push({
        label,
        method: { type: 'publickey', username: target.user, key: content, ...(passphrase ? { passphrase: passphrase.reveal() } : {}) },
      });
    }
    const tried: string[] = [];
    const handler = (left: AuthenticationType[] | null, _partial: boolean | null, next: NextAuthHandler) => {
      for (;;) {
        const candidate = methods.shift();
        if (!candidate) return next(false as unknown as AuthenticationType);
        // The server lists what it still accepts; skip what it would refuse anyway.
        if (left && !left.includes('publickey')) continue;
        tried.push(candidate.label);
        return next(candidate.method);
      }
    };
    return { handler, tried, notes };
  }

  #connectError(target: Target, error: Error & { level?: string; code?: string }, auth: { tried: string[]; notes: string[] }): HostError {
    const where = `${target.hostName}:${target.port}`;
    const make = (kind: HostErrorKind, message: string) => new HostError(target.host, message, { kind, cause: error });
    if (error.level === 'client-authentication') {
      const tried = auth.tried.length > 0 ? `tried: ${auth.tried.join(', ')}` : 'no ssh-agent and no usable key: set ssh.keys or start ssh-agent';
      const notes = auth.notes.length > 0 ? `; ${auth.notes.join('; ')}` : '';
      return make('auth-failed', `authentication failed for ${target.user}@${where} (${tried})${notes}`);
    }
    if (error.level === 'client-timeout') {
      if (/handshake/i.test(error.message)) {
        return make('timeout', `connect timeout: no SSH session with ${where} within ${seconds(this.#connectTimeoutMs)}`);
      }
      return make('timeout', `${where} stopped answering (${error.message})`);
    }
    if (error.code !== undefined && NETWORK_ERROR_CODES.has(error.code)) return make('unreachable', `unreachable (${error.message})`);
    if (error.level === 'client-dns') return make('unreachable', `unreachable (${error.message})`);
    if (error.level === 'client-socket') return make('unreachable', `unreachable (${error.message})`);
    return make('error', `SSH connection to ${where} failed: ${error.message}`);
  }

  // ---- channels ----------------------------------------------------------------------------

  #runChannel(connection: HostConnection, client: SshClient, line: string, options: ExecOptions, channelDone: () => void): Promise<ExecResult> {
    const host = connection.host;
    // A tag in the command's environment, inherited by everything it starts, so a timed-out
    // command can be found and killed (OpenSSH ignores signal requests for root sessions).
    const runTag = `MRSK_RUN=${randomBytes(8).toString('hex')}`;
    if (options.signal?.aborted) {
      channelDone(); // aborted while waiting for a channel
      return Promise.reject(new AbortedError(`${host}: \`${display(line)}\` aborted before it started`));
    }
    const pty = options.pty === true;
    const timeoutMs = options.timeoutMs ?? (pty ? undefined : this.#commandTimeoutMs);
    return new Promise<ExecResult>((resolve, reject) => {
      let settled = false;
      let channel: ClientChannel | undefined;
      let timer: NodeJS.Timeout | undefined;
      const cleanups: Array<() => void> = [];
      const finish = (outcome: { result?: ExecResult; error?: Error }) => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        connection.inFlight.delete(onConnectionLost);
        for (const cleanup of cleanups.splice(0)) cleanup();
        if (outcome.error) reject(outcome.error);
        else resolve(outcome.result!);
      };
      const onConnectionLost = (error: Error) => {
        finish({ error });
        channelDone();
      };
      connection.inFlight.add(onConnectionLost);
      // Stopping a command: ask the remote process to die, close the channel, and free the
      // channel slot only when the server confirms (or after a grace period), so the slot count stays true.
      const stop = (error: Error) => {
        finish({ error });
        if (channel) {
          sendSignal(channel, 'KILL');
          channel.close();
          this.#killTagged(connection, client, runTag);
          const grace = setTimeout(channelDone, 5_000);
          grace.unref();
          channel.once('close', () => clearTimeout(grace));
        }
      };
      if (timeoutMs !== undefined) {
        timer = setTimeout(
          () => stop(new TimeoutError(`${host}: \`${display(line)}\` timed out after ${seconds(timeoutMs)}`)),
          timeoutMs,
        );
      }
      if (options.signal) {
        const onAbort = () => stop(new AbortedError(`${host}: \`${display(line)}\` aborted`));
        options.signal.addEventListener('abort', onAbort, { once: true });
        cleanups.push(() => options.signal!.removeEventListener('abort', onAbort));
      }
      const terminal = this.#options.terminal ?? { stdin: process.stdin, stdout: process.stdout };
      const execOptions = pty
        ? { pty: { rows: terminal.stdout.rows ?? 24, cols: terminal.stdout.columns ?? 80, term: process.env.TERM ?? 'xterm-256color' } }
        : {};
      client.exec(`${runTag} ${line}`, execOptions, (error, opened) => {
        if (error) {
          finish({ error: new HostError(host, `could not open an SSH channel: ${error.message}`, { kind: 'error', cause: error }) });
          channelDone();
          return;
        }
        channel = opened;
        const maxOutputBytes = options.maxOutputBytes ?? this.#maxOutputBytes;
        const onLimit = () => stop(new OutputLimitError(host, display(line), maxOutputBytes));
        const collected = pty ? this.#wireTerminal(opened, terminal, cleanups) : collectOutput(opened, options, maxOutputBytes, onLimit);
        let exitCode: number | null | undefined;
        opened.on('exit', (code: number | null) => {
          exitCode = code;
        });
        opened.on('close', (code?: number | null) => {
          channelDone();
          const final = exitCode !== undefined ? exitCode : code;
          // A signal-killed process or a missing exit status is a failure, never success.
          const status = typeof final === 'number' ? final : 255;
          finish({ result: { code: status, stdout: collected.stdout(), stderr: collected.stderr() } });
        });
        if (settled) {
          // timed out or aborted before the channel opened
          stop(new AbortedError('stopped'));
          return;
        }
        if (!pty) {
          if (options.stdin !== undefined) opened.end(options.stdin);
          else opened.end();
        }
      });
    });
  }

  /** Kills the processes whose environment carries runTag (best effort, in the background, holding one channel slot). */
  #killTagged(connection: HostConnection, client: SshClient, runTag: string): void {
    // Three passes: a command that timed out while still starting may not carry the tag yet.
    const pass = `for f in $(grep -l -z -x -F ${shq(runTag)} /proc/[0-9]*/environ 2>/dev/null); do p=\${f#/proc/}; kill -KILL "\${p%/environ}" 2>/dev/null; done`;
    const script = `${pass}; sleep 0.5; ${pass}; sleep 1; ${pass}; true`;
    void connection.channels.acquire().then(() => {
      if (connection.closed) {
        connection.channels.release();
        return;
      }
      try {
        client.exec(commandToShell({ script }), (error, channel) => {
          if (error) {
            connection.channels.release();
            return;
          }
          channel.resume();
          channel.stderr.resume();
          channel.on('close', () => connection.channels.release());
          channel.end();
        });
      } catch {
        connection.channels.release(); // the connection went away meanwhile
      }
    });
  }

  #wireTerminal(channel: ClientChannel, terminal: Terminal, cleanups: Array<() => void>) {
    const { stdin, stdout } = terminal;
    const wasRaw = stdin.isTTY === true;
    if (wasRaw) stdin.setRawMode?.(true);
    stdin.pipe(channel);
    stdin.resume();
    channel.pipe(stdout, { end: false });
    channel.stderr.pipe(stdout, { end: false });
    const onResize = () => channel.setWindow(stdout.rows ?? 24, stdout.columns ?? 80, 0, 0);
    stdout.on('resize', onResize);
    cleanups.push(() => {
      stdout.removeListener('resize', onResize);
      stdin.unpipe(channel);
      if (wasRaw) stdin.setRawMode?.(false);
      stdin.pause();
    });
    return { stdout: () => '', stderr: () => '' };
  }

  // ---- closing -----------------------------------------------------------------------------

  async #closeAll(): Promise<void> {
    await Promise.resolve(); // let close() record #closing first, so woken slot waiters see it
    for (const waiter of this.#slotWaiters.splice(0)) waiter();
    const connections = [...this.#connections.values(), ...this.#slotHolders];
    const waits: Array<Promise<void>> = [];
    for (const connection of new Set(connections)) {
      connection.closed = true;
      waits.push(connection.ready.then((client) => endClient(client), () => {}));
    }
    await Promise.all(waits);
    for (const connection of connections) this.#markConnectionDown(connection);
    const bastions = [...this.#bastions.values()];
    await Promise.all(bastions.map((bastion) => bastion.then((client) => endClient(client), () => {})));
    await Promise.all([...this.#bastionClients].map((client) => endClient(client)));
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

/** What collectOutput reads: a channel's stdout ('data') and stderr. */
interface OutputSource {
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  readonly stderr: { on(event: 'data', listener: (chunk: Buffer) => void): unknown };
}

/**
 * Buffers stdout/stderr (both must be read or 'close' never fires) and feeds the callbacks decoded
 * text. Past maxBytes (stdout + stderr) it calls onLimit once, drops what it holds and reads on
 * only to discard, until the stopped channel closes.
 */
export function collectOutput(
  channel: OutputSource,
  options: Pick<ExecOptions, 'onStdout' | 'onStderr' | 'keepOutput'>,
  maxBytes: number,
  onLimit: () => void,
) {
  const keep = options.keepOutput !== false;
  let stdoutChunks: Buffer[] = [];
  let stderrChunks: Buffer[] = [];
  const stdoutDecoder = new StringDecoder('utf8');
  const stderrDecoder = new StringDecoder('utf8');
  let total = 0;
  let over = false;
  const take = (chunk: Buffer, chunks: Buffer[], decoder: StringDecoder, callback: ((text: string) => void) | undefined) => {
    if (over) return;
    total += chunk.length;
    if (total > maxBytes) {
      over = true;
      stdoutChunks = [];
      stderrChunks = [];
      onLimit();
      return;
    }
    if (keep) chunks.push(chunk);
    if (callback) callback(decoder.write(chunk));
  };
  channel.on('data', (chunk: Buffer) => take(chunk, stdoutChunks, stdoutDecoder, options.onStdout));
  channel.stderr.on('data', (chunk: Buffer) => take(chunk, stderrChunks, stderrDecoder, options.onStderr));
  return {
    stdout: () => Buffer.concat(stdoutChunks).toString('utf8'),
    stderr: () => Buffer.concat(stderrChunks).toString('utf8'),
  };
}

/**
 * Sends a "signal" channel request (OpenSSH ≥ 7.9 kills the command's process group). ssh2's
 * channel.signal() refuses once stdin was ended, which is always the case here, so this goes to
 * the protocol object directly; without it a timed-out command would keep running on the host.
 */
function sendSignal(channel: ClientChannel, signal: string): void {
  const internals = channel as unknown as {
    outgoing?: { id?: number; state?: string };
    _client?: { _protocol?: { signal?: (id: number, name: string) => void } };
  };
  const protocol = internals._client?._protocol;
  const id = internals.outgoing?.id;
  if (protocol?.signal && id !== undefined && (internals.outgoing?.state === 'open' || internals.outgoing?.state === 'eof')) {
    try {
      protocol.signal(id, signal);
    } catch {
      // the connection is going away; closing the channel below is all that is left
    }
  }
}

/** Ends a client and waits for its socket to close (destroying it after 2 s if the peer never answers). */
function endClient(client: SshClient): Promise<void> {
  return new Promise((resolve) => {
    const socket = (client as unknown as { _sock?: { destroyed?: boolean; destroy(): void } })._sock;
    if (!socket || socket.destroyed) return resolve();
    const timer = setTimeout(() => {
      client.destroy();
      resolve();
    }, 2_000);
    timer.unref();
    client.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    client.end();
  });
}

/** Host key algorithms that yield a key of this known_hosts type. */
function hostKeyAlgorithmsFor(keyType: string): string[] {
  return keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : DEFAULT_HOST_KEY_ALGORITHMS.includes(keyType) ? [keyType] : [];
}

function envPassphrase(): Secret | undefined {
  const value = process.env.MRSK_SSH_PASSPHRASE;
  return value ? new Secret('MRSK_SSH_PASSPHRASE', value) : undefined;
}

function safeLocalUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? '';
  }
}

function tildePath(path: string, home: string): string {
  return path.startsWith(`${home}/`) ? `~${path.slice(home.length)}` : path;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}

/** A command line shortened for messages. Lines never carry secrets (they travel on stdin or in 0600 files). */
function display(line: string): string {
  const oneLine = line.replace(/\s+/g, ' ');
  return oneLine.length > 120 ? `${oneLine.slice(0, 117)}...` : oneLine;
}
