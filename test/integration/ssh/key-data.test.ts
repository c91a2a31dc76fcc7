// Credentials a CI pipeline gives as secrets, against a real sshd: ssh.key_data (private keys held
// in memory) and ssh.known_hosts (known_hosts lines as content). Nothing is written to disk and
// no key text appears in any message.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { generateKey, startSshd } from '../../helpers/sshd.ts';
import type { TestSshd } from '../../helpers/sshd.ts';
import { createSshRunner } from '../../../src/ssh/runner.ts';
import type { SshRunnerOptions } from '../../../src/ssh/runner.ts';
import { sshRunnerOptionsFromConfig } from '../../../src/commands/shared/ssh-options.ts';
import { ConfigError, HostError, HostKeyError } from '../../../src/errors.ts';
import type { Config, SshConfig } from '../../../src/config/types.ts';
import { Secret } from '../../../src/secret.ts';
import { tempHome } from './setup.ts';

const HOST = '127.0.0.1';
let sshd: TestSshd;
let home: ReturnType<typeof tempHome>;
let clientKey: string;
let strangerKey: string;

before(async () => {
  sshd = await startSshd();
  home = tempHome();
  clientKey = readFileSync(sshd.clientKeyPath, 'utf8');
  const strangerPath = join(home.path, 'stranger_ed25519');
  await generateKey(strangerPath, 'not-authorized');
  strangerKey = readFileSync(strangerPath, 'utf8');
});
after(async () => {
  await sshd?.stop();
  home?.remove();
});

/** Options with no key file at all: only what the test gives in memory. */
function options(overrides: SshRunnerOptions): SshRunnerOptions {
  return { home: home.path, port: sshd.port, keys: [], agentSocket: null, sshConfigFile: join(home.path, 'no-ssh-config'), ...overrides };
}

async function attempt(overrides: SshRunnerOptions): Promise<{ stdout?: string; error?: Error }> {
  const runner = createSshRunner(options(overrides));
  try {
    return { stdout: (await runner.exec(HOST, ['whoami'])).stdout.trim() };
  } catch (error) {
    return { error: error as Error };
  } finally {
    await runner.close();
  }
}

const knownLine = () => `[127.0.0.1]:${sshd.port} ${sshd.hostPublicKey}\n`;

describe('ssh.key_data', () => {
  it('authenticates with a key given only as a secret value, and writes no file in the home', async () => {
    const before = existsSync(join(home.path, '.ssh')) ? readdirSync(join(home.path, '.ssh')) : [];
    const result = await attempt({
      keyData: [new Secret('DEPLOY_SSH_KEY', clientKey)],
      knownHosts: new Secret('SSH_KNOWN_HOSTS', knownLine()),
    });
    assert.equal(result.error, undefined, String(result.error));
    assert.equal(result.stdout, 'root');
    const after = existsSync(join(home.path, '.ssh')) ? readdirSync(join(home.path, '.ssh')) : [];
    assert.deepEqual(after, before, 'known hosts given as content are never written to a file');
  });

  it('names the secret, never its text, when the key is refused', async () => {
    const result = await attempt({ keyData: [new Secret('DEPLOY_SSH_KEY', strangerKey)], strictHostKeyChecking: 'false' });
    assert.ok(result.error instanceof HostError);
    assert.equal(result.error.kind, 'auth-failed');
    assert.match(result.error.message, /tried: ssh\.key_data \(secret DEPLOY_SSH_KEY\)/);
    assert.ok(!result.error.message.includes('PRIVATE KEY'));
  });

  it('tries each key in turn: the second one given is used when the first is refused', async () => {
    const result = await attempt({
      keyData: [new Secret('OLD_KEY', strangerKey), new Secret('NEW_KEY', clientKey)],
      strictHostKeyChecking: 'false',
    });
    assert.equal(result.stdout, 'root');
  });
});

describe('ssh.known_hosts (content)', () => {
  it('refuses a host it does not list, even under accept-new, and names the secret to add it to', async () => {
    const result = await attempt({
      keyData: [new Secret('DEPLOY_SSH_KEY', clientKey)],
      knownHosts: new Secret('SSH_KNOWN_HOSTS', '# nothing here\n'),
      strictHostKeyChecking: 'accept-new',
    });
    assert.ok(result.error instanceof HostKeyError, String(result.error));
    assert.equal(result.error.exitCode, 77);
    assert.match(result.error.message, /is not in ssh\.known_hosts \(secret SSH_KNOWN_HOSTS\), and known hosts given as a secret are not learned/);
  });

  it('refuses a changed key with the fix for a secret (not ssh-keygen -R on a file)', async () => {
    const other = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBm1g5YjGp2wS2fG3dbT3gqN2mO4Wq4Gd5o1Yp6l8uYx';
    const result = await attempt({
      keyData: [new Secret('DEPLOY_SSH_KEY', clientKey)],
      knownHosts: new Secret('SSH_KNOWN_HOSTS', `[127.0.0.1]:${sshd.port} ${other}\n`),
    });
    assert.ok(result.error instanceof HostKeyError, String(result.error));
    assert.match(result.error.message, /has CHANGED: ssh\.known_hosts \(secret SSH_KNOWN_HOSTS\) has SHA256:/);
    assert.match(result.error.message, /put its new key in secret SSH_KNOWN_HOSTS/);
  });
});

describe('sshRunnerOptionsFromConfig with key_data', () => {
  const config = (ssh: Partial<SshConfig>): Config =>
    ({
      file: 'config/deploy.yml',
      root: '/srv/app',
      ssh: { user: 'root', port: 22, keys: [], keyData: [], strictHostKeyChecking: 'accept-new', maxConcurrent: 30, connectTimeout: 10, commandTimeout: 300, keepaliveInterval: 15, ...ssh },
    }) as unknown as Config;

  it('passes the keys and known hosts through as secrets', () => {
    const key = new Secret('DEPLOY_SSH_KEY', clientKey);
    const known = new Secret('SSH_KNOWN_HOSTS', knownLine());
    const built = sshRunnerOptionsFromConfig(config({ keyData: [key], knownHosts: known }));
    assert.deepEqual(built.keyData, [key]);
    assert.equal(built.knownHosts, known);
    assert.ok(!JSON.stringify(built).includes('PRIVATE KEY'));
  });

  it('refuses a malformed key before any connection: a config error naming the secret, not its value (exit 78)', () => {
    const garbage = 'not-a-key-but-a-secret-value-0123456789';
    assert.throws(
      () => sshRunnerOptionsFromConfig(config({ keyData: [new Secret('DEPLOY_SSH_KEY', garbage)] })),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.exitCode, 78);
        assert.match(error.message, /^config\/deploy\.yml ssh\.key_data\[0\]: secret DEPLOY_SSH_KEY: it is not a private key ssh can use/);
        assert.ok(!error.message.includes(garbage));
        return true;
      },
    );
  });

  it('says an encrypted key needs MRSK_SSH_PASSPHRASE', async () => {
    const path = join(home.path, 'encrypted_key');
    await generateKey(path, 'encrypted', 'a passphrase');
    const saved = process.env.MRSK_SSH_PASSPHRASE;
    delete process.env.MRSK_SSH_PASSPHRASE;
    try {
      assert.throws(
        () => sshRunnerOptionsFromConfig(config({ keyData: [new Secret('DEPLOY_SSH_KEY', readFileSync(path, 'utf8'))] })),
        /secret DEPLOY_SSH_KEY: it is encrypted: set MRSK_SSH_PASSPHRASE/,
      );
    } finally {
      if (saved !== undefined) process.env.MRSK_SSH_PASSPHRASE = saved;
    }
  });
});
