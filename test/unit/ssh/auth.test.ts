// Auth-method assembly and connect-error wording (src/ssh/auth.ts) without an sshd: the order
// keys are offered in, the notes that explain skipped keys, and the message and kind for every
// way a connection fails. Real logins with these keys: test/integration/ssh/auth.test.ts.
import assert from 'node:assert/strict';
import { wellFormedKeyPair } from '../../helpers/ssh-keys.ts';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import ssh2 from 'ssh2';
import type { AnyAuthMethod, ParsedKey } from 'ssh2';
import { HostError } from '../../../src/errors.ts';
import { Secret } from '../../../src/secret.ts';
import { authMethods, connectError, envPassphrase, keyDataProblem } from '../../../src/ssh/auth.ts';
import type { AuthAttempt, SshConnectFailure } from '../../../src/ssh/auth.ts';

const { utils } = ssh2;
const plainKey = wellFormedKeyPair('ed25519').private;
const otherKey = wellFormedKeyPair('ed25519').private;
const encryptedKey = wellFormedKeyPair('ed25519', { passphrase: 'correct horse', cipher: 'aes256-ctr', rounds: 2 }).private;

/** Every method the handler offers, in order, until it gives up (as a server refusing them all would see). */
function offered(attempt: AuthAttempt, left: string[] | null = null): AnyAuthMethod[] {
  const methods: AnyAuthMethod[] = [];
  for (let i = 0; i < 50; i++) {
    let next: unknown;
    attempt.handler(left as never, null, (method) => {
      next = method;
    });
    if (next === false) return methods;
    methods.push(next as AnyAuthMethod);
  }
  throw new Error('the handler never gave up');
}

/** A parsed private key whose public half is that of this key text. */
function sameKey(offeredKey: ParsedKey, text: string, passphrase?: string): boolean {
  const parsed = utils.parseKey(text, passphrase);
  if (parsed instanceof Error || Array.isArray(parsed)) throw new Error('test key does not parse');
  return offeredKey.isPrivateKey() && offeredKey.type === parsed.type && offeredKey.getPublicSSH().equals(parsed.getPublicSSH());
}

function withEnv<T>(name: string, value: string | undefined, run: () => T): T {
  const saved = process.env[name];
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
  try {
    return run();
  } finally {
    if (saved === undefined) delete process.env[name];
    else process.env[name] = saved;
  }
}

