// Normalization rules that the fixtures do not pin down on their own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config/load.ts';
import { seconds } from '../../../src/config/normalize.ts';

async function loadText(t: { after: (fn: () => Promise<void>) => void }, text: string, env: NodeJS.ProcessEnv = {}) {
  const root = await mkdtemp(join(tmpdir(), 'mrsk-normalize-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await mkdir(join(root, 'config'));
  await writeFile(join(root, 'config/deploy.yml'), text);
  return loadConfig({ file: 'config/deploy.yml', cwd: root, env });
}

test('seconds() reads numbers and s/m/h durations', () => {
  assert.equal(seconds(12), 12);
  assert.equal(seconds('12'), 12);
  assert.equal(seconds('30s'), 30);
  assert.equal(seconds('2m'), 120);
  assert.equal(seconds('1.5h'), 5400);
  assert.throws(() => seconds('soon'), /not a duration/);
});

test('traefik: web is proxied by default, other roles only when asked; a labels map implies enabled', async (t) => {
  const config = await loadText(
    t,
    `service: app
image: acme/app
servers:
  web: [10.0.0.1]
  job: [10.0.0.2]
  api:
    hosts: [10.0.0.3]
    traefik:
      labels:
        traefik.http.routers.app-api.rule: PathPrefix(\`/api\`)
  web2:
    hosts: [10.0.0.4]
    traefik: false
  web3:
    hosts: [10.0.0.5]
    traefik:
      enabled: false
`,
  );
  assert.deepEqual(
    config.roles.map((role) => [role.name, role.traefik.enabled]),
    [['web', true], ['job', false], ['api', true], ['web2', false], ['web3', false]],
  );
  assert.deepEqual(config.roles[2]!.traefik.labels, { 'traefik.http.routers.app-api.rule': 'PathPrefix(`/api`)' });
});

test('a role can turn a clear variable into a secret and back', async (t) => {
  const config = await loadText(
    t,
    `service: app
image: acme/app
servers:
  web:
    hosts: [10.0.0.1]
    env:
      secret: [TOKEN]
  job:
    hosts: [10.0.0.2]
    env:
      clear:
        KEY: plain
env:
  clear:
    TOKEN: not-secret-here
  secret: [KEY]
`,
    { TOKEN: 'tok', KEY: 'key' },
  );
  const [web, job] = config.roles;
  assert.deepEqual(web!.env.clear, {});
  assert.deepEqual(Object.keys(web!.env.secret).sort(), ['KEY', 'TOKEN']);
  assert.deepEqual(job!.env.clear, { TOKEN: 'not-secret-here', KEY: 'plain' });
  assert.deepEqual(Object.keys(job!.env.secret), []);
  // the same name used in several places is one Secret
  assert.deepEqual(config.secrets.map((s) => s.name).sort(), ['KEY', 'TOKEN']);
});

test('explicit primary_role that is not a role is reported at primary_role', async (t) => {
  await assert.rejects(
    loadText(t, 'service: app\nimage: acme/app\nprimary_role: api\nservers: [10.0.0.1]\n'),
    { message: 'config/deploy.yml:3:15 primary_role: primary role "api" is not one of the roles (web); set primary_role' },
  );
});

test('strict_host_key_checking accepts YAML booleans and strings alike', async (t) => {
  const yes = await loadText(t, 'service: app\nimage: acme/app\nservers: [10.0.0.1]\nssh:\n  strict_host_key_checking: false\n');
  assert.equal(yes.ssh.strictHostKeyChecking, 'false');
  const quoted = await loadText(t, 'service: app\nimage: acme/app\nservers: [10.0.0.1]\nssh:\n  strict_host_key_checking: "true"\n');
  assert.equal(quoted.ssh.strictHostKeyChecking, 'true');
});

test('builder.arch as one string becomes a list; a plain registry password is still a Secret', async (t) => {
  const config = await loadText(t, 'service: app\nimage: acme/app\nservers: [10.0.0.1]\nbuilder:\n  arch: arm64\nregistry:\n  username: me\n  password: ${PW}\n', { PW: 'hunter22' });
  assert.deepEqual(config.builder.arch, ['arm64']);
  assert.equal(config.registry.password?.reveal(), 'hunter22');
  assert.equal(`${config.registry.password}`, '[REDACTED]');
  assert.deepEqual(config.secrets.map((s) => s.reveal()), ['hunter22']);
});
