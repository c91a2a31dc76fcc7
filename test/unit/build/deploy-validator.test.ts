// The config validator an installed package runs is generated at build time (Ajv standalone code,
// scripts/build-validator.mjs); a checkout compiles the schema at run time. Both must answer every
// config the same way: the same errors (what the messages are made from) and the same defaults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import type { ValidateFunction } from 'ajv';
import * as schema from '../../../src/config/schema.ts';
import { validatorSource } from '../../../scripts/build-validator.mjs';

const fixtures = new URL('../../../fixtures/configs/', import.meta.url);

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name));
}

async function generated(): Promise<ValidateFunction> {
  // inside the checkout, so the generated code finds the ajv package its runtime helpers come from
  const cache = fileURLToPath(new URL('../../../node_modules/.cache/', import.meta.url));
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, 'mrsk-validator-'));
  try {
    const file = join(dir, 'deploy-validator.js');
    const hostName = new URL('../../../src/config/host-name.ts', import.meta.url).href;
    writeFileSync(file, validatorSource(schema, hostName));
    const module = (await import(pathToFileURL(file).href)) as { validate: ValidateFunction; schemaSha256: string };
    assert.equal(module.schemaSha256, schema.deploySchemaSha256);
    return module.validate;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the generated validator gives the compiled one’s errors and defaults for every fixture config', async () => {
  const standalone = await generated();
  const compiled = schema.deployValidator();
  const files = yamlFiles(fileURLToPath(fixtures));
  assert.ok(files.length > 30, `${files.length} fixture files`);
  let invalid = 0;
  for (const file of files) {
    let data: unknown;
    try {
      data = parse(readFileSync(file, 'utf8'));
    } catch {
      continue; // not YAML at all: the validator never sees it
    }
    const forCompiled = structuredClone(data);
    const forStandalone = structuredClone(data);
    const valid = compiled(forCompiled);
    assert.equal(standalone(forStandalone), valid, file);
    if (!valid) invalid++;
    assert.deepEqual(standalone.errors ?? null, compiled.errors ?? null, file);
    assert.deepEqual(forStandalone, forCompiled, `${file}: defaults`);
  }
  assert.ok(invalid > 10, `${invalid} fixture files the schema refuses`);
});

test('the generated validator names the schema it was made from (dist/config/schema.js ignores it for another)', () => {
  const source = validatorSource(schema);
  assert.match(source, new RegExp(`export const schemaSha256 = "${schema.deploySchemaSha256}"`));
});
