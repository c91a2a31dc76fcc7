// docs/configuration.md documents every key of the schema, with the schema's defaults; the init
// template is a valid config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, mkdtemp, mkdir, copyFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../../src/config/load.ts';
import { schemaKeyPaths, schemaKeys } from './schema-paths.ts';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const docs = await readFile(join(repo, 'docs/configuration.md'), 'utf8');

test('the schema walk finds the nested keys (so the check below means something)', () => {
  const paths = schemaKeyPaths();
  for (const path of ['service', 'servers.<role>.hosts', 'servers.<role>.traefik.labels', 'env.secret', 'builder.cache.type', 'accessories.<accessory>.env.clear', 'ssh.strict_host_key_checking']) {
    assert.ok(paths.includes(path), path);
  }
  assert.ok(paths.length > 80, `only ${paths.length} paths`);
});

test('every key path of the schema is documented in docs/configuration.md', () => {
  const missing = schemaKeyPaths().filter((path) => !docs.includes(`\`${path}\``));
  assert.deepEqual(missing, []);
});

test('the documented default of each key is the schema default', () => {
  const wrong: string[] = [];
  for (const key of schemaKeys()) {
    if (key.default === undefined) continue;
    const row = docs.split('\n').find((line) => line.startsWith(`| \`${key.path}\` |`));
    if (!row) continue; // documented in prose (checked above)
    const expected = typeof key.default === 'object' ? JSON.stringify(key.default) : String(key.default);
    if (!row.includes(`\`${expected}\``)) wrong.push(`${key.path}: expected \`${expected}\` in: ${row}`);
  }
  assert.deepEqual(wrong, []);
});

test('the init template loads as a valid config with its placeholder secrets', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'mrsk-template-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await mkdir(join(root, 'config'));
  await mkdir(join(root, '.mrsk'));
  await copyFile(join(repo, 'templates/deploy.yml'), join(root, 'config/deploy.yml'));
  await copyFile(join(repo, 'templates/secrets'), join(root, '.mrsk/secrets'));
  const config = await loadConfig({ file: 'config/deploy.yml', cwd: root, env: {} });
  assert.equal(config.service, 'my-app');
  assert.deepEqual(config.hosts, ['192.0.2.1']);
  assert.equal(config.registry.password?.name, 'MRSK_REGISTRY_PASSWORD');
  assert.deepEqual(config.env, { clear: { LOG_LEVEL: 'info' }, secret: {} });
  const template = await readFile(join(repo, 'templates/deploy.yml'), 'utf8');
  assert.ok(template.split('\n').filter((line) => line.trimStart().startsWith('#')).length >= 20, 'the template explains itself in comments');
});
