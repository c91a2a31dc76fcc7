// Lists every key path the schema defines (`healthcheck.port`, `servers.<role>.hosts`), so tests
// can check that the documentation covers all of them.
import { deploySchema } from '../../../src/config/schema.ts';

type Schema = Record<string, unknown>;

// Maps whose keys are names the user chooses; shown as a placeholder in key paths.
const PLACEHOLDERS: Record<string, string> = { servers: '<role>', accessories: '<accessory>' };

/** A key path of the schema and its default value, if the schema gives one. */
export interface SchemaKey {
  readonly path: string;
  readonly default?: unknown;
}

/** Every key path in schemas/deploy.schema.json, in schema order, without duplicates. */
export function schemaKeyPaths(): string[] {
  return schemaKeys().map((key) => key.path);
}

/** Every key of the schema with its default. */
export function schemaKeys(): SchemaKey[] {
  const definitions = deploySchema.definitions as Record<string, Schema>;
  const resolve = (schema: Schema): Schema => {
    const ref = schema.$ref as string | undefined;
    return ref ? { ...resolve(definitions[ref.replace('#/definitions/', '')]!), ...schema, $ref: undefined } : schema;
  };
  const out = new Map<string, SchemaKey>();
  const walk = (raw: Schema, path: string, parentKey: string) => {
    const schema = resolve(raw);
    for (const [key, child] of Object.entries((schema.properties ?? {}) as Record<string, Schema>)) {
      const childPath = path ? `${path}.${key}` : key;
      const resolved = resolve(child);
      if (!out.has(childPath)) out.set(childPath, 'default' in resolved ? { path: childPath, default: resolved.default } : { path: childPath });
      walk(child, childPath, key);
    }
    for (const branch of [...((schema.anyOf ?? []) as Schema[]), ...((schema.oneOf ?? []) as Schema[])]) walk(branch, path, parentKey);
    for (const branch of [schema.then, schema.else]) if (branch) walk(branch as Schema, path, parentKey);
    const additional = schema.additionalProperties;
    if (typeof additional === 'object' && additional !== null && PLACEHOLDERS[parentKey]) walk(additional as Schema, `${path}.${PLACEHOLDERS[parentKey]}`, '');
  };
  walk(deploySchema, '', '');
  return [...out.values()];
}
