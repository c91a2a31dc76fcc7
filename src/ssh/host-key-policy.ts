// Which host keys a connection accepts, and where known_hosts is read and written.
//
// ssh2 accepts any host key unless a verifier says otherwise, so every handshake goes through
// verify(). Policy (OpenSSH's StrictHostKeyChecking): accept-new (default) records an unknown
// host and refuses a changed key; true refuses unknown hosts too; false accepts any key. known
// hosts given as content (ssh.known_hosts, a secret) are never written to, so they cannot learn:
// an unknown host is refused whatever the policy says (except false). A changed or @revoked key
// is refused always, with the command that fixes it when the change is legitimate.
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { HostKeyError } from '../errors.ts';
import type { Secret } from '../secret.ts';
import { shq } from '../shell/quote.ts';
import { checkHostKey, entryMatchesHost, fingerprintSha256, knownHostsLine, knownHostsName, knownKeyTypes, parseKnownHosts } from './known-hosts.ts';
import type { KnownHostEntry } from './known-hosts.ts';
import { tildePath } from './openssh-config.ts';

/** Host key algorithms the handshake offers, best first (known_hosts' own types go before these). */
export const DEFAULT_HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

export interface HostKeyPolicyOptions {
  /** known_hosts lines given as content: used instead of knownHostsFile, never written to. */
  readonly knownHosts?: Secret;
  readonly strictHostKeyChecking?: 'accept-new' | 'true' | 'false';
  /** The known_hosts file, `~` already expanded. */
  readonly knownHostsFile: string;
  /** Local home, to write the file as `~/…` in messages. */
  readonly home: string;
  /** Called after accept-new recorded a host's key in known_hosts. */
  readonly onHostKeyLearned?: (host: string, fingerprint: string) => void;
}

/** Where a host key comes from: the configured name, and the address and port it was reached at. */
export interface HostKeyTarget {
  readonly host: string;
  readonly hostName: string;
  readonly port: number;
}

/** known_hosts as last parsed, and the lines that matter to each host name looked up since. */
interface ParsedKnownHosts {
  readonly text: string;
  readonly entries: readonly KnownHostEntry[];
  readonly byName: Map<string, KnownHostEntry[]>;
}

export class HostKeyPolicy {
  readonly #options: HostKeyPolicyOptions;
  #parsed: ParsedKnownHosts | undefined;

  constructor(options: HostKeyPolicyOptions) {
    this.#options = options;
  }

  /** The handshake's host key algorithms: the types known_hosts lists for this host first, as OpenSSH does. */
  algorithmsFor(target: HostKeyTarget): string[] {
    const name = knownHostsName(target.hostName, target.port);
    const preferred = knownKeyTypes(this.#linesFor(name), name).flatMap(hostKeyAlgorithmsFor);
    return [...new Set([...preferred, ...DEFAULT_HOST_KEY_ALGORITHMS])];
  }

  /** undefined when the key is acceptable (and recorded, for accept-new); else the error to report. */
  verify(target: HostKeyTarget, keyBlob: Buffer): HostKeyError | undefined {
    const fromSecret = this.#options.knownHosts;
    const configured = this.#options.strictHostKeyChecking ?? 'accept-new';
    if (configured === 'false') return undefined;
    const knownName = knownHostsName(target.hostName, target.port);
    const knownHostsFile = this.#options.knownHostsFile;
    // known hosts given as content cannot learn: an unknown host is refused
    const policy = fromSecret ? 'true' : configured;
    const check = checkHostKey(this.#linesFor(knownName), knownName, keyBlob);
    if (check.status === 'known') return undefined;
    const presented = fingerprintSha256(keyBlob);
    const file = fromSecret ? `ssh.known_hosts (secret ${fromSecret.name})` : tildePath(knownHostsFile, this.#options.home);
    const keyscan = `ssh-keyscan${target.port === 22 ? '' : ` -p ${target.port}`} ${shq(target.hostName)}`;
    switch (check.status) {
      case 'revoked':
        return new HostKeyError(target.host, `host key ${presented} of ${knownName} is marked @revoked in ${file} (line ${check.entry.line}); refusing to connect`);
      case 'changed':
        return new HostKeyError(
          target.host,
          `host key for ${knownName} has CHANGED: ${file} has ${check.knownFingerprints.join(', ')} ` +
            `(line ${check.entries.map((entry) => entry.line).join(', ')}), the host presented ${presented}. ` +
            `This may be a man-in-the-middle attack. If the host was reinstalled, ` +
            (fromSecret
              ? `put its new key in secret ${fromSecret.name} (${keyscan}) and run mrsk again.`
              : `remove the old key (ssh-keygen -f ${shq(knownHostsFile)} -R ${shq(knownName)}) and run mrsk again.`),
        );
      case 'unknown':
        if (policy === 'true') {
          return new HostKeyError(
            target.host,
            `host key for ${knownName} (${presented}) is not in ${file}` +
              (fromSecret
                ? `, and known hosts given as a secret are not learned; verify the key and add its line to ${fromSecret.name} (${keyscan})`
                : ` and ssh.strict_host_key_checking is true; verify the key and add it (${keyscan} >> ${shq(knownHostsFile)})`),
            { kind: 'host-key-unknown' },
          );
        }
        this.#learn(knownName, keyBlob);
        this.#options.onHostKeyLearned?.(target.host, presented);
        return undefined;
    }
  }

  /**
   * The known_hosts lines that can decide about this host: its own, and every @revoked key (refused
   * whichever host presents it). checkHostKey and knownKeyTypes answer the same from these as from
   * the whole file.
   */
  #linesFor(name: string): KnownHostEntry[] {
    const parsed = this.#read();
    let lines = parsed.byName.get(name);
    if (!lines) {
      lines = parsed.entries.filter((entry) => entry.marker === 'revoked' || (entry.marker === undefined && entryMatchesHost(entry, name)));
      parsed.byName.set(name, lines);
    }
    return lines;
  }

  // The file is read at every use (a host learned a moment ago by another connection counts), but
  // parsed again only when its text changed: a fleet's N connections would otherwise parse N lines
  // each, twice.
  #read(): ParsedKnownHosts {
    let text: string;
    if (this.#options.knownHosts) text = this.#options.knownHosts.reveal();
    else {
      try {
        text = readFileSync(this.#options.knownHostsFile, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        text = '';
      }
    }
    if (this.#parsed?.text !== text) this.#parsed = { text, entries: parseKnownHosts(text), byName: new Map() };
    return this.#parsed;
  }

  #learn(knownName: string, keyBlob: Buffer): void {
    const file = this.#options.knownHostsFile;
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    let prefix = '';
    if (existsSync(file)) {
      const current = readFileSync(file);
      if (current.length > 0 && current[current.length - 1] !== 0x0a) prefix = '\n';
    }
    appendFileSync(file, `${prefix}${knownHostsLine(knownName, keyBlob)}\n`, { mode: 0o600 });
  }
}

/** Host key algorithms that yield a key of this known_hosts type. */
function hostKeyAlgorithmsFor(keyType: string): string[] {
  return keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : DEFAULT_HOST_KEY_ALGORITHMS.includes(keyType) ? [keyType] : [];
}
