// Two per-connection costs of ssh2 that mrsk does not need to pay, measured on a fleet of hosts
// where every host is one more connection:
// - ssh2 signs with a key's PEM text, so OpenSSL parses the private key again on every login
//   (0.5 ms for ed25519, more for RSA). A key read once per run signs through a KeyObject made once.
// - OpenSSH's sshd announces its other host keys after login ("hostkeys-00@openssh.com"); ssh2 then
//   asks the server to prove it holds each (the server signs with every host key, ssh2 verifies
//   every signature), only to emit an event mrsk never listens to. Answering the announcement
//   without the proof saves both sides that work; the host key of the connection itself is still
//   checked against known_hosts during the handshake, as before.
import { createPrivateKey, sign as cryptoSign, type KeyObject } from 'node:crypto';
import type { Client, ParsedKey } from 'ssh2';

/** The hash a key type signs with when ssh2 names none (RFC 4253, 5656, 8709). */
const DEFAULT_HASH: Record<string, string | null> = {
  'ssh-ed25519': null,
  'ecdsa-sha2-nistp256': 'sha256',
  'ecdsa-sha2-nistp384': 'sha384',
  'ecdsa-sha2-nistp521': 'sha512',
  'ssh-rsa': 'sha1',
};

/**
 * A parsed private key that signs through a KeyObject made once, and otherwise is the key itself
 * (ssh2 sees the same type, public key and comment). Keys of other types are returned as they are.
 */
export function fastSigningKey(key: ParsedKey): ParsedKey {
  if (!(key.type in DEFAULT_HASH) || !key.isPrivateKey()) return key;
  let object: KeyObject;
  try {
    object = createPrivateKey(key.getPrivatePEM());
  } catch {
    return key; // ssh2 signs the way it always did
  }
  const defaultHash = DEFAULT_HASH[key.type]!;
  const fast = Object.create(key) as ParsedKey;
  // ssh2 takes an Error returned (not thrown) as a failed signature, like its own sign
  fast.sign = (data: Buffer | string, algo?: string): Buffer => {
    try {
      return cryptoSign(algo || defaultHash, typeof data === 'string' ? Buffer.from(data) : data, object);
    } catch (error) {
      return error as Buffer;
    }
  };
  return fast;
}

type GlobalRequestHandler = (protocol: { requestSuccess(): void }, name: string, wantReply: boolean, data: unknown) => void;

/**
 * Answers sshd's host key announcement without asking for the proof (see above). Call right after
 * `client.connect()`; a client whose internals differ from ssh2 1.x is left as it is.
 */
export function skipHostKeysProof(client: Client): void {
  const handlers = (client as unknown as { _protocol?: { _handlers?: { GLOBAL_REQUEST?: GlobalRequestHandler } } })._protocol?._handlers;
  const original = handlers?.GLOBAL_REQUEST;
  if (!handlers || typeof original !== 'function') return;
  handlers.GLOBAL_REQUEST = (protocol, name, wantReply, data) => {
    if (name !== 'hostkeys-00@openssh.com') return original(protocol, name, wantReply, data);
    if (wantReply) protocol.requestSuccess();
  };
}
