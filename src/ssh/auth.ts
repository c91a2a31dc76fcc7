// How mrsk authenticates, and what it says when a connection fails.
//
// Keys are tried in a fixed order, each at most once: ssh.key_data (in memory), the ssh-agent,
// ssh.keys, ~/.ssh/config IdentityFile, then the default key files. A key that cannot be used
// (unreadable, encrypted without MRSK_SSH_PASSPHRASE, not a key) is skipped with a note, so an
// auth failure lists what was tried and why the rest was not — the user's next step, never a
// bare "All configured authentication methods failed". Messages name keys (a path, a secret's
// name), never their content.
import ssh2 from 'ssh2';
import type { AnyAuthMethod, AuthenticationType, NextAuthHandler, ParsedKey } from 'ssh2';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HostError } from '../errors.ts';
import type { HostErrorKind } from '../errors.ts';
import { Secret } from '../secret.ts';
import { seconds } from './messages.ts';
import { fastSigningKey } from './fast-key.ts';
import { expandTilde, tildePath } from './openssh-config.ts';

const { utils } = ssh2;

/** The one place MRSK_SSH_PASSPHRASE is read: the passphrase for encrypted keys, as a Secret. */
export function envPassphrase(): Secret | undefined {
  const value = process.env.MRSK_SSH_PASSPHRASE;
  return value ? new Secret('MRSK_SSH_PASSPHRASE', value) : undefined;
}

/**
 * Why an in-memory key (ssh.key_data) cannot be used, or undefined when it parses (and decrypts
 * with the passphrase). Checked before any connection; the answer never shows the key.
 */
export function keyDataProblem(key: Secret, passphrase: Secret | undefined): string | undefined {
  const parsed = utils.parseKey(key.reveal(), passphrase?.reveal());
  if (!(parsed instanceof Error)) return undefined;
  if (/passphrase|encrypted/i.test(parsed.message)) {
    return passphrase
      ? 'it could not be decrypted with MRSK_SSH_PASSPHRASE'
      : 'it is encrypted: set MRSK_SSH_PASSPHRASE (a secret in CI) or give an unencrypted key';
  }
  return `it is not a private key ssh can use (${redactKey(parsed.message, key)}); give the whole key file's text, BEGIN and END lines included`;
}

// A parser message never quotes the key today; this keeps it so if one ever did.
function redactKey(message: string, key: Secret): string {
  return key.reveal().split('\n').reduce((text, line) => (line.trim().length >= 8 ? text.split(line.trim()).join('[REDACTED]') : text), message);
}

/** Where the keys come from (the runner's options, home resolved). */
export interface AuthOptions {
  /** Local home: `~` in key paths, the default keys, `~/…` in messages. */
  readonly home: string;
  /** ssh-agent socket; undefined: env SSH_AUTH_SOCK; null: no agent. */
  readonly agentSocket?: string | null;
  /** Passphrase for encrypted keys; default envPassphrase(). */
  readonly passphrase?: Secret;
  /** Key files (ssh.keys), `~` allowed. */
  readonly keys?: readonly string[];
  /** Keys held in memory (ssh.key_data), already checked by keyDataProblem. */
  readonly keyData?: readonly Secret[];
}

/** As whom, and with which ~/.ssh/config IdentityFile entries, one host is logged into. */
export interface AuthTarget {
  readonly user: string;
  readonly identityFiles: readonly string[];
}

/** The ssh2 authHandler for one connection, and what it tried (filled in as the server refuses). */
export interface AuthAttempt {
  readonly handler: (left: AuthenticationType[] | null, partial: boolean | null, next: NextAuthHandler) => void;
  /** Labels of the methods offered so far, in order. */
  readonly tried: string[];
  /** Why keys were skipped before any was offered. */
  readonly notes: string[];
}

/** A key file read and parsed (or found unusable), or a key_data secret parsed. */
type KeyRead = { readonly key: ParsedKey } | { readonly error: NodeJS.ErrnoException | Error; readonly unread?: boolean };

/**
 * Keys are read and parsed once per set of options (one run), not once per connection: a fleet's
 * hundreds of connections share them, and each signs through a key object made once.
 */
const keysRead = new WeakMap<AuthOptions, Map<string, KeyRead>>();

/**
 * What a key decrypts with is part of what was read (MRSK_SSH_PASSPHRASE may change between runs
 * in one process); kept as a digest, so the cache holds no second copy of the passphrase.
 */
function passphraseId(passphrase: Secret | undefined): string {
  return passphrase ? createHash('sha256').update(passphrase.reveal()).digest('base64') : '';
}

function readKey(options: AuthOptions, id: string, passphrase: Secret | undefined, content: () => Buffer | string): KeyRead {
  let known = keysRead.get(options);
  if (!known) keysRead.set(options, (known = new Map()));
  let read = known.get(id);
  if (!read) {
    let text: Buffer | string | undefined;
    try {
      text = content();
    } catch (error) {
      read = { error: error as NodeJS.ErrnoException, unread: true };
    }
    if (text !== undefined) {
      const parsed = utils.parseKey(text, passphrase?.reveal());
      read = parsed instanceof Error ? { error: parsed } : { key: fastSigningKey(Array.isArray(parsed) ? parsed[0]! : parsed) };
    }
    known.set(id, read!);
  }
  return read!;
}

