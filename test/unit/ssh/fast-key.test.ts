// src/ssh/fast-key.ts: a key that signs through a key object made once must sign exactly as ssh2's
// own key does (same bytes where the scheme is deterministic, a valid signature where it is not),
// for every key type and hash ssh2 asks for; and sshd's host key announcement is answered without
// the proof while every other global request goes to ssh2 as before.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import ssh2 from 'ssh2';
import type { Client, ParsedKey } from 'ssh2';
import { fastSigningKey, skipHostKeysProof } from '../../../src/ssh/fast-key.ts';
import { wellFormedKeyPair } from '../../helpers/ssh-keys.ts';

const { utils } = ssh2;

function parsed(text: string, passphrase?: string): ParsedKey {
  const key = utils.parseKey(text, passphrase);
  if (key instanceof Error || Array.isArray(key)) throw new Error('test key does not parse');
  return key;
}

const data = Buffer.from('session id and userauth request: what a login signs');

describe('fastSigningKey', () => {
  it('signs ed25519 with the very bytes ssh2 makes, and stays the same key to ssh2', () => {
    const key = parsed(wellFormedKeyPair('ed25519').private);
    const fast = fastSigningKey(key);
    assert.notEqual(fast, key, 'a new object');
    assert.ok(fast.sign(data).equals(key.sign(data)));
    assert.ok(fast.sign(data.toString('latin1')).equals(key.sign(data.toString('latin1'))), 'text to sign as well as bytes');
    assert.equal(fast.type, 'ssh-ed25519');
    assert.ok(fast.getPublicSSH().equals(key.getPublicSSH()));
    assert.equal(fast.comment, key.comment);
    assert.equal(utils.parseKey(fast), fast, 'ssh2 takes it as a parsed key, as it is');
  });

  it('signs RSA with the same bytes for the default hash and for each hash ssh2 names', () => {
    const key = parsed(wellFormedKeyPair('rsa', { bits: 2048 }).private);
    const fast = fastSigningKey(key);
    for (const algo of [undefined, 'sha1', 'sha256', 'sha512']) {
      assert.ok(fast.sign(data, algo).equals(key.sign(data, algo)), `hash ${algo ?? 'default'}`);
    }
    assert.ok(!fast.sign(data, 'sha256').equals(fast.sign(data, 'sha512')), 'the hash asked for is the one used');
  });

  for (const bits of [256, 384, 521]) {
    it(`makes ECDSA P-${bits} signatures that ssh2's key verifies with its curve's hash`, () => {
      const key = parsed(wellFormedKeyPair('ecdsa', { bits }).private);
      const fast = fastSigningKey(key);
      const signature = fast.sign(data);
      assert.ok(Buffer.isBuffer(signature));
      assert.equal(key.verify(data, signature), true);
      assert.equal(key.verify(Buffer.from('other data'), signature), false, 'the check can fail');
    });
  }

  it('works for an encrypted key once decrypted', () => {
    const key = parsed(wellFormedKeyPair('ed25519', { passphrase: 'pass', cipher: 'aes256-ctr', rounds: 2 }).private, 'pass');
    assert.ok(fastSigningKey(key).sign(data).equals(key.sign(data)));
  });

  it('returns a public key as it is', () => {
    const key = parsed(wellFormedKeyPair('ed25519').public);
    assert.equal(fastSigningKey(key), key);
  });

  it('returns a failed signature as an Error, as ssh2 does, instead of throwing', () => {
    const fast = fastSigningKey(parsed(wellFormedKeyPair('rsa', { bits: 2048 }).private));
    const result = fast.sign(data, 'no-such-hash') as unknown;
    assert.ok(result instanceof Error);
  });
});

describe('skipHostKeysProof', () => {
  function fakeClient() {
    const calls: unknown[][] = [];
    const original = (...args: unknown[]) => void calls.push(args);
    const client = { _protocol: { _handlers: { GLOBAL_REQUEST: original } } };
    let replies = 0;
    const protocol = { requestSuccess: () => void replies++ };
    return { client: client as unknown as Client, calls, protocol, replies: () => replies, handler: () => client._protocol._handlers.GLOBAL_REQUEST };
  }

  it("answers sshd's host key announcement without asking for the proof", () => {
    const fake = fakeClient();
    skipHostKeysProof(fake.client);
    fake.handler()(fake.protocol, 'hostkeys-00@openssh.com', true, [Buffer.from('key')]);
    assert.equal(fake.replies(), 1, 'a reply when one is wanted');
    fake.handler()(fake.protocol, 'hostkeys-00@openssh.com', false, [Buffer.from('key')]);
    assert.equal(fake.replies(), 1, 'none when none is');
    assert.deepEqual(fake.calls, [], 'ssh2 never sees it, so never asks for the proof');
  });

  it('hands every other global request to ssh2 unchanged', () => {
    const fake = fakeClient();
    skipHostKeysProof(fake.client);
    fake.handler()(fake.protocol, 'keepalive@openssh.com', true, undefined);
    assert.deepEqual(fake.calls, [[fake.protocol, 'keepalive@openssh.com', true, undefined]]);
    assert.equal(fake.replies(), 0);
  });

  it('leaves a client without those internals as it is', () => {
    const client = {} as unknown as Client;
    skipHostKeysProof(client);
    assert.deepEqual(client, {});
  });
});
