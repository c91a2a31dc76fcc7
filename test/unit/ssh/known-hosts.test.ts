import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  checkHostKey,
  entryMatchesHost,
  fingerprintSha256,
  keyTypeOfBlob,
  knownHostsLine,
  knownHostsName,
  knownKeyTypes,
  parseKnownHosts,
} from '../../../src/ssh/known-hosts.ts';

// Real keys from ssh-keygen, so blobs, types and fingerprints are checked against OpenSSH itself.
let dir: string;
let keyA: { blob: Buffer; base64: string; fingerprint: string };
let keyB: { blob: Buffer; base64: string; fingerprint: string };
let rsaKey: { blob: Buffer; base64: string; fingerprint: string };

function makeKey(name: string, type: string) {
  const path = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-f', path]);
  const base64 = readFileSync(`${path}.pub`, 'utf8').split(' ')[1]!;
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${path}.pub`], { encoding: 'utf8' }).split(' ')[1]!;
  return { blob: Buffer.from(base64, 'base64'), base64, fingerprint };
}

/** The hashed name OpenSSH writes: |1|base64(salt)|base64(HMAC-SHA1(salt, name)). */
function hashName(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'mrsk-kh-'));
  keyA = makeKey('a', 'ed25519');
  keyB = makeKey('b', 'ed25519');
  rsaKey = makeKey('r', 'rsa');
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('fingerprints and key types', () => {
  it('prints SHA256 fingerprints exactly as ssh-keygen -l does', () => {
    assert.equal(fingerprintSha256(keyA.blob), keyA.fingerprint);
    assert.equal(fingerprintSha256(rsaKey.blob), rsaKey.fingerprint);
  });

  it('reads the key type from the blob', () => {
    assert.equal(keyTypeOfBlob(keyA.blob), 'ssh-ed25519');
    assert.equal(keyTypeOfBlob(rsaKey.blob), 'ssh-rsa');
  });
});

describe('knownHostsName', () => {
  it('uses the bare host on port 22 and [host]:port otherwise, lower-cased', () => {
    assert.equal(knownHostsName('Web1.Example.com', 22), 'web1.example.com');
    assert.equal(knownHostsName('10.0.0.1', 2222), '[10.0.0.1]:2222');
  });
});

describe('parseKnownHosts', () => {
  it('reads key lines with markers and skips comments, blanks and malformed lines', () => {
    const text = [
      '# comment',
      '',
      `web1,10.0.0.1 ssh-ed25519 ${keyA.base64} comment here`,
      `@revoked * ssh-ed25519 ${keyB.base64}`,
      `@cert-authority *.example.com ssh-ed25519 ${keyA.base64}`,
      'broken-line-without-key',
      `@unknown-marker host ssh-ed25519 ${keyA.base64}`,
      `  [db]:2222\tssh-rsa ${rsaKey.base64}`,
    ].join('\n');
    const entries = parseKnownHosts(text);
    assert.deepEqual(
      entries.map((entry) => [entry.marker ?? '', entry.hosts, entry.keyType, entry.line]),
      [
        ['', 'web1,10.0.0.1', 'ssh-ed25519', 3],
        ['revoked', '*', 'ssh-ed25519', 4],
        ['cert-authority', '*.example.com', 'ssh-ed25519', 5],
        ['', '[db]:2222', 'ssh-rsa', 8],
      ],
    );
  });
});

describe('entryMatchesHost', () => {
  const matches = (hosts: string, name: string) => entryMatchesHost({ hosts }, name);

  it('matches any name of a comma list, case-insensitively', () => {
    assert.ok(matches('web1,10.0.0.1', '10.0.0.1'));
    assert.ok(matches('WEB1', 'web1'));
    assert.ok(!matches('web1,10.0.0.1', 'web2'));
  });

  it('supports * and ? wildcards and treats other characters literally', () => {
    assert.ok(matches('*.example.com', 'a.example.com'));
    assert.ok(matches('web?', 'web7'));
    assert.ok(!matches('web?', 'web10'));
    assert.ok(!matches('a.b', 'axb'), 'a dot is not a regex wildcard');
  });

  it('lets a matching negation veto the line', () => {
    assert.ok(!matches('*.example.com,!evil.example.com', 'evil.example.com'));
    assert.ok(matches('*.example.com,!evil.example.com', 'good.example.com'));
    assert.ok(!matches('!evil.example.com', 'good.example.com'), 'a negation alone matches nothing');
  });

  it('matches [host]:port names only with the same port', () => {
    assert.ok(matches('[10.0.0.1]:2222', '[10.0.0.1]:2222'));
    assert.ok(!matches('[10.0.0.1]:2222', '10.0.0.1'));
    assert.ok(!matches('10.0.0.1', '[10.0.0.1]:2222'));
  });

  it('matches hashed names by HMAC-SHA1, also in [host]:port form', () => {
    assert.ok(matches(hashName('web1'), 'web1'));
    assert.ok(!matches(hashName('web1'), 'web2'));
    assert.ok(matches(hashName('[127.0.0.1]:2200'), '[127.0.0.1]:2200'));
    assert.ok(!matches(hashName('[127.0.0.1]:2200'), '127.0.0.1'));
  });

  it('matches a hashed entry written by ssh-keygen -H', () => {
    const file = join(dir, 'known_hosts_hashed');
    writeFileSync(file, `[127.0.0.1]:4022 ssh-ed25519 ${keyA.base64}\n`);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', file], { stdio: 'ignore' });
    const [entry] = parseKnownHosts(readFileSync(file, 'utf8'));
    assert.ok(entry?.hosts.startsWith('|1|'), 'ssh-keygen hashed the name');
    assert.ok(entryMatchesHost(entry!, '[127.0.0.1]:4022'));
    assert.ok(!entryMatchesHost(entry!, '[127.0.0.1]:4023'));
  });
});

describe('checkHostKey', () => {
  it('knows a listed key, including under a hashed name', () => {
    const entries = parseKnownHosts(`${hashName('web1')} ssh-ed25519 ${keyA.base64}`);
    assert.equal(checkHostKey(entries, 'web1', keyA.blob).status, 'known');
  });

  it('reports a host that is not listed as unknown', () => {
    const entries = parseKnownHosts(`web2 ssh-ed25519 ${keyA.base64}`);
    assert.deepEqual(checkHostKey(entries, 'web1', keyA.blob), { status: 'unknown' });
  });

  it('reports a changed key with the fingerprints on file', () => {
    const entries = parseKnownHosts(`web1 ssh-ed25519 ${keyA.base64}`);
    const check = checkHostKey(entries, 'web1', keyB.blob);
    assert.equal(check.status, 'changed');
    assert.deepEqual(check.status === 'changed' && check.knownFingerprints, [keyA.fingerprint]);
  });

  it('treats a host listed only with a key of another type as changed (refused, not learned)', () => {
    const entries = parseKnownHosts(`web1 ssh-rsa ${rsaKey.base64}`);
    assert.equal(checkHostKey(entries, 'web1', keyA.blob).status, 'changed');
  });

  it('accepts the key when any of several lines for the host has it', () => {
    const entries = parseKnownHosts(`web1 ssh-rsa ${rsaKey.base64}\nweb1 ssh-ed25519 ${keyA.base64}`);
    assert.equal(checkHostKey(entries, 'web1', keyA.blob).status, 'known');
  });

  it('refuses a @revoked key even for a host that lists it', () => {
    const entries = parseKnownHosts(`web1 ssh-ed25519 ${keyA.base64}\n@revoked * ssh-ed25519 ${keyA.base64}`);
    assert.equal(checkHostKey(entries, 'web1', keyA.blob).status, 'revoked');
  });

  it('ignores @cert-authority lines (they vouch for certificates, not keys)', () => {
    const entries = parseKnownHosts(`@cert-authority web1 ssh-ed25519 ${keyA.base64}`);
    assert.equal(checkHostKey(entries, 'web1', keyA.blob).status, 'unknown');
  });
});

describe('knownHostsLine and knownKeyTypes', () => {
  it('writes a line that reads back as known', () => {
    const line = knownHostsLine('[127.0.0.1]:2222', keyA.blob);
    assert.equal(line, `[127.0.0.1]:2222 ssh-ed25519 ${keyA.base64}`);
    assert.equal(checkHostKey(parseKnownHosts(line), '[127.0.0.1]:2222', keyA.blob).status, 'known');
  });

  it('lists the key types on file for a host', () => {
    const entries = parseKnownHosts(`web1 ssh-rsa ${rsaKey.base64}\nweb1,web2 ssh-ed25519 ${keyA.base64}\nweb3 ssh-ed25519 ${keyB.base64}`);
    assert.deepEqual(knownKeyTypes(entries, 'web1'), ['ssh-rsa', 'ssh-ed25519']);
    assert.deepEqual(knownKeyTypes(entries, 'web9'), []);
  });
});
