// Authentication against a real sshd: agent, key files, default keys, encrypted keys, ~/.ssh/config.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateKey, startSshd } from '../../helpers/sshd.ts';
import type { TestSshd } from '../../helpers/sshd.ts';
import { createSshRunner } from '../../../src/ssh/runner.ts';
import { describeError, HostError } from '../../../src/errors.ts';
import { Secret } from '../../../src/secret.ts';
import { optionsFor, tempHome } from './setup.ts';

const run = promisify(execFile);
const HOST = '127.0.0.1';
const PASSPHRASE = 'correct horse battery staple';
let sshd: TestSshd;
let home: ReturnType<typeof tempHome>;
let encryptedKey: string;
let strangerKey: string;

before(async () => {
  sshd = await startSshd();
  home = tempHome();
  encryptedKey = join(home.path, 'encrypted_ed25519');
  strangerKey = join(home.path, 'stranger_ed25519');
  await generateKey(encryptedKey, 'encrypted', PASSPHRASE);
  await generateKey(strangerKey, 'not-authorized');
  sshd.authorize(readFileSync(`${encryptedKey}.pub`, 'utf8'));
});
after(async () => {
  await sshd?.stop();
  home?.remove();
});

/** Runs `whoami` with these options and closes the runner. */
async function whoami(overrides: Parameters<typeof optionsFor>[2]): Promise<string> {
  const runner = createSshRunner(optionsFor(sshd, home.path, overrides));
  try {
    return (await runner.exec(HOST, ['whoami'])).stdout.trim();
  } finally {
    await runner.close();
  }
}

/** The HostError a connection attempt with these options fails with. */
async function connectError(overrides: Parameters<typeof optionsFor>[2]): Promise<HostError> {
  try {
    await whoami(overrides);
  } catch (error) {
    assert.ok(error instanceof HostError, `expected a HostError, got ${String(error)}`);
    return error;
  }
  assert.fail('the connection unexpectedly succeeded');
}

describe('key files', () => {
  it('authenticates with a configured key', async () => {
    assert.equal(await whoami({ keys: [sshd.clientKeyPath] }), 'root');
  });

  it('falls back to ~/.ssh/id_ed25519 when no key is configured', async () => {
    const defaultHome = tempHome();
    try {
      mkdirSync(join(defaultHome.path, '.ssh'), { mode: 0o700 });
      copyFileSync(sshd.clientKeyPath, join(defaultHome.path, '.ssh', 'id_ed25519'));
      const runner = createSshRunner(optionsFor(sshd, defaultHome.path, { keys: [] }));
      try {
        assert.equal((await runner.exec(HOST, ['whoami'])).stdout, 'root\n');
      } finally {
        await runner.close();
      }
    } finally {
      defaultHome.remove();
    }
  });

  it('names the user and every method tried when authentication fails', async () => {
    const error = await connectError({ keys: [strangerKey] });
    assert.equal(error.kind, 'auth-failed');
    assert.equal(describeError(error), `127.0.0.1: authentication failed for root@127.0.0.1:${sshd.port} (tried: ~/stranger_ed25519)`);
  });

  it('says there was nothing to try when there is no agent and no key', async () => {
    const error = await connectError({ keys: [] });
    assert.equal(error.kind, 'auth-failed');
    assert.match(error.message, /no ssh-agent and no usable key: set ssh\.keys or start ssh-agent/);
  });

  it('reports a configured key that cannot be read', async () => {
    const error = await connectError({ keys: ['~/missing_key', strangerKey] });
    assert.match(error.message, /tried: ~\/stranger_ed25519\); ~\/missing_key cannot be read \(ENOENT\)/);
  });
});

