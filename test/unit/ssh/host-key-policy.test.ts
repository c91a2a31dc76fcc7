// The host key policy (src/ssh/host-key-policy.ts) on key blobs and temp known_hosts files: what
// each StrictHostKeyChecking setting accepts, what accept-new writes, and that known hosts given
// as a secret never learn. Handshakes with a real sshd: test/integration/ssh/host-keys.test.ts.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import ssh2 from 'ssh2';
import { HostKeyError } from '../../../src/errors.ts';
import { Secret } from '../../../src/secret.ts';
import { DEFAULT_HOST_KEY_ALGORITHMS, HostKeyPolicy } from '../../../src/ssh/host-key-policy.ts';
import type { HostKeyPolicyOptions } from '../../../src/ssh/host-key-policy.ts';
import { fingerprintSha256 } from '../../../src/ssh/known-hosts.ts';
import { wellFormedKeyPair } from '../../helpers/ssh-keys.ts';

const { utils } = ssh2;

function hostKeyBlob(type: 'ed25519' | 'ecdsa'): Buffer {
  const pair = type === 'ecdsa' ? wellFormedKeyPair('ecdsa', { bits: 256 }) : wellFormedKeyPair('ed25519');
  const parsed = utils.parseKey(pair.public);
  if (parsed instanceof Error) throw parsed;
  return parsed.getPublicSSH();
}

const keyA = hostKeyBlob('ed25519');
const keyB = hostKeyBlob('ed25519');
const ecdsa = hostKeyBlob('ecdsa');
const target = { host: 'web1', hostName: '10.0.0.5', port: 2222 };
const line = (name: string, blob: Buffer) => `${name} ${blob.subarray(4, 4 + blob.readUInt32BE(0)).toString('latin1')} ${blob.toString('base64')}`;

