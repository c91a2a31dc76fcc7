// Schema validation: runs ajv over the merged config and turns its errors into problems a user
// can act on (one per mistake, at the key path); load.ts positions them in the right file.
import type { ErrorObject } from 'ajv';
import { deployValidator } from './schema.ts';
import type { KeyPath } from './source.ts';
import { closest } from './suggest.ts';

/** A schema problem before it is positioned in a file. */
export interface SchemaProblem {
  readonly path: KeyPath;
  readonly message: string;
  /** Point at the key rather than its value (unknown or badly named keys). */
  readonly atKey: boolean;
}

/** Runs the schema and returns readable problems (pure apart from filling defaults into data). */
export function schemaProblems(data: unknown): SchemaProblem[] {
  const validate = deployValidator();
  if (validate(data)) return [];
  const problems = simplify(validate.errors ?? []);
  // One message per place: alternatives can report the same problem twice.
  const seen = new Set<string>();
  return problems.filter((problem) => {
    const key = `${problem.path.join('\u0000')}\u0001${problem.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

interface Pending {
  readonly instancePath: string;
  readonly keyword: string;
  readonly typeMismatch?: string;
  readonly problem?: SchemaProblem;
}

function simplify(errors: readonly ErrorObject[]): SchemaProblem[] {
  const out: Pending[] = [];
  for (const error of errors) {
    const path = pointerToPath(error.instancePath);
    switch (error.keyword) {
      case 'if':
        break; // the failing then/else branch has reported the actual problem
      case 'anyOf':
      case 'oneOf': {
        // The branch errors are the ones just before, at or below this instance path.
        let start = out.length;
        while (start > 0 && isAtOrBelow(out[start - 1]!.instancePath, error.instancePath)) start--;
        const branch = out.splice(start);
        const typeMismatches = branch.filter((p) => p.typeMismatch !== undefined && p.instancePath === error.instancePath);
        const rest = branch.filter((p) => !(p.typeMismatch !== undefined && p.instancePath === error.instancePath));
        if (rest.length > 0) out.push(...rest);
        else {
          const types = [...new Set(typeMismatches.flatMap((p) => p.typeMismatch!.split(',')))];
          // An alternative may say in words what it accepts (a host, or host: tag).
          const custom = (error.parentSchema as { errorMessage?: string } | undefined)?.errorMessage;
          out.push({ instancePath: error.instancePath, keyword: 'type', typeMismatch: types.join(','), problem: { path, atKey: false, message: custom ?? `must be ${describeTypes(types)}` } });
        }
        break;
      }
      case 'propertyNames': {
        const name = String((error.params as { propertyName: string }).propertyName);
        // Drop the inner error ajv reported for the name itself (same instance path, just before).
        let inner: Pending | undefined;
        while (out.length > 0 && out[out.length - 1]!.instancePath === error.instancePath && out[out.length - 1]!.keyword !== 'propertyNames' && out[out.length - 1]!.keyword !== 'type') inner = out.pop();
        const custom = (error.schema as { errorMessage?: string }).errorMessage;
        const message = custom ?? `invalid name: ${inner?.problem?.message ?? 'not allowed'}`;
        out.push({ instancePath: error.instancePath, keyword: 'propertyNames', problem: { path: [...path, name], atKey: true, message } });
        break;
      }
      case 'type': {
        const expected = Array.isArray(error.params.type) ? (error.params.type as string[]) : String(error.params.type).split(',');
        out.push({ instancePath: error.instancePath, keyword: 'type', typeMismatch: expected.join(','), problem: { path, atKey: false, message: `must be ${describeTypes(expected)}` } });
        break;
      }
      default:
        out.push({ instancePath: error.instancePath, keyword: error.keyword, problem: describe(error, path) });
    }
  }
  return out.flatMap((p) => (p.problem ? [p.problem] : []));
}

function isAtOrBelow(pointer: string, parent: string): boolean {
  return pointer === parent || pointer.startsWith(`${parent}/`);
}

function describe(error: ErrorObject, path: KeyPath): SchemaProblem {
  const params = error.params as Record<string, unknown>;
  const custom = (error.parentSchema as { errorMessage?: string } | undefined)?.errorMessage;
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const known = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      const guess = closest(key, known);
      const kamal =
        path.length === 0 ? KAMAL_ONLY_KEYS[key]
        : path.length === 2 && path[0] === 'servers' ? KAMAL_ONLY_ROLE_KEYS[key]
        : path.length === 3 && path[0] === 'servers' && path[2] === 'proxy' ? TOP_LEVEL_PROXY_KEYS[key]
        : undefined;
      const hint = kamal ?? (guess ? `did you mean "${guess}"?` : known.length > 0 ? `allowed keys: ${known.join(', ')}` : 'no keys are allowed here');
      return { path: [...path, key], atKey: true, message: `unknown key, ${hint}` };
    }
    case 'required':
      return { path, atKey: false, message: `missing required key "${String(params.missingProperty)}"` };
    case 'pattern':
    case 'format':
      return { path, atKey: false, message: custom ?? (error.keyword === 'format' && params.format === 'host' ? 'must be a hostname or IP address' : `must match ${String(params.pattern ?? params.format)}`) };
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(String);
      // A misspelt word (`podmn`, `Docker`) gets the value it is closest to.
      const guess = typeof error.data === 'string' ? closest(error.data, allowed) : undefined;
      return { path, atKey: false, message: custom ?? `must be one of: ${allowed.join(', ')}${guess !== undefined && guess !== error.data ? `; did you mean "${guess}"?` : ''}` };
    }
    case 'minItems':
      return { path, atKey: false, message: params.limit === 1 ? 'must not be empty' : `must have at least ${String(params.limit)} items` };
    case 'maxItems':
      return { path, atKey: false, message: custom ?? `must have at most ${String(params.limit)} item${params.limit === 1 ? '' : 's'}` };
    case 'minProperties':
      return { path, atKey: false, message: 'must not be empty' };
    case 'minLength':
      return { path, atKey: false, message: 'must not be empty' };
    case 'minimum':
      return { path, atKey: false, message: `must be ${String(params.comparison)} ${String(params.limit)}` };
    case 'maximum':
      return { path, atKey: false, message: `must be ${String(params.comparison)} ${String(params.limit)}` };
    case 'not':
      // A key the schema names only to refuse it (Kamal settings with no Traefik equivalent): at the key.
      return { path, atKey: true, message: custom ?? 'is not allowed here' };
    default:
      return { path, atKey: false, message: custom ?? error.message ?? `is invalid (${error.keyword})` };
  }
}

// Top-level Kamal settings mrsk does not have, with what to do instead.
const KAMAL_ONLY_KEYS: Record<string, string> = {
  secrets_path: 'mrsk reads .mrsk/secrets[.<destination>], .kamal/secrets[.<destination>], .kamal/secrets-common and Kamal 1\'s .env[.<destination>] at fixed paths; move the file to one of them',
  run_directory: 'mrsk keeps its host files under ~/.mrsk/<service>; there is no setting for it (Kamal ignores this key too)',
  sshkit: 'mrsk does not use SSHKit; the nearest settings are under "ssh" (max_concurrent, connect_timeout, command_timeout, keepalive_interval)',
  output: 'mrsk has no output loggers; use --json for machine-readable events, and the audit log on each host (mrsk audit)',
  error_pages_path: 'error pages are a kamal-proxy feature; mrsk has none (Traefik returns its own)',
};

// Proxy keys that describe the Traefik every app on a host shares: the top-level proxy only.
const TOP_LEVEL_PROXY_KEYS: Record<string, string> = {
  run: 'proxy.run describes the shared Traefik of each host: set it in the top-level proxy',
  acme_email: 'the ACME account is shared by every app on a host: set acme_email in the top-level proxy',
};

// Role settings of Kamal that mrsk does not have, with what to do instead.
const KAMAL_ONLY_ROLE_KEYS: Record<string, string> = {};

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a map',
  null: 'empty',
};

function describeTypes(types: readonly string[]): string {
  // "integer" is a kind of "number"; naming both reads oddly.
  const list = types.includes('number') ? types.filter((t) => t !== 'integer') : [...types];
  const words = list.map((t) => (t === 'boolean' && list.length > 1 ? 'a boolean' : (TYPE_WORDS[t] ?? t)));
  if (words.length <= 1) return words[0] ?? 'valid';
  return `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

function pointerToPath(pointer: string): (string | number)[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^(0|[1-9][0-9]*)$/.test(part) ? Number(part) : part));
}
