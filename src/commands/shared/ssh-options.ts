// The SSH runner's options from deploy.yml's `ssh:` section. It lives with the commands, not in
// src/ssh, so the transport never depends on the config's shape: a command session turns the
// normalized config into plain runner options, and src/ssh knows only those.
import { join } from 'node:path';
import type { Config } from '../../config/types.ts';
import { ConfigError } from '../../errors.ts';
import type { Secret } from '../../secret.ts';
import { envPassphrase, keyDataProblem } from '../../ssh/auth.ts';
import type { SshRunnerOptions } from '../../ssh/runner.ts';

/** SshRunnerOptions from the normalized config. ssh.user root / port 22 are the defaults, so they leave ~/.ssh/config in charge. */
export function sshRunnerOptionsFromConfig(config: Config): SshRunnerOptions {
  const ssh = config.ssh;
  const passphrase = envPassphrase();
  return {
    ...(ssh.user !== 'root' ? { user: ssh.user } : {}),
    ...(ssh.port !== 22 ? { port: ssh.port } : {}),
    ...(ssh.proxy !== undefined ? { proxy: ssh.proxy } : {}),
    keys: ssh.keys.map((key) => (key.startsWith('~') || key.startsWith('/') ? key : join(config.root, key))),
    strictHostKeyChecking: ssh.strictHostKeyChecking,
    ...(ssh.keyData.length > 0 ? { keyData: checkedKeyData(config, passphrase) } : {}),
    ...(ssh.knownHosts !== undefined ? { knownHosts: ssh.knownHosts } : {}),
    ...(ssh.knownHostsFile !== undefined ? { knownHostsFile: ssh.knownHostsFile } : {}),
    ...(ssh.configFile !== undefined ? { sshConfigFile: ssh.configFile } : {}),
    maxConcurrentHosts: ssh.maxConcurrent,
    connectTimeoutMs: ssh.connectTimeout * 1000,
    commandTimeoutMs: ssh.commandTimeout * 1000,
    keepaliveIntervalMs: ssh.keepaliveInterval * 1000,
    ...(passphrase ? { passphrase } : {}),
  };
}

/**
 * The ssh.key_data keys, each checked before any connection: a key that cannot be parsed (or
 * decrypted) is a config error naming the secret, never showing its value (exit 78).
 */
function checkedKeyData(config: Config, passphrase: Secret | undefined): readonly Secret[] {
  const problems = config.ssh.keyData.flatMap((key, index) => {
    const why = keyDataProblem(key, passphrase);
    if (why === undefined) return [];
    const what = /^ssh\.key_data\[/.test(key.name) ? 'the key text' : `secret ${key.name}`;
    return [{ file: config.file, path: `ssh.key_data[${index}]`, message: `${what}: ${why}` }];
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return config.ssh.keyData;
}
