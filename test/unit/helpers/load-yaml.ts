// Loads a deploy.yml given as text from a throwaway project folder (removed after the test), and
// the refusal it must give: a ConfigError with exit 78, its message returned.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { loadConfig } from '../../../src/config/load.ts';
import { ConfigError } from '../../../src/errors.ts';

export async function loadYaml(t: TestContext, yml: string, env: Record<string, string> = {}) {
  const root = await mkdtemp(join(tmpdir(), 'mrsk-yaml-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await mkdir(join(root, 'config'));
  await writeFile(join(root, 'config/deploy.yml'), yml);
  return loadConfig({ file: 'config/deploy.yml', cwd: root, env });
}

export async function refusalOf(t: TestContext, yml: string, env: Record<string, string> = {}): Promise<string> {
  try {
    await loadYaml(t, yml, env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    assert.equal(error.exitCode, 78);
    return error.message;
  }
  assert.fail('the config loaded');
}
