// Opening one SSH connection to a configured host, directly or through a bastion.
//
// Policies (why they are what they are):
// - Where and as whom comes from the runner's options first, then ~/.ssh/config (HostName, User,
//   Port, IdentityFile, ProxyJump), then OpenSSH's defaults, so a host that `ssh` reaches is
//   reached the same way. The config file is read once per run.
// - One bastion (ProxyJump) hop only; its connection is shared by every host behind it and is
//   reopened if it drops. A bastion failure names the bastion, with the kind of its own failure.
// - Every connection is host-key-checked (host-key-policy.ts) and authenticated (auth.ts) within
//   connectTimeoutMs; keepalives drop a connection after 3 missed answers.
import ssh2 from 'ssh2';
import type { ConnectConfig } from 'ssh2';
import { existsSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { Readable } from 'node:stream';
import { describeError, HostError } from '../errors.ts';
import type { HostKeyError } from '../errors.ts';
import { authMethods, connectError } from './auth.ts';
import { skipHostKeysProof } from './fast-key.ts';
import type { AuthOptions, SshConnectFailure } from './auth.ts';
import type { HostKeyPolicy } from './host-key-policy.ts';
import { seconds } from './messages.ts';
import { expandTilde, parseJumpSpec, resolveOpenSshHost } from './openssh-config.ts';
import type { JumpSpec, OpenSshHostSettings } from './openssh-config.ts';

const { Client } = ssh2;
export type SshClient = InstanceType<typeof Client>;

/** Where and as whom to connect for one configured host name. */
export interface Target {
  readonly host: string; // as named in the config (an ~/.ssh/config alias maybe)
  readonly hostName: string;
  readonly port: number;
  readonly user: string;
  readonly identityFiles: readonly string[];
  readonly jump?: JumpSpec;
}

export interface ConnectorOptions {
  /** Remote user; default ~/.ssh/config User, else root. */
  readonly user?: string;
  /** Remote port; default ~/.ssh/config Port, else 22. */
  readonly port?: number;
  /** Bastion `user@host[:port]`; default ~/.ssh/config ProxyJump. */
  readonly proxy?: string;
  /** Default ~/.ssh/config (a missing file is fine). */
  readonly sshConfigFile?: string;
  /** Local home, for `~`. */
  readonly home: string;
  readonly connectTimeoutMs: number;
  /** Default 15 s. */
  readonly keepaliveIntervalMs?: number;
  readonly auth: AuthOptions;
  readonly hostKeys: HostKeyPolicy;
}

/** Opens connections to hosts and holds the shared bastion connections. */
export class Connector {
  readonly #options: ConnectorOptions;
  readonly #bastions = new Map<string, Promise<SshClient>>();
  readonly #bastionClients = new Set<SshClient>();
  #sshConfigText: string | undefined;

  constructor(options: ConnectorOptions) {
    this.#options = options;
  }

  /** One ready connection to `host` (through its bastion if it has one). `onDown` runs once it closes after being ready. */
  async open(host: string, onDown: (client: SshClient) => void): Promise<SshClient> {
    const target = this.#resolveTarget(host);
    const sock = target.jump ? await this.#forwardThroughBastion(target) : undefined;
    return this.#connect(target, sock, onDown);
  }

  /** Ends the bastion connections (after the hosts' connections, which run through them). */
  async close(): Promise<void> {
    const bastions = [...this.#bastions.values()];
    await Promise.all(bastions.map((bastion) => bastion.then((client) => endClient(client), () => {})));
    await Promise.all([...this.#bastionClients].map((client) => endClient(client)));
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
      const file = expandTilde(this.#options.sshConfigFile ?? '~/.ssh/config', this.#options.home);
      this.#sshConfigText = existsSync(file) ? readFileSync(file, 'utf8') : '';
    }
    return resolveOpenSshHost(this.#sshConfigText, host, { home: this.#options.home, localUser: safeLocalUser() });
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
      // names the bastion: its error's message leaves its host out
      const reason = describeError(error);
      throw new HostError(target.host, `bastion failed: ${reason}`, {
        kind: error instanceof HostError ? error.kind : 'unreachable',
        cause: error,
      });
    }
    const connectTimeoutMs = this.#options.connectTimeoutMs;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new HostError(target.host, `connect timeout via bastion ${jump.host} after ${seconds(connectTimeoutMs)}`, { kind: 'timeout', beforeSession: true })),
        connectTimeoutMs,
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
    const auth = authMethods(target, this.#options.auth);
    const hostKeys = this.#options.hostKeys;
    const algorithms = hostKeys.algorithmsFor(target);
    const connectTimeoutMs = this.#options.connectTimeoutMs;
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
      client.on('error', (error: SshConnectFailure) => {
        if (ready) return; // 'close' follows and onDown handles in-flight commands
        fail(hostKeyError ?? connectError(target, error, auth, connectTimeoutMs));
      });
      client.on('close', () => {
        if (ready) onDown(client);
        else fail(hostKeyError ?? new HostError(target.host, `connection closed during SSH handshake with ${target.hostName}:${target.port}`, { kind: 'unreachable' }));
      });
      const config: ConnectConfig = {
        host: target.hostName,
        port: target.port,
        username: target.user,
        readyTimeout: connectTimeoutMs,
        keepaliveInterval: this.#options.keepaliveIntervalMs ?? 15_000,
        keepaliveCountMax: 3,
        algorithms: { serverHostKey: algorithms as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] },
        authHandler: auth.handler,
        hostVerifier: (keyBlob: Buffer): boolean => {
          hostKeyError = hostKeys.verify(target, keyBlob);
          return hostKeyError === undefined;
        },
        ...(sock ? { sock } : {}),
      };
      try {
        client.connect(config);
        skipHostKeysProof(client);
      } catch (error) {
        fail(new HostError(target.host, `cannot connect: ${(error as Error).message}`, { kind: 'error', cause: error }));
      }
    });
  }
}

/** Ends a client and waits for its socket to close (destroying it after 2 s if the peer never answers). */
export function endClient(client: SshClient): Promise<void> {
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

function safeLocalUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? '';
  }
}
