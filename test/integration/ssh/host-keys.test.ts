// Host key checking against a real sshd: accept-new, changed keys, hashed entries, strict modes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fingerprintOf, generateKey, startSshd } from '../../helpers/sshd.ts';
import type { TestSshd } from '../../helpers/sshd.ts';
import { createSshRunner } from '../../../src/ssh/runner.ts';
import type { SshRunnerOptions } from '../../../src/ssh/runner.ts';
import { describeError, HostError, HostKeyError } from '../../../src/errors.ts';
import { optionsFor, tempHome } from './setup.ts';

const HOST = '127.0.0.1';
let sshd: TestSshd;
let home: ReturnType<typeof tempHome>;
let otherKey: { line: string; fingerprint: string };
let knownName: string;

before(async () => {
  sshd = await startSshd();
  home = tempHome();
  knownName = `[127.0.0.1]:${sshd.port}`;
  const otherPath = join(home.path, 'other_host_key');
  await generateKey(otherPath, 'someone-else');
  otherKey = { line: readFileSync(`${otherPath}.pub`, 'utf8').trim(), fingerprint: await fingerprintOf(`${otherPath}.pub`) };
});
after(async () => {
  await sshd?.stop();
  home?.remove();
});

function writeKnownHosts(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

/** Connects with these options and runs `true`; returns the error, if any. */
async function tryConnect(overrides: SshRunnerOptions): Promise<Error | undefined> {
  const runner = createSshRunner(optionsFor(sshd, home.path, overrides));
  try {
    await runner.exec(HOST, ['true']);
    return undefined;
  } catch (error) {
    return error as Error;
  } finally {
    await runner.close();
  }
}

let fileCounter = 0;
function freshKnownHostsFile(): string {
  return join(home.path, `known_hosts_${++fileCounter}`);
}

describe('accept-new (the default)', () => {
  it('records an unknown host in a line OpenSSH reads back, and reports the fingerprint learned', async () => {
    const file = join(home.path, 'new', '.ssh', 'known_hosts');
    const learned: Array<[string, string]> = [];
    assert.equal(await tryConnect({ knownHostsFile: file, onHostKeyLearned: (host, fingerprint) => learned.push([host, fingerprint]) }), undefined);
    assert.deepEqual(learned, [[HOST, sshd.hostKeyFingerprint]]);
    const [type, key] = sshd.hostPublicKey.split(' ');
    assert.equal(readFileSync(file, 'utf8'), `${knownName} ${type} ${key}\n`);
    // OpenSSH's own lookup finds the recorded entry.
    const found = execFileSync('ssh-keygen', ['-F', knownName, '-f', file], { encoding: 'utf8' });
    assert.match(found, new RegExp(`Host \\[127\\.0\\.0\\.1\\]:${sshd.port} found`));
    // The next run knows the host, even with strict checking.
    assert.equal(await tryConnect({ knownHostsFile: file, strictHostKeyChecking: 'true' }), undefined);
    assert.equal(readFileSync(file, 'utf8').split('\n').filter(Boolean).length, 1, 'a known host is not recorded twice');
  });

  it('appends to an existing file without breaking its last line', async () => {
    const file = freshKnownHostsFile();
    writeKnownHosts(file, `other.example.com ${otherKey.line.split(' ').slice(0, 2).join(' ')}`);
    assert.equal(await tryConnect({ knownHostsFile: file }), undefined);
    const lines = readFileSync(file, 'utf8').split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0]!, /^other\.example\.com ssh-ed25519 /);
    assert.ok(lines[1]!.startsWith(`${knownName} ssh-ed25519 `));
  });

  it('refuses a changed key, naming the host and both fingerprints, and leaves the file alone', async () => {
    const file = freshKnownHostsFile();
    const original = `${knownName} ${otherKey.line}\n`;
    writeKnownHosts(file, original);
    const logBefore = sshd.log().length;
    const error = await tryConnect({ knownHostsFile: file });
    assert.ok(error instanceof HostKeyError, String(error));
    assert.equal(error.kind, 'host-key-changed');
    assert.equal(error.exitCode, 77);
    assert.ok(describeError(error).startsWith(`127.0.0.1: host key for ${knownName} has CHANGED`));
    assert.ok(error.message.includes(otherKey.fingerprint), 'names the fingerprint on file');
    assert.ok(error.message.includes(sshd.hostKeyFingerprint), 'names the fingerprint presented');
    assert.match(error.message, /man-in-the-middle/);
    assert.equal(readFileSync(file, 'utf8'), original);
    assert.ok(!sshd.log().slice(logBefore).includes('Accepted publickey'), 'authenticated to a host with a changed key');
  });
});

describe('hashed entries', () => {
  it('accepts a host whose entry ssh-keygen -H hashed', async () => {
    const file = freshKnownHostsFile();
    writeKnownHosts(file, `${knownName} ${sshd.hostPublicKey}\n`);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', file], { stdio: 'ignore' });
    assert.match(readFileSync(file, 'utf8'), /^\|1\|/);
    assert.equal(await tryConnect({ knownHostsFile: file, strictHostKeyChecking: 'true' }), undefined);
  });

  it('refuses a changed key under a hashed entry too', async () => {
    const file = freshKnownHostsFile();
    writeKnownHosts(file, `${knownName} ${otherKey.line}\n`);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', file], { stdio: 'ignore' });
    const error = await tryConnect({ knownHostsFile: file });
    assert.ok(error instanceof HostKeyError && error.kind === 'host-key-changed', String(error));
  });
});

describe('strict_host_key_checking', () => {
  it('true refuses an unknown host and records nothing', async () => {
    const file = freshKnownHostsFile();
    const error = await tryConnect({ knownHostsFile: file, strictHostKeyChecking: 'true' });
    assert.ok(error instanceof HostKeyError, String(error));
    assert.equal(error.kind, 'host-key-unknown');
    assert.match(error.message, new RegExp(`not in .*known_hosts_\\d+ and ssh\\.strict_host_key_checking is true`));
    assert.ok(error.message.includes(sshd.hostKeyFingerprint));
    assert.equal(existsSync(file), false);
  });

  it('false accepts even a changed key (and records nothing)', async () => {
    const file = freshKnownHostsFile();
    writeKnownHosts(file, `${knownName} ${otherKey.line}\n`);
    assert.equal(await tryConnect({ knownHostsFile: file, strictHostKeyChecking: 'false' }), undefined);
    assert.equal(readFileSync(file, 'utf8'), `${knownName} ${otherKey.line}\n`);
  });

  it('does not confuse a key filed for the same address on another port', async () => {
    const file = freshKnownHostsFile();
    writeKnownHosts(file, `127.0.0.1 ${otherKey.line}\n[127.0.0.1]:1 ${otherKey.line}\n`);
    const error = await tryConnect({ knownHostsFile: file, strictHostKeyChecking: 'true' });
    assert.ok(error instanceof HostError && error.kind === 'host-key-unknown', String(error));
  });
});
