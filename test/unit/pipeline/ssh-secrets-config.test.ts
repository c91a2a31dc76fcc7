// ssh.key_data and ssh.known_hosts in deploy.yml: secrets resolved like every other secret (the
// environment first, then .mrsk/secrets), kept as Secret values that never print.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { ConfigError } from '../../../src/errors.ts';
import { loadConfig } from '../../../src/config/load.ts';

const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n';

async function project(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'mrsk-ci-config-'));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), text);
  }
  return root;
}

const deployYml = (ssh: string) => `service: app\nimage: acme/app\nservers:\n  - 10.0.0.1\nssh:\n${ssh}`;

test('key_data names secrets: the environment wins over .mrsk/secrets; the values never print', async (t) => {
  const root = await project({
    'config/deploy.yml': deployYml('  key_data: [DEPLOY_SSH_KEY, SECOND_KEY]\n  known_hosts: SSH_KNOWN_HOSTS\n'),
    '.mrsk/secrets': 'SECOND_KEY=from-the-file\nSSH_KNOWN_HOSTS="10.0.0.1 ssh-ed25519 AAAA"\n',
  });
  t.after(() => rm(root, { recursive: true, force: true }));
  const config = await loadConfig({ file: 'config/deploy.yml', cwd: root, env: { DEPLOY_SSH_KEY: KEY } });
  assert.deepEqual(config.ssh.keyData.map((key) => key.name), ['DEPLOY_SSH_KEY', 'SECOND_KEY']);
  assert.equal(config.ssh.keyData[0]!.reveal(), KEY);
  assert.equal(config.ssh.keyData[1]!.reveal(), 'from-the-file');
  assert.equal(config.ssh.knownHosts?.reveal(), '10.0.0.1 ssh-ed25519 AAAA');
  const shown = `${JSON.stringify(config)} ${inspect(config, { depth: 10 })}`;
  assert.ok(!shown.includes('PRIVATE KEY') && !shown.includes('from-the-file'));
  // the keys are among the run's secrets, so host output quoting one is redacted
  assert.ok(config.secrets.some((secret) => secret.name === 'DEPLOY_SSH_KEY'));
});

test('a key_data entry that is the key text itself (Kamal style, through ${VAR}) is a secret too', async (t) => {
  const root = await project({ 'config/deploy.yml': deployYml('  key_data:\n    - ${CI_SSH_KEY}\n') });
  t.after(() => rm(root, { recursive: true, force: true }));
  const config = await loadConfig({ file: 'config/deploy.yml', cwd: root, env: { CI_SSH_KEY: KEY } });
  assert.equal(config.ssh.keyData[0]!.name, 'ssh.key_data[0]');
  assert.equal(config.ssh.keyData[0]!.reveal(), KEY.replace(/\n$/, '') + (config.ssh.keyData[0]!.reveal().endsWith('\n') ? '\n' : ''));
});

test('a missing key secret is a config error at its line naming the secret and where it was looked for (exit 78)', async (t) => {
  const root = await project({ 'config/deploy.yml': deployYml('  key_data: [DEPLOY_SSH_KEY]\n') });
  t.after(() => rm(root, { recursive: true, force: true }));
  await assert.rejects(loadConfig({ file: 'config/deploy.yml', cwd: root, env: {} }), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.exitCode, 78);
    assert.match(error.message, /config\/deploy\.yml:6:\d+ ssh\.key_data\[0\]: secret DEPLOY_SSH_KEY is not set; looked in .*the environment/);
    return true;
  });
});

test('known_hosts must name a secret, not hold the lines', async (t) => {
  const root = await project({ 'config/deploy.yml': deployYml('  known_hosts: "10.0.0.1 ssh-ed25519 AAAA"\n') });
  t.after(() => rm(root, { recursive: true, force: true }));
  await assert.rejects(loadConfig({ file: 'config/deploy.yml', cwd: root, env: {} }), /ssh\.known_hosts: must be the name of a secret/);
});
