// The JSON Schema in schemas/deploy.schema.json is the one source of truth for config keys,
// their types and defaults. This module loads it once and compiles it with ajv.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { Ajv, type ValidateFunction } from 'ajv';

/** The JSON Schema document (draft-07) describing config/deploy.yml. */
export const deploySchema: Record<string, unknown> = JSON.parse(
  readFileSync(new URL('../../schemas/deploy.schema.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

const HOSTNAME_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** True for an IPv4/IPv6 address or an RFC 1123 host name (what `servers` lists may hold). */
export function isHost(value: string): boolean {
  if (isIP(value) !== 0) return true;
  if (value.length === 0 || value.length > 253) return false;
  return value.split('.').every((label) => HOSTNAME_LABEL.test(label)) && !/^[0-9.]+$/.test(value);
}

let compiled: ValidateFunction | undefined;

/** The compiled validator. It fills in schema defaults (useDefaults) on the object it checks. */
export function deployValidator(): ValidateFunction {
  if (compiled) return compiled;
  const ajv = new Ajv({ allErrors: true, verbose: true, useDefaults: true, allowUnionTypes: true, strict: true, strictRequired: false });
  ajv.addFormat('host', { type: 'string', validate: isHost });
  // Our own message keyword: read from parentSchema when a pattern/format/enum check fails.
  ajv.addKeyword({ keyword: 'errorMessage', schemaType: 'string' });
  compiled = ajv.compile(deploySchema);
  return compiled;
}
