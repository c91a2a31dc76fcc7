// Golden files: compare output with fixtures/plans/<file>; UPDATE_GOLDEN=1 (re)writes them after
// an intended change, then the diff of the fixtures is reviewed like code.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const fixtures = fileURLToPath(new URL('../../../fixtures/plans/', import.meta.url));

export function golden(file: string, actual: string): void {
  const update = process.env.UPDATE_GOLDEN === '1';
  const path = `${fixtures}${file}`;
  if (update || !existsSync(path)) {
    if (!update) assert.fail(`missing golden file ${path}; run with UPDATE_GOLDEN=1 to create it`);
    writeFileSync(path, actual);
    return;
  }
  assert.equal(actual, readFileSync(path, 'utf8'), `${file} differs from the golden file (UPDATE_GOLDEN=1 rewrites it)`);
}
