// The placeholders of `mrsk init` (documentation addresses, my-user, change-me) are found in the
// effective config and pointed at in the file to edit; a real config has none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config/load.ts';
import {
  placeholderHeadline,
  placeholderHostReason,
  placeholderProblems,
  placeholderSecretNames,
  type PlaceholderSource,
} from '../../../src/config/placeholders.ts';
import { refusePlaceholders } from '../../../src/config/refuse-placeholders.ts';
import { ConfigError, formatDiagnostic } from '../../../src/errors.ts';

const templates = new URL('../../../templates/', import.meta.url);

interface Project {
  root: string;
  sources: PlaceholderSource[];
}

/** A project folder with these files; sources lists the config and secrets files among them. */
async function project(t: { after: (fn: () => Promise<void>) => void }, files: Record<string, string>): Promise<Project> {
  const root = await mkdtemp(join(tmpdir(), 'mrsk-placeholders-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), text);
  }
  const sources = Object.entries(files)
    .filter(([path]) => path.startsWith('config/') || path.startsWith('.mrsk/secrets'))
    .map(([file, text]): PlaceholderSource => ({ file, text, kind: file.startsWith('config/') ? 'config' : 'secrets' }));
  return { root, sources };
}

async function problemsOf(t: { after: (fn: () => Promise<void>) => void }, files: Record<string, string>, options: { destination?: string; env?: NodeJS.ProcessEnv } = {}) {
  const { root, sources } = await project(t, files);
  const config = await loadConfig({ file: 'config/deploy.yml', cwd: root, env: options.env ?? {}, ...(options.destination ? { destination: options.destination } : {}) });
  // in the order refuse-placeholders reads them: the destination's files first among secrets
  return placeholderProblems(config, sources).map((d) => (d.file ? formatDiagnostic(d) : d.message));
}

/** The template files with every placeholder replaced by a real-looking value. */
function filled(text: string): string {
  return text.replaceAll('192.0.2.1', '10.1.2.3').replaceAll('my-user', 'acme').replaceAll('change-me', 'a-real-token-4f1c');
}

test('documentation addresses and example names are placeholders; real addresses are not', () => {
  for (const host of ['192.0.2.1', '192.0.2.254', '198.51.100.7', '203.0.113.10', '2001:db8::1', '2001:0db8:85a3::8a2e:370:7334', 'example.com', 'h1.example.com', 'app.example.net', 'EXAMPLE.ORG', 'server.example', 'host.invalid', 'xxx.xxx.xxx.xxx']) {
    assert.ok(placeholderHostReason(host), `${host} should be a placeholder`);
  }
  for (const host of ['10.0.0.1', '192.0.20.1', '192.0.2.1.nip.io', '203.0.1.13', '2001:db9::1', 'myexample.com', 'example.co', 'examples.com', 'web-1', 'ghcr.io', 'localhost', '127.0.0.1']) {
    assert.equal(placeholderHostReason(host), undefined, `${host} is a real address`);
  }
});

test('the template as `mrsk init` writes it: every placeholder named at its file:line:col and key', async (t) => {
  const deployYml = await readFile(new URL('deploy.yml', templates), 'utf8');
  const secrets = await readFile(new URL('secrets', templates), 'utf8');
  const problems = await problemsOf(t, { 'config/deploy.yml': deployYml, '.mrsk/secrets': secrets });
  /** file:line:col of `value` on the first line whose text starts with `start` (indentation ignored). */
  const at = (file: string, text: string, start: string, value: string) => {
    const lines = text.split('\n');
    const line = lines.findIndex((l) => l.trimStart().startsWith(start));
    assert.ok(line >= 0, `${file} has a line starting with ${start}`);
    return `${file}:${line + 1}:${lines[line]!.indexOf(value, lines[line]!.indexOf(start)) + 1}`;
  };
  assert.deepEqual(problems, [
    `${at('config/deploy.yml', deployYml, 'image:', 'my-user/my-app')} image: my-user/my-app: my-user is a placeholder: use your registry account or organisation (e.g. ghcr.io/acme/app)`,
    `${at('config/deploy.yml', deployYml, '- 192.0.2.1', '192.0.2.1')} servers.web[0]: 192.0.2.1 is a documentation address (RFC 5737), never a real server: put your server's address or host name here`,
    `${at('config/deploy.yml', deployYml, 'username: my-user', 'my-user')} registry.username: my-user is a placeholder: put your registry user name here`,
    `${at('.mrsk/secrets', secrets, 'MRSK_REGISTRY_PASSWORD=', 'MRSK_REGISTRY_PASSWORD')} MRSK_REGISTRY_PASSWORD: still "change-me", the placeholder of \`mrsk init\`: put the real value here`,
  ]);
});

test('the template with its placeholders replaced loads and has none left', async (t) => {
  const deployYml = filled(await readFile(new URL('deploy.yml', templates), 'utf8'));
  const secrets = filled(await readFile(new URL('secrets', templates), 'utf8'));
  assert.deepEqual(await problemsOf(t, { 'config/deploy.yml': deployYml, '.mrsk/secrets': secrets }), []);
});

test('the headline names the files to edit and says nothing was contacted', () => {
  const problem = (file: string) => ({ file, path: 'x', message: 'y' });
  assert.equal(
    placeholderHeadline([problem('config/deploy.yml'), problem('config/deploy.yml'), problem('.mrsk/secrets')]),
    'edit config/deploy.yml and .mrsk/secrets first: 3 placeholders from `mrsk init` are still there (nothing was contacted)',
  );
  assert.equal(placeholderHeadline([problem('.mrsk/secrets')]), 'edit .mrsk/secrets first: a placeholder from `mrsk init` is still there (nothing was contacted)');
  assert.equal(placeholderHeadline([problem('')]), 'edit the environment first: a placeholder from `mrsk init` is still there (nothing was contacted)');
});

test('a destination file that replaces the placeholder host clears it; one that adds a placeholder is pointed at', async (t) => {
  const main = 'service: app\nimage: acme/app\nservers:\n  web:\n    - 192.0.2.1\n';
  assert.deepEqual(await problemsOf(t, { 'config/deploy.yml': main, 'config/deploy.production.yml': 'servers:\n  web:\n    - 10.0.0.5\n' }, { destination: 'production' }), []);
  assert.deepEqual(
    await problemsOf(t, { 'config/deploy.yml': 'service: app\nimage: acme/app\nservers:\n  web:\n    - 10.0.0.1\n', 'config/deploy.staging.yml': 'servers:\n  web:\n    - 10.0.0.1\n    - 198.51.100.20\n' }, { destination: 'staging' }),
    ["config/deploy.staging.yml:4:7 servers.web[1]: 198.51.100.20 is a documentation address (RFC 5737), never a real server: put your server's address or host name here"],
  );
});

test('a placeholder inside an interpolation default is found when the variable is unset, and gone when it is set', async (t) => {
  const files = { 'config/deploy.yml': 'service: app\nimage: acme/app\nservers:\n  - ${WEB_HOST:-192.0.2.1}\n' };
  assert.deepEqual(await problemsOf(t, files), [
    "config/deploy.yml:4:5 servers[0]: 192.0.2.1 is a documentation address (RFC 5737), never a real server: put your server's address or host name here",
  ]);
  assert.deepEqual(await problemsOf(t, files, { env: { WEB_HOST: '10.9.9.9' } }), []);
  // a value that only the environment supplies is named by key, without a place in the file
  assert.deepEqual(await problemsOf(t, { 'config/deploy.yml': 'service: app\nimage: acme/app\nservers:\n  - ${WEB_HOST}\n' }, { env: { WEB_HOST: '203.0.113.9' } }), [
    "config/deploy.yml servers: 203.0.113.9 is a documentation address (RFC 5737), never a real server: put your server's address or host name here (the value comes from the environment)",
  ]);
});

test('example names in the registry, image, bastion, builder and accessories are placeholders too', async (t) => {
  const problems = await problemsOf(t, {
    'config/deploy.yml': [
      'service: app',
      'image: registry.example.com/acme/app',
      'servers: [10.0.0.1]',
      'registry:',
      '  server: registry.example.com',
      'ssh:',
      '  proxy: deploy@bastion.example.com:2222',
      'builder:',
      '  remote: ssh://root@192.0.2.3',
      'accessories:',
      '  db:',
      '    image: postgres:16',
      '    host: 203.0.113.5',
      '',
    ].join('\n'),
  });
  assert.deepEqual(
    problems.map((p) => p.split(': ')[0]),
    ['config/deploy.yml:2:8 image', 'config/deploy.yml:5:11 registry.server', 'config/deploy.yml:7:10 ssh.proxy', 'config/deploy.yml:9:11 builder.remote', 'config/deploy.yml:13:11 accessories.db.host'],
  );
});

test('secrets still "change-me" are named with the line of the file that sets them, never with a value', async (t) => {
  const deployYml = 'service: app\nimage: acme/app\nservers: [10.0.0.1]\nenv:\n  secret: [API_KEY, DATABASE_URL, TOKEN]\n';
  const realValue = 'change-me-not-9d2e';
  const problems = await problemsOf(
    t,
    { 'config/deploy.yml': deployYml, '.mrsk/secrets': `# comment\nAPI_KEY=change-me\nDATABASE_URL=${realValue}\nexport TOKEN=' Change-Me '\n` },
    {},
  );
  assert.deepEqual(problems, [
    '.mrsk/secrets:2:1 API_KEY: still "change-me", the placeholder of `mrsk init`: put the real value here',
    '.mrsk/secrets:4:1 TOKEN: still "change-me", the placeholder of `mrsk init`: put the real value here',
  ]);
  // the file wins over the environment (Kamal's precedence): a real value in the environment does
  // not clear a placeholder in the file, and a placeholder only in the environment is named
  assert.deepEqual(await problemsOf(t, { 'config/deploy.yml': deployYml, '.mrsk/secrets': 'API_KEY=change-me\nDATABASE_URL=x\nTOKEN=y\n' }, { env: { API_KEY: realValue } }), [
    '.mrsk/secrets:1:1 API_KEY: still "change-me", the placeholder of `mrsk init`: put the real value here',
  ]);
  assert.deepEqual(await problemsOf(t, { 'config/deploy.yml': deployYml, '.mrsk/secrets': 'DATABASE_URL=x\nTOKEN=y\n' }, { env: { API_KEY: 'change-me' } }), [
    'API_KEY is set to "change-me" (in the environment or a Kamal secrets file), the placeholder of `mrsk init`: set the real value',
  ]);
  for (const line of problems) assert.ok(!line.includes(realValue));
});

test('placeholderSecretNames returns names only, each once', async (t) => {
  const { root } = await project(t, {
    'config/deploy.yml': 'service: app\nimage: acme/app\nservers:\n  web: [10.0.0.1]\n  job:\n    hosts: [10.0.0.2]\n    env:\n      secret: [A]\nenv:\n  secret: [A, B]\nregistry:\n  username: me\n  password: [A]\n',
    '.mrsk/secrets': 'A=change-me\nB=fine\n',
  });
  const config = await loadConfig({ file: 'config/deploy.yml', cwd: root, env: {} });
  assert.deepEqual(placeholderSecretNames(config), ['A']);
});

test('refusePlaceholders reads the files and throws one ConfigError (exit 78) headed by what to edit', async (t) => {
  const { root } = await project(t, {
    'config/deploy.yml': 'service: app\nimage: my-user/app\nservers: [10.0.0.1]\n',
    'config/deploy.staging.yml': 'servers: [192.0.2.7]\n',
    '.mrsk/secrets.staging': '',
  });
  const config = await loadConfig({ file: 'config/deploy.yml', cwd: root, env: {}, destination: 'staging' });
  await assert.rejects(refusePlaceholders(config), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.exitCode, 78);
    assert.equal(
      error.message,
      [
        'edit config/deploy.yml and config/deploy.staging.yml first: 2 placeholders from `mrsk init` are still there (nothing was contacted)',
        'config/deploy.yml:2:8 image: my-user/app: my-user is a placeholder: use your registry account or organisation (e.g. ghcr.io/acme/app)',
        "config/deploy.staging.yml:1:11 servers[0]: 192.0.2.7 is a documentation address (RFC 5737), never a real server: put your server's address or host name here",
      ].join('\n'),
    );
    return true;
  });
  const clean = await loadConfig({ file: 'config/deploy.yml', cwd: (await project(t, { 'config/deploy.yml': 'service: app\nimage: acme/app\nservers: [10.0.0.1]\n' })).root, env: {} });
  await refusePlaceholders(clean);
});
