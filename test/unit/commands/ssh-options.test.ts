import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Config, SshConfig } from '../../../src/config/types.ts';
import { sshRunnerOptionsFromConfig } from '../../../src/commands/shared/ssh-options.ts';
import { makeConfig } from '../helpers/config.ts';

/** The test config's ssh settings with user root, changed by `ssh`. */
function configWith(ssh: Partial<SshConfig>): Config {
  return makeConfig({ ssh: { ...makeConfig().ssh, user: 'root', ...ssh } });
}

describe('sshRunnerOptionsFromConfig', () => {
  it('leaves user and port to ~/.ssh/config when deploy.yml keeps the defaults, and converts seconds to ms', () => {
    const saved = process.env.MRSK_SSH_PASSPHRASE;
    delete process.env.MRSK_SSH_PASSPHRASE;
    try {
      assert.deepEqual(sshRunnerOptionsFromConfig(configWith({})), {
        keys: [],
        strictHostKeyChecking: 'accept-new',
        maxConcurrentHosts: 30,
        connectTimeoutMs: 10_000,
        commandTimeoutMs: 300_000,
        keepaliveIntervalMs: 15_000,
      });
    } finally {
      if (saved !== undefined) process.env.MRSK_SSH_PASSPHRASE = saved;
    }
  });

  it('passes explicit settings through and resolves relative key paths against the project root', () => {
    const options = sshRunnerOptionsFromConfig(
      configWith({
        user: 'deploy',
        port: 2222,
        proxy: 'ops@bastion:2200',
        keys: ['~/.ssh/deploy', '/etc/keys/ci', 'config/keys/app'],
        strictHostKeyChecking: 'true',
        maxConcurrent: 5,
        connectTimeout: 3,
        commandTimeout: 60,
        knownHostsFile: '/tmp/kh',
        configFile: '/tmp/sshconfig',
      }),
    );
    assert.equal(options.user, 'deploy');
    assert.equal(options.port, 2222);
    assert.equal(options.proxy, 'ops@bastion:2200');
    assert.deepEqual(options.keys, ['~/.ssh/deploy', '/etc/keys/ci', '/srv/app/config/keys/app']);
    assert.equal(options.strictHostKeyChecking, 'true');
    assert.equal(options.maxConcurrentHosts, 5);
    assert.equal(options.connectTimeoutMs, 3_000);
    assert.equal(options.commandTimeoutMs, 60_000);
    assert.equal(options.knownHostsFile, '/tmp/kh');
    assert.equal(options.sshConfigFile, '/tmp/sshconfig');
  });

  it('carries MRSK_SSH_PASSPHRASE as a Secret that never prints', () => {
    const saved = process.env.MRSK_SSH_PASSPHRASE;
    process.env.MRSK_SSH_PASSPHRASE = 'hunter2-passphrase';
    try {
      const options = sshRunnerOptionsFromConfig(configWith({}));
      assert.equal(options.passphrase?.reveal(), 'hunter2-passphrase');
      assert.ok(!JSON.stringify(options).includes('hunter2'));
      assert.ok(!String(options.passphrase).includes('hunter2'));
    } finally {
      if (saved === undefined) delete process.env.MRSK_SSH_PASSPHRASE;
      else process.env.MRSK_SSH_PASSPHRASE = saved;
    }
  });
});
