// known_hosts parsing and matching, as OpenSSH does it (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT").
// Pure: host-key-policy.ts reads and appends the file. ssh2 has no known_hosts support and
// accepts any host key unless told otherwise, so this is what stands between a deploy and a MITM.
import { createHash, createHmac } from 'node:crypto';

/** One key line of a known_hosts file. */
export interface KnownHostEntry {
  /** `@revoked` keys are refused; `@cert-authority` lines are kept but never match (no certificates here). */
  readonly marker?: 'revoked' | 'cert-authority';
  /** The host field as written: a comma list of patterns, or one hashed `|1|salt|hash` name. */
  readonly hosts: string;
  readonly keyType: string;
  /** The key blob, as base64 in the file. */
  readonly keyBase64: string;
  /** 1-based line number, for messages. */
  readonly line: number;
}

/** Result of checking a presented host key against known_hosts. */
export type HostKeyCheck =
  | { readonly status: 'known'; readonly entry: KnownHostEntry }
  | { readonly status: 'unknown' }
  /** The host is listed with other key(s): refused, whatever the policy (maybe a MITM). */
  | { readonly status: 'changed'; readonly knownFingerprints: readonly string[]; readonly entries: readonly KnownHostEntry[] }
  | { readonly status: 'revoked'; readonly entry: KnownHostEntry };

/** Parses known_hosts text; blank lines, comments and malformed lines are skipped, as OpenSSH does. */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const trimmed = (lines[index] ?? '').trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const fields = trimmed.split(/[ \t]+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority') {
      marker = fields[0] === '@revoked' ? 'revoked' : 'cert-authority';
      fields.shift();
    } else if (fields[0]?.startsWith('@')) {
      continue; // unknown marker: OpenSSH ignores the line
    }
    const [hosts, keyType, keyBase64] = fields;
    if (!hosts || !keyType || !keyBase64 || !/^[A-Za-z0-9+/]+=*$/.test(keyBase64)) continue;
    entries.push({ ...(marker ? { marker } : {}), hosts, keyType, keyBase64, line: index + 1 });
  }
  return entries;
}

/** The name a host is filed under: `host` on port 22, `[host]:port` otherwise (lower-cased, like OpenSSH). */
export function knownHostsName(host: string, port: number): string {
  const name = host.toLowerCase();
  return port === 22 ? name : `[${name}]:${port}`;
}

/** Whether an entry's host field names this host (`knownHostsName` form): hashed names, wildcards, negations. */
export function entryMatchesHost(entry: Pick<KnownHostEntry, 'hosts'>, name: string): boolean {
  if (entry.hosts.startsWith('|1|')) return hashedNameMatches(entry.hosts, name);
  let matched = false;
  for (const rawPattern of entry.hosts.split(',')) {
    const negated = rawPattern.startsWith('!');
    const pattern = (negated ? rawPattern.slice(1) : rawPattern).toLowerCase();
    if (!globMatches(pattern, name)) continue;
    if (negated) return false; // a matching negation vetoes the whole line
    matched = true;
  }
  return matched;
}

/** `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`, what `HashKnownHosts yes` writes. */
function hashedNameMatches(field: string, name: string): boolean {
  const parts = field.split('|'); // ['', '1', salt, hash]
  if (parts.length !== 4 || !parts[2] || !parts[3]) return false;
  const salt = Buffer.from(parts[2], 'base64');
  const expected = createHmac('sha1', salt).update(name).digest('base64');
  return expected === parts[3];
}

/** Compiled wildcard patterns: every connection checks every known_hosts line, so N hosts would compile N² of them. */
const globCache = new Map<string, RegExp>();

/** OpenSSH's match_pattern: `*` any run of characters, `?` exactly one; everything else literal. */
function globMatches(pattern: string, text: string): boolean {
  // most lines name hosts literally: no pattern to compile
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern === text;
  let regex = globCache.get(pattern);
  if (!regex) {
    regex = new RegExp(
      `^${[...pattern].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&'))).join('')}$`,
      's',
    );
    globCache.set(pattern, regex);
  }
  return regex.test(text);
}

/** The key type named inside an SSH public key blob (its first length-prefixed string). */
export function keyTypeOfBlob(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return 'unknown';
  const length = keyBlob.readUInt32BE(0);
  if (length > keyBlob.length - 4 || length > 64) return 'unknown';
  return keyBlob.subarray(4, 4 + length).toString('latin1');
}

/** `SHA256:<base64 without padding>` of a key blob, exactly as `ssh-keygen -l` prints it. */
export function fingerprintSha256(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/**
 * Checks a presented key: `known` if a line for this host has this key, `revoked` if it is marked
 * @revoked (for any host), `changed` if the host is listed only with other keys, else `unknown`.
 */
export function checkHostKey(entries: readonly KnownHostEntry[], name: string, keyBlob: Buffer): HostKeyCheck {
  const presented = keyBlob.toString('base64');
  const revoked = entries.find((entry) => entry.marker === 'revoked' && sameKey(entry.keyBase64, presented));
  if (revoked) return { status: 'revoked', entry: revoked };
  const forHost = entries.filter((entry) => entry.marker === undefined && entryMatchesHost(entry, name));
  const exact = forHost.find((entry) => sameKey(entry.keyBase64, presented));
  if (exact) return { status: 'known', entry: exact };
  if (forHost.length === 0) return { status: 'unknown' };
  return {
    status: 'changed',
    knownFingerprints: forHost.map((entry) => fingerprintSha256(Buffer.from(entry.keyBase64, 'base64'))),
    entries: forHost,
  };
}

/** Key types known_hosts lists for a host, so the handshake can ask for those first (as OpenSSH does). */
export function knownKeyTypes(entries: readonly KnownHostEntry[], name: string): string[] {
  const types = entries.filter((entry) => entry.marker === undefined && entryMatchesHost(entry, name)).map((entry) => entry.keyType);
  return [...new Set(types)];
}

/** The line accept-new appends for a host: `name keytype base64`. */
export function knownHostsLine(name: string, keyBlob: Buffer): string {
  return `${name} ${keyTypeOfBlob(keyBlob)} ${keyBlob.toString('base64')}`;
}

// Base64 in files may differ in padding only; compare the decoded bytes.
function sameKey(base64A: string, base64B: string): boolean {
  return Buffer.from(base64A, 'base64').equals(Buffer.from(base64B, 'base64'));
}
