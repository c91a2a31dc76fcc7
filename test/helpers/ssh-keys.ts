// Key pairs for the SSH unit tests. ssh2's generateKeyPairSync now and then (about 1 in 160
// ed25519 pairs here) writes a public key of 31 bytes that its own parser then calls malformed;
// such a pair is drawn again, so a test never fails on the luck of its fixture.
import ssh2 from 'ssh2';

const { utils } = ssh2;

type KeyType = 'ed25519' | 'ecdsa' | 'rsa';
/** ssh2's options: bits (ecdsa, rsa), passphrase, cipher and rounds (an encrypted private key). */
type KeyOptions = { readonly bits?: number; readonly passphrase?: string; readonly cipher?: string; readonly rounds?: number };

/** A fresh key pair whose private and public halves both parse. */
export function wellFormedKeyPair(type: KeyType, options?: KeyOptions): { readonly private: string; readonly public: string } {
  for (let attempt = 0; attempt < 50; attempt++) {
    // ssh2's typings tie each key type to its own options type; the options given are ssh2's
    const generate = utils.generateKeyPairSync as (type: KeyType, options?: KeyOptions) => { private: string; public: string };
    const pair = generate(type, options);
    if (!(utils.parseKey(pair.public) instanceof Error) && !(utils.parseKey(pair.private, options?.passphrase) instanceof Error)) return pair;
  }
  throw new Error(`ssh2 made no well-formed ${String(type)} key pair in 50 attempts`);
}