describe('authMethods', () => {
  let home: string;
  before(() => {
    home = mkdtempSync(join(tmpdir(), 'mrsk-auth-'));
    mkdirSync(join(home, '.ssh'));
  });
  after(() => rmSync(home, { recursive: true, force: true }));

  const target = { user: 'deploy', identityFiles: [] as string[] };

  it('offers nothing, and notes nothing, with no agent and no key anywhere', () => {
    const attempt = authMethods(target, { home, agentSocket: null });
    assert.deepEqual(offered(attempt), []);
    assert.deepEqual(attempt.tried, []);
    assert.deepEqual(attempt.notes, []);
  });

  it('offers key_data, the agent, ssh.keys, IdentityFile, then the default keys, each file once', () => {
    const configured = join(home, 'configured');
    const identity = join(home, 'identity');
    const defaultKey = join(home, '.ssh', 'id_ed25519');
    writeFileSync(configured, plainKey);
    writeFileSync(identity, otherKey);
    writeFileSync(defaultKey, plainKey);
    try {
      const attempt = authMethods(
        { user: 'deploy', identityFiles: [identity, configured, defaultKey] },
        {
          home,
          agentSocket: '/run/agent.sock',
          keys: ['~/configured', configured],
          keyData: [new Secret('ssh.key_data[0]', plainKey), new Secret('DEPLOY_KEY', otherKey)],
        },
      );
      const methods = offered(attempt);
      assert.deepEqual(attempt.tried, [
        'ssh.key_data[0]',
        'ssh.key_data (secret DEPLOY_KEY)',
        'agent',
        '~/configured',
        '~/identity',
        '~/.ssh/id_ed25519',
      ]);
      assert.deepEqual(
        methods.map((method) => method.type),
        ['publickey', 'publickey', 'agent', 'publickey', 'publickey', 'publickey'],
      );
      assert.ok(methods.every((method) => method.username === 'deploy'));
      assert.ok(sameKey((methods[0] as { key: ParsedKey }).key, plainKey), 'key_data is handed over from memory, parsed');
      assert.equal((methods[2] as { agent: string }).agent, '/run/agent.sock');
      assert.deepEqual(attempt.notes, []);
    } finally {
      for (const file of [configured, identity, defaultKey]) rmSync(file);
    }
  });

  it('takes the agent from SSH_AUTH_SOCK unless told, and never with agentSocket null', () => {
    withEnv('SSH_AUTH_SOCK', '/tmp/env-agent.sock', () => {
      const fromEnv = authMethods(target, { home });
      assert.deepEqual(offered(fromEnv), [{ type: 'agent', username: 'deploy', agent: '/tmp/env-agent.sock' }]);
      assert.deepEqual(offered(authMethods(target, { home, agentSocket: null })), []);
    });
    withEnv('SSH_AUTH_SOCK', undefined, () => {
      assert.deepEqual(offered(authMethods(target, { home })), []);
    });
  });

  it('notes an unreadable configured key, but not a missing IdentityFile or default key', () => {
    const attempt = authMethods(
      { user: 'deploy', identityFiles: [join(home, 'absent-identity')] },
      { home, agentSocket: null, keys: ['~/absent-configured'] },
    );
    assert.deepEqual(offered(attempt), []);
    assert.deepEqual(attempt.notes, ['~/absent-configured cannot be read (ENOENT)']);
  });

  it('skips encrypted keys it cannot open, says why, and uses them with the passphrase', () => {
    const file = join(home, 'encrypted');
    writeFileSync(file, encryptedKey);
    chmodSync(file, 0o600);
    try {
      const without = withEnv('MRSK_SSH_PASSPHRASE', undefined, () => authMethods(target, { home, agentSocket: null, keys: [file] }));
      assert.deepEqual(offered(without), []);
      assert.deepEqual(without.notes, ['~/encrypted is encrypted: set MRSK_SSH_PASSPHRASE or add it to ssh-agent']);

      const wrong = authMethods(target, { home, agentSocket: null, keys: [file], passphrase: new Secret('MRSK_SSH_PASSPHRASE', 'wrong') });
      assert.deepEqual(offered(wrong), []);
      assert.deepEqual(wrong.notes, ['~/encrypted could not be decrypted with MRSK_SSH_PASSPHRASE']);

      const right = authMethods(target, { home, agentSocket: null, keys: [file], passphrase: new Secret('MRSK_SSH_PASSPHRASE', 'correct horse') });
      const methods = offered(right);
      assert.equal(methods.length, 1);
      assert.ok(sameKey((methods[0] as { key: ParsedKey }).key, encryptedKey, 'correct horse'), 'the key is offered decrypted');
      assert.equal((methods[0] as { passphrase?: string }).passphrase, undefined, 'the passphrase is not handed on');
      assert.deepEqual(right.notes, []);

      const fromEnv = withEnv('MRSK_SSH_PASSPHRASE', 'correct horse', () => authMethods(target, { home, agentSocket: null, keys: [file] }));
      assert.equal(offered(fromEnv).length, 1, 'MRSK_SSH_PASSPHRASE is the default passphrase');
    } finally {
      rmSync(file);
    }
  });

  it('reads and parses each key file once per set of options, not once per connection', () => {
    const file = join(home, 'read-once');
    writeFileSync(file, plainKey);
    chmodSync(file, 0o600);
    const options = { home, agentSocket: null, keys: [file] };
    const first = offered(authMethods(target, options));
    rmSync(file);
    const second = offered(authMethods(target, options));
    assert.equal(second.length, 1, 'the second connection of the run reuses what the first read');
    assert.equal((second[0] as { key: ParsedKey }).key, (first[0] as { key: ParsedKey }).key, 'the same parsed key');
    const fresh = authMethods(target, { ...options });
    assert.deepEqual(offered(fresh), [], 'another run reads the file again');
    assert.deepEqual(fresh.notes, ['~/read-once cannot be read (ENOENT)']);
  });

  it('notes a file that is not a private key', () => {
    const file = join(home, 'not-a-key');
    writeFileSync(file, 'ssh-ed25519 AAAA not a private key\n');
    try {
      const attempt = authMethods(target, { home, agentSocket: null, keys: [file] });
      assert.deepEqual(offered(attempt), []);
      assert.equal(attempt.notes.length, 1);
      assert.match(attempt.notes[0]!, /^~\/not-a-key is not a usable private key \(.+\)$/);
    } finally {
      rmSync(file);
    }
  });

  it('offers nothing more once the server no longer accepts publickey', () => {
    const attempt = authMethods(target, { home, agentSocket: '/run/agent.sock', keyData: [new Secret('K', plainKey)] });
    assert.deepEqual(offered(attempt, ['password', 'keyboard-interactive']), []);
    assert.deepEqual(attempt.tried, []);
  });
});

