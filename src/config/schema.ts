// The JSON Schema in schemas/deploy.schema.json is the one source of truth for config keys,
// their types and defaults. This module loads it once and gives its validator: in an installed
// package the one generated at build time (Ajv standalone code that scripts/build.mjs bundles into
// dist/cli/deploy-validator.js, beside the bundle's chunks), else compiled here with ajv, which
// costs ~100 ms per run (a checkout, or a schema edited after the build).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Ajv, Options, ValidateFunction } from 'ajv';
import { isHost } from './host-name.ts';

export { isHost };

const schemaText = readFileSync(new URL('../../schemas/deploy.schema.json', import.meta.url), 'utf8');

/** The JSON Schema document (draft-07) describing config/deploy.yml. */
export const deploySchema: Record<string, unknown> = JSON.parse(schemaText) as Record<string, unknown>;

/** sha256 of the schema text: the generated validator is used only for the schema it was made from. */
export const deploySchemaSha256 = createHash('sha256').update(schemaText).digest('hex');

/** Ajv's options for the deploy schema, at run time and at build time alike. */
export const DEPLOY_AJV_OPTIONS: Options = { allErrors: true, verbose: true, useDefaults: true, allowUnionTypes: true, strict: true, strictRequired: false };

/** Adds the schema's own format and keyword to an Ajv instance (the build script calls this too). */
export function configureDeployAjv(ajv: Ajv): Ajv {
  ajv.addFormat('host', { type: 'string', validate: isHost });
  // Our own message keyword: read from parentSchema when a pattern/format/enum check fails.
  ajv.addKeyword({ keyword: 'errorMessage', schemaType: 'string' });
  return ajv;
}

/** The validator generated at build time, when it was made from this very schema. */
async function generatedValidator(): Promise<ValidateFunction | undefined> {
  const url = new URL('./deploy-validator.js', import.meta.url);
  if (!existsSync(url)) return undefined;
  const generated = (await import(url.href)) as { validate: ValidateFunction; schemaSha256: string };
  return generated.schemaSha256 === deploySchemaSha256 ? generated.validate : undefined;
}

let compiled: ValidateFunction | undefined = await generatedValidator();

/** The validator. It fills in schema defaults (useDefaults) on the object it checks. */
export function deployValidator(): ValidateFunction {
  if (compiled) return compiled;
  // ajv is CommonJS: required here, only when there is no generated validator.
  const { Ajv } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
  compiled = configureDeployAjv(new Ajv(DEPLOY_AJV_OPTIONS)).compile(deploySchema);
  return compiled;
}