describe('HostKeyPolicy', () => {
  let home: string;
  let file: string;
  let learned: Array<[string, string]>;
  const policy = (options: Partial<HostKeyPolicyOptions> = {}) =>
    new HostKeyPolicy({ knownHostsFile: file, home, onHostKeyLearned: (host, fingerprint) => learned.push([host, fingerprint]), ...options });

  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'mrsk-hostkeys-'));
    file = join(home, '.ssh', 'known_hosts');
    learned = [];
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  it('accept-new (the default) records an unknown host, 0600 in a new ~/.ssh, and then knows it', () => {
    assert.equal(policy().verify(target, keyA), undefined);
    assert.equal(readFileSync(file, 'utf8'), `${line('[10.0.0.5]:2222', keyA)}\n`);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(dirname(file)).mode & 0o777, 0o700);
    assert.deepEqual(learned, [['web1', fingerprintSha256(keyA)]]);
    assert.equal(policy().verify(target, keyA), undefined);
    assert.equal(learned.length, 1, 'a known host is not learned again');
  });

  it('appends on a line of its own when the file lacks a final newline', () => {
    mkdirSync(dirname(file));
    writeFileSync(file, line('10.0.0.5', keyA)); // no final newline
    policy().verify({ host: 'web2', hostName: '10.0.0.6', port: 22 }, keyB);
    assert.deepEqual(readFileSync(file, 'utf8').split('\n'), [line('10.0.0.5', keyA), line('10.0.0.6', keyB), '']);
  });

  it('refuses a changed key under every policy but false, naming the fix', () => {
    policy().verify(target, keyA);
    for (const strictHostKeyChecking of ['accept-new', 'true'] as const) {
      const error = policy({ strictHostKeyChecking }).verify(target, keyB);
      assert.ok(error instanceof HostKeyError);
      assert.equal(error.kind, 'host-key-changed');
      assert.match(error.message, /host key for \[10\.0\.0\.5\]:2222 has CHANGED: ~\/\.ssh\/known_hosts has SHA256:\S+ \(line 1\)/);
      assert.ok(error.message.includes(`the host presented ${fingerprintSha256(keyB)}`));
      assert.ok(error.message.includes(`remove the old key (ssh-keygen -f ${file} -R '[10.0.0.5]:2222')`));
    }
    assert.equal(policy({ strictHostKeyChecking: 'false' }).verify(target, keyB), undefined);
    assert.equal(readFileSync(file, 'utf8').split('\n').length, 2, 'nothing learned over a changed key');
  });

  it('refuses a @revoked key', () => {
    mkdirSync(dirname(file));
    writeFileSync(file, `@revoked * ${line('x', keyA).split(' ').slice(1).join(' ')}\n`);
    const error = policy().verify(target, keyA);
    assert.ok(error instanceof HostKeyError);
    assert.match(error.message, /is marked @revoked in ~\/\.ssh\/known_hosts \(line 1\); refusing to connect/);
  });

  it('true refuses an unknown host and writes nothing', () => {
    const error = policy({ strictHostKeyChecking: 'true' }).verify(target, keyA);
    assert.ok(error instanceof HostKeyError);
    assert.equal(error.kind, 'host-key-unknown');
    assert.ok(error.message.includes('and ssh.strict_host_key_checking is true; verify the key and add it (ssh-keyscan -p 2222 10.0.0.5 >> '));
    assert.equal(existsSync(file), false);
    assert.deepEqual(learned, []);
  });

  it('false accepts any key and writes nothing', () => {
    assert.equal(policy({ strictHostKeyChecking: 'false' }).verify(target, keyA), undefined);
    assert.equal(existsSync(file), false);
  });

  it('known hosts given as a secret are used instead of the file and never learn', () => {
    const knownHosts = new Secret('KNOWN_HOSTS', `${line('[10.0.0.5]:2222', keyA)}\n`);
    assert.equal(policy({ knownHosts }).verify(target, keyA), undefined);
    const unknown = policy({ knownHosts }).verify({ host: 'web2', hostName: '10.0.0.6', port: 22 }, keyB);
    assert.ok(unknown instanceof HostKeyError);
    assert.equal(unknown.kind, 'host-key-unknown');
    assert.ok(unknown.message.includes('is not in ssh.known_hosts (secret KNOWN_HOSTS), and known hosts given as a secret are not learned'));
    assert.ok(unknown.message.includes('(ssh-keyscan 10.0.0.6)'));
    const changed = policy({ knownHosts }).verify(target, keyB);
    assert.ok(changed instanceof HostKeyError);
    assert.ok(changed.message.includes('put its new key in secret KNOWN_HOSTS (ssh-keyscan -p 2222 10.0.0.5)'));
    assert.equal(existsSync(file), false);
    assert.deepEqual(learned, []);
  });

  it('one policy (one run) sees every change to the file since its last look, its own and others\'', () => {
    const run = policy();
    const other = { host: 'web2', hostName: '10.0.0.6', port: 22 };
    assert.equal(run.verify(target, keyA), undefined);
    assert.equal(run.verify(target, keyA), undefined, 'what it learned a moment ago counts');
    assert.equal(learned.length, 1);
    writeFileSync(file, `${readFileSync(file, 'utf8')}${line('10.0.0.6', keyB)}\n`); // written by another process
    assert.ok(run.verify(other, keyA) instanceof HostKeyError, 'a key another process recorded for web2 counts');
    assert.equal(run.algorithmsFor(other)[0], 'ssh-ed25519');
    writeFileSync(file, `${readFileSync(file, 'utf8')}@revoked * ${line('x', keyA).split(' ').slice(1).join(' ')}\n`);
    assert.match(run.verify(target, keyA)?.message ?? '', /@revoked/, 'a key revoked since is refused');
  });

  it('asks the handshake for the key types known_hosts lists for the host first', () => {
    assert.deepEqual(policy().algorithmsFor(target), DEFAULT_HOST_KEY_ALGORITHMS);
    policy().verify(target, ecdsa);
    const algorithms = policy().algorithmsFor(target);
    assert.equal(algorithms[0], 'ecdsa-sha2-nistp256');
    assert.deepEqual([...algorithms].sort(), [...DEFAULT_HOST_KEY_ALGORITHMS].sort(), 'the rest still offered, none twice');
    assert.deepEqual(policy().algorithmsFor({ ...target, port: 22 }), DEFAULT_HOST_KEY_ALGORITHMS, 'port is part of the name');
  });
});