describe('connectError', () => {
  // The message as HostError words it for web1 (the host field is HostError's business, not connectError's).
  const hostMessage = (message: string) => new HostError('web1', message).message;
  const target = { host: 'web1', hostName: '10.0.0.5', port: 2222, user: 'deploy' };
  const failure = (message: string, fields: { level?: string; code?: string } = {}): SshConnectFailure => Object.assign(new Error(message), fields);
  const none = { tried: [], notes: [] };

  it('lists what was tried, and why keys were skipped, when authentication fails', () => {
    const error = connectError(
      target,
      failure('All configured authentication methods failed', { level: 'client-authentication' }),
      { tried: ['agent', '~/.ssh/id_ed25519'], notes: ['~/.ssh/deploy cannot be read (EACCES)'] },
      10_000,
    );
    assert.ok(error instanceof HostError);
    assert.equal(error.kind, 'auth-failed');
    assert.equal(error.host, 'web1');
    assert.equal(
      error.message,
      hostMessage('authentication failed for deploy@10.0.0.5:2222 (tried: agent, ~/.ssh/id_ed25519); ~/.ssh/deploy cannot be read (EACCES)'),
    );
  });

  it('says what to do when there was nothing to try', () => {
    const error = connectError(target, failure('denied', { level: 'client-authentication' }), none, 10_000);
    assert.equal(error.message, hostMessage('authentication failed for deploy@10.0.0.5:2222 (no ssh-agent and no usable key: set ssh.keys or start ssh-agent)'));
  });

  it('words a handshake timeout with the connect timeout, in whole or tenths of seconds', () => {
    const handshake = failure('Timed out while waiting for handshake', { level: 'client-timeout' });
    assert.equal(connectError(target, handshake, none, 10_000).message, hostMessage('connect timeout: no SSH session with 10.0.0.5:2222 within 10s'));
    assert.equal(connectError(target, handshake, none, 1_500).message, hostMessage('connect timeout: no SSH session with 10.0.0.5:2222 within 1.5s'));
    assert.equal(connectError(target, handshake, none, 1_500).kind, 'timeout');
    assert.equal(connectError(target, handshake, none, 1_500).beforeSession, true, 'no session: nothing ran there');
    const keepalive = connectError(target, failure('Keepalive timeout', { level: 'client-timeout' }), none, 10_000);
    assert.equal(keepalive.kind, 'timeout');
    assert.equal(keepalive.beforeSession, false, 'a session that stopped answering may have run a command');
    assert.equal(keepalive.message, hostMessage('10.0.0.5:2222 stopped answering (Keepalive timeout)'));
  });

  it('calls network failures unreachable', () => {
    for (const code of ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE', 'EADDRNOTAVAIL']) {
      const error = connectError(target, failure(`connect ${code}`, { code }), none, 10_000);
      assert.equal(error.kind, 'unreachable', code);
      assert.equal(error.message, hostMessage(`unreachable (connect ${code})`));
    }
    for (const level of ['client-dns', 'client-socket']) {
      assert.equal(connectError(target, failure('gone', { level }), none, 10_000).kind, 'unreachable', level);
    }
  });

  it('keeps anything else a plain error, with the cause attached', () => {
    const cause = failure('no matching host key format', { level: 'protocol', code: 'EWHATEVER' });
    const error = connectError(target, cause, none, 10_000);
    assert.equal(error.kind, 'error');
    assert.equal(error.message, hostMessage('SSH connection to 10.0.0.5:2222 failed: no matching host key format'));
    assert.equal(error.cause, cause);
  });
});

describe('keyDataProblem and envPassphrase', () => {
  it('accepts a key that parses, and an encrypted one with its passphrase', () => {
    assert.equal(keyDataProblem(new Secret('K', plainKey), undefined), undefined);
    assert.equal(keyDataProblem(new Secret('K', encryptedKey), new Secret('MRSK_SSH_PASSPHRASE', 'correct horse')), undefined);
  });

  it('says why an encrypted key cannot be used, with or without a passphrase', () => {
    assert.equal(
      keyDataProblem(new Secret('K', encryptedKey), undefined),
      'it is encrypted: set MRSK_SSH_PASSPHRASE (a secret in CI) or give an unencrypted key',
    );
    assert.equal(keyDataProblem(new Secret('K', encryptedKey), new Secret('MRSK_SSH_PASSPHRASE', 'nope')), 'it could not be decrypted with MRSK_SSH_PASSPHRASE');
  });

  it('never shows the text of something that is not a key', () => {
    const garbage = '-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0LXZhbHVlLW5vdC1hLWtleQ==\n-----END OPENSSH PRIVATE KEY-----\n';
    const problem = keyDataProblem(new Secret('K', garbage), undefined);
    assert.ok(problem !== undefined);
    assert.ok(problem.startsWith('it is not a private key ssh can use ('), problem);
    assert.ok(problem.endsWith("give the whole key file's text, BEGIN and END lines included"));
    assert.ok(!problem.includes('c2VjcmV0LXZhbHVlLW5vdC1hLWtleQ'));
  });

  it('reads MRSK_SSH_PASSPHRASE as a Secret, and an empty one as none', () => {
    withEnv('MRSK_SSH_PASSPHRASE', 'hunter2-passphrase', () => {
      const passphrase = envPassphrase();
      assert.ok(passphrase instanceof Secret);
      assert.equal(passphrase.name, 'MRSK_SSH_PASSPHRASE');
      assert.equal(passphrase.reveal(), 'hunter2-passphrase');
      assert.ok(!String(passphrase).includes('hunter2'));
    });
    withEnv('MRSK_SSH_PASSPHRASE', '', () => assert.equal(envPassphrase(), undefined));
    withEnv('MRSK_SSH_PASSPHRASE', undefined, () => assert.equal(envPassphrase(), undefined));
  });
});