/** The auth methods in order (key_data, agent, configured keys, ~/.ssh/config IdentityFile, default keys) and a record of what was tried. */
export function authMethods(target: AuthTarget, options: AuthOptions): AuthAttempt {
  const methods: Array<{ label: string; method: AnyAuthMethod }> = [];
  const notes: string[] = [];
  const home = options.home;
  const agent = options.agentSocket === undefined ? process.env.SSH_AUTH_SOCK : options.agentSocket;
  if (agent) methods.push({ label: 'agent', method: { type: 'agent', username: target.user, agent } });
  const passphrase = options.passphrase ?? envPassphrase();
  const configured = (options.keys ?? []).map((key) => expandTilde(key, home));
  const defaults = ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((name) => join(home, '.ssh', name));
  const keyedBy = passphraseId(passphrase);
  // ssh.key_data first: keys a pipeline gave on purpose, held in memory only (checked when the options were made)
  const inMemory = (options.keyData ?? []).map((key, index) => {
    // checked by keyDataProblem before any connection; a key that still fails is given as it is
    const read = readKey(options, `key_data\0${index}\0${keyedBy}`, passphrase, () => key.reveal());
    return {
      label: /^ssh\.key_data\[/.test(key.name) ? key.name : `ssh.key_data (secret ${key.name})`,
      method: ('key' in read
        ? { type: 'publickey', username: target.user, key: read.key }
        : { type: 'publickey', username: target.user, key: key.reveal(), ...(passphrase ? { passphrase: passphrase.reveal() } : {}) }) as AnyAuthMethod,
    };
  });
  methods.unshift(...inMemory);
  const seen = new Set<string>();
  for (const [file, explicit] of [
    ...configured.map((file) => [file, true] as const),
    ...target.identityFiles.map((file) => [file, false] as const),
    ...defaults.map((file) => [file, false] as const),
  ]) {
    if (seen.has(file)) continue;
    seen.add(file);
    const label = tildePath(file, home);
    const read = readKey(options, `file\0${file}\0${keyedBy}`, passphrase, () => readFileSync(file));
    if ('error' in read && read.unread) {
      if (explicit) notes.push(`${label} cannot be read (${(read.error as NodeJS.ErrnoException).code ?? read.error.message})`);
      continue;
    }
    if ('error' in read) {
      const parsed = read.error;
      if (/passphrase|encrypted/i.test(parsed.message)) {
        notes.push(
          passphrase
            ? `${label} could not be decrypted with MRSK_SSH_PASSPHRASE`
            : `${label} is encrypted: set MRSK_SSH_PASSPHRASE or add it to ssh-agent`,
        );
      } else notes.push(`${label} is not a usable private key (${parsed.message})`);
      continue;
    }
    methods.push({ label, method: { type: 'publickey', username: target.user, key: read.key } });
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

/** An ssh2 connect error as ssh2 reports it: `level` says which stage failed. */
export type SshConnectFailure = Error & { level?: string; code?: string };

/** Where a failed connection went: the configured name, the address and port, the user. */
export interface ConnectErrorTarget {
  readonly host: string;
  readonly hostName: string;
  readonly port: number;
  readonly user: string;
}

/**
 * The HostError for a connection that failed before it was ready, with the kind the summary
 * groups hosts by: auth-failed (with what was tried), timeout, unreachable, or error.
 */
export function connectError(
  target: ConnectErrorTarget,
  error: SshConnectFailure,
  auth: Pick<AuthAttempt, 'tried' | 'notes'>,
  connectTimeoutMs: number,
): HostError {
  const where = `${target.hostName}:${target.port}`;
  const make = (kind: HostErrorKind, message: string, beforeSession = false) => new HostError(target.host, message, { kind, cause: error, beforeSession });
  if (error.level === 'client-authentication') {
    const tried = auth.tried.length > 0 ? `tried: ${auth.tried.join(', ')}` : 'no ssh-agent and no usable key: set ssh.keys or start ssh-agent';
    const notes = auth.notes.length > 0 ? `; ${auth.notes.join('; ')}` : '';
    return make('auth-failed', `authentication failed for ${target.user}@${where} (${tried})${notes}`);
  }
  if (error.level === 'client-timeout') {
    if (/handshake/i.test(error.message)) {
      return make('timeout', `connect timeout: no SSH session with ${where} within ${seconds(connectTimeoutMs)}`, true);
    }
    return make('timeout', `${where} stopped answering (${error.message})`);
  }
  if (error.code !== undefined && NETWORK_ERROR_CODES.has(error.code)) return make('unreachable', `unreachable (${error.message})`);
  if (error.level === 'client-dns') return make('unreachable', `unreachable (${error.message})`);
  if (error.level === 'client-socket') return make('unreachable', `unreachable (${error.message})`);
  return make('error', `SSH connection to ${where} failed: ${error.message}`);
}
