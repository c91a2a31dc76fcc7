// Types of build-validator.mjs for the tests that import it.
import type { Ajv, Options } from 'ajv';

export interface SchemaModule {
  readonly deploySchema: Record<string, unknown>;
  readonly deploySchemaSha256: string;
  readonly DEPLOY_AJV_OPTIONS: Options;
  readonly configureDeployAjv: (ajv: Ajv) => Ajv;
}

export function validatorSource(schema: SchemaModule, hostNameModule?: string): string;