describe('encrypted keys', () => {
  it('refuses clearly without MRSK_SSH_PASSPHRASE', async () => {
    const saved = process.env.MRSK_SSH_PASSPHRASE;
    delete process.env.MRSK_SSH_PASSPHRASE;
    try {
      const error = await connectError({ keys: [encryptedKey] });
      assert.equal(error.kind, 'auth-failed');
      assert.match(error.message, /~\/encrypted_ed25519 is encrypted: set MRSK_SSH_PASSPHRASE or add it to ssh-agent/);
    } finally {
      if (saved !== undefined) process.env.MRSK_SSH_PASSPHRASE = saved;
    }
  });

  it('authenticates with the passphrase, and a wrong one is named without being shown', async () => {
    assert.equal(await whoami({ keys: [encryptedKey], passphrase: new Secret('MRSK_SSH_PASSPHRASE', PASSPHRASE) }), 'root');
    const error = await connectError({ keys: [encryptedKey], passphrase: new Secret('MRSK_SSH_PASSPHRASE', 'wrong horse') });
    assert.match(error.message, /~\/encrypted_ed25519 could not be decrypted with MRSK_SSH_PASSPHRASE/);
    assert.ok(!error.message.includes('wrong horse'));
  });

  it('reads the passphrase from MRSK_SSH_PASSPHRASE by default', async () => {
    const saved = process.env.MRSK_SSH_PASSPHRASE;
    process.env.MRSK_SSH_PASSPHRASE = PASSPHRASE;
    try {
      assert.equal(await whoami({ keys: [encryptedKey] }), 'root');
    } finally {
      if (saved === undefined) delete process.env.MRSK_SSH_PASSPHRASE;
      else process.env.MRSK_SSH_PASSPHRASE = saved;
    }
  });
});

describe('ssh-agent', () => {
  let agent: ChildProcess | undefined;
  let socket: string;

  before(async () => {
    socket = join(home.path, 'agent.sock');
    agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    const started = agent;
    process.once('exit', () => started.kill('SIGKILL'));
    for (let attempt = 0; attempt < 100 && !existsSync(socket); attempt++) await new Promise((resolve) => setTimeout(resolve, 20));
    await run('ssh-add', ['-q', sshd.clientKeyPath], { env: { ...process.env, SSH_AUTH_SOCK: socket } });
  });
  after(() => {
    agent?.kill('SIGTERM');
  });

  it('authenticates with a key held only by the agent, trying the agent first', async () => {
    const logBefore = sshd.log().length;
    assert.equal(await whoami({ keys: [strangerKey], agentSocket: socket }), 'root');
    await sshd.waitForLog(/Accepted publickey for root/);
    const newLog = sshd.log().slice(logBefore);
    assert.match(newLog, /Accepted publickey for root/);
    assert.ok(!newLog.includes('Failed publickey'), 'the unauthorized key file was tried before the agent');
  });

  it('uses SSH_AUTH_SOCK when no agent socket is given, and lists the agent among the methods tried', async () => {
    const saved = process.env.SSH_AUTH_SOCK;
    process.env.SSH_AUTH_SOCK = socket;
    try {
      const runner = createSshRunner({ ...optionsFor(sshd, home.path, { keys: [] }), agentSocket: undefined });
      try {
        assert.equal((await runner.exec(HOST, ['whoami'])).stdout, 'root\n');
      } finally {
        await runner.close();
      }
      await run('ssh-add', ['-D'], { env: { ...process.env, SSH_AUTH_SOCK: socket } });
      const error = await connectError({ keys: [strangerKey], agentSocket: socket });
      assert.match(error.message, /\(tried: agent, ~\/stranger_ed25519\)/);
    } finally {
      if (saved === undefined) delete process.env.SSH_AUTH_SOCK;
      else process.env.SSH_AUTH_SOCK = saved;
    }
  });
});

describe('~/.ssh/config', () => {
  it('honours HostName, Port, User and IdentityFile for an alias', async () => {
    const configFile = join(home.path, 'ssh_config');
    writeFileSync(
      configFile,
      [`Host deploy-target`, `  HostName 127.0.0.1`, `  Port ${sshd.port}`, `  User root`, `  IdentityFile ${sshd.clientKeyPath}`, ''].join('\n'),
    );
    const runner = createSshRunner({ home: home.path, agentSocket: null, sshConfigFile: configFile });
    try {
      const result = await runner.exec('deploy-target', { script: 'echo "$(whoami) $SSH_CONNECTION"' });
      assert.match(result.stdout, new RegExp(`^root 127\\.0\\.0\\.1 \\d+ 127\\.0\\.0\\.1 ${sshd.port}\\n$`));
      assert.deepEqual(runner.stats(), { 'deploy-target': { connections: 1, commands: 1 } });
      // known_hosts files the key under the real address, as OpenSSH does.
      assert.match(readFileSync(home.knownHosts, 'utf8'), new RegExp(`^\\[127\\.0\\.0\\.1\\]:${sshd.port} ssh-ed25519 `, 'm'));
    } finally {
      await runner.close();
    }
  });
});
