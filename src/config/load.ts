// loadConfig: config/deploy.yml (+ config/deploy.<destination>.yml) → the frozen, typed Config.
// Every problem in the files is collected and thrown at once as a ConfigError (exit 78), each
// positioned as file:line:col with its key path.
import { readFileSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { ConfigError, UsageError, type Diagnostic } from '../errors.ts';
import type { Config } from './types.ts';
import { deepFreeze } from './freeze.ts';
import { interpolateDocument } from './interpolate.ts';
import { deepMerge, originOf } from './merge.ts';
import { normalizeConfig } from './normalize.ts';
import { loadSecretSources } from './secrets.ts';
import { diagnosticAt, formatPath, readConfigSource, type ConfigSource } from './source.ts';
import { schemaProblems } from './validate.ts';

/** Options for loadConfig. */
export interface LoadConfigOptions {
  /** Config file, relative to cwd or absolute (the CLI's -c, default config/deploy.yml). */
  readonly file: string;
  /** Destination name: merges deploy.<destination>.yml (next to file) over file. */
  readonly destination?: string;
  /** Project root: relative paths and .mrsk/secrets are resolved from here. */
  readonly cwd: string;
  /** Environment for ${VAR} interpolation and secrets (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** The running mrsk's version, checked against minimum_version (default: package.json's). */
  readonly mrskVersion?: string;
}

/** This mrsk's version (package.json). mrsk numbers its own releases; they do not follow Kamal's. */
export const MRSK_VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Compares dotted versions numerically (1.10 > 1.9); missing parts count as 0. */
export function compareVersions(a: string, b: string): number {
  const left = a.split(/[.+-]/).map((part) => Number.parseInt(part, 10) || 0);
  const right = b.split(/[.+-]/).map((part) => Number.parseInt(part, 10) || 0);
  for (let i = 0; i < Math.max(left.length, right.length, 3); i++) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0);
    if (difference !== 0) return Math.sign(difference);
  }
  return 0;
}

const DESTINATION_NAME = /^[a-z0-9][a-z0-9_.-]*$/;

/** The destination file for a main config file: config/deploy.yml + staging → config/deploy.staging.yml. */
export function destinationFile(file: string, destination: string): string {
  const extension = extname(file);
  return join(dirname(file), `${basename(file, extension)}.${destination}${extension}`);
}

/** Loads, interpolates, merges, validates and normalizes the config. Throws ConfigError with every problem (UsageError for a malformed destination name). */
export async function loadConfig(options: LoadConfigOptions): Promise<Config> {
  const env = options.env ?? process.env;
  const root = resolve(options.cwd);
  const mainFile = displayName(options.file, root);
  if (options.destination !== undefined && !DESTINATION_NAME.test(options.destination)) {
    throw new UsageError(`invalid destination "${options.destination}": use lower-case letters, digits, '_', '.' or '-'`);
  }
  const files = [mainFile, ...(options.destination ? [destinationFile(mainFile, options.destination)] : [])];
  const sources: ConfigSource[] = [];
  const readProblems: Diagnostic[] = [];
  for (const [index, file] of files.entries()) {
    const notFound = index > 0 ? `destination file not found (create it to use -d ${options.destination})` : undefined;
    const result = await readConfigSource(resolve(root, file), file, notFound);
    if (result.ok) sources.push(result.source);
    else readProblems.push(...result.diagnostics);
  }
  if (readProblems.length > 0) throw new ConfigError(readProblems);

  const interpolationProblems = sources.flatMap((source) => interpolateDocument(source, env));
  const values: unknown[] = [];
  for (const source of sources) {
    try {
      values.push(source.doc.toJS({ maxAliasCount: 100 }));
    } catch (error) {
      // e.g. "Excessive alias count": a file that expands aliases into something enormous.
      throw new ConfigError([{ file: source.file, path: '', message: `cannot be read as data: ${(error as Error).message}` }]);
    }
  }
  const merged = values.reduce((base, over) => deepMerge(base, over));
  const primaryRoleExplicit = typeof merged === 'object' && merged !== null && 'primary_role' in merged;

  // A value whose interpolation failed would also fail the schema; report it once.
  const failedPaths = new Set(interpolationProblems.map((d) => d.path));
  const schemaDiagnostics = schemaProblems(merged)
    .filter((problem) => !failedPaths.has(formatPath(problem.path)))
    .map((problem) => diagnosticAt(originOf(sources, problem.path), problem.path, problem.message, problem.atKey));
  const problems = [...interpolationProblems, ...schemaDiagnostics];
  if (problems.length > 0) throw new ConfigError(sortDiagnostics(problems, files));

  // Before secrets are read (their commands may ask a password manager): refusals of the whole run.
  const settings = merged as Record<string, unknown>;
  const early: Diagnostic[] = [];
  const minimum = settings.minimum_version as string | undefined;
  const running = options.mrskVersion ?? MRSK_VERSION;
  if (minimum !== undefined && compareVersions(running, minimum) < 0) {
    early.push(diagnosticAt(originOf(sources, ['minimum_version']), ['minimum_version'], `this config needs mrsk ${minimum} or newer (minimum_version); this is mrsk ${running}. mrsk's version numbers are its own, not Kamal's: upgrade mrsk, or set minimum_version to an mrsk version`));
  }
  if (settings.require_destination === true && !options.destination) {
    early.push(diagnosticAt(originOf(sources, ['require_destination']), ['require_destination'], 'this config requires a destination: run with -d <destination> (config/deploy.<destination>.yml)'));
  }
  if (early.length > 0) throw new ConfigError(early);

  const { sources: secretSources, problems: secretFileProblems } = await loadSecretSources(root, options.destination, env);
  const semantic: Diagnostic[] = secretFileProblems.map((p) => ({ file: p.file, line: p.line, col: 1, path: '', message: p.message }));
  const config = normalizeConfig(merged as Record<string, unknown>, {
    file: mainFile,
    root,
    ...(options.destination ? { destination: options.destination } : {}),
    secretSources,
    primaryRoleExplicit,
    report: (path, message, atKey) => semantic.push(diagnosticAt(originOf(sources, path), path, message, atKey)),
  });
  if (semantic.length > 0 || !config) throw new ConfigError(sortDiagnostics(semantic, files));
  return deepFreeze(config);
}

function displayName(file: string, root: string): string {
  if (!isAbsolute(file)) return file;
  const inside = relative(root, file);
  return inside && !inside.startsWith('..') && !isAbsolute(inside) ? inside : file;
}

function sortDiagnostics(diagnostics: Diagnostic[], files: readonly string[]): Diagnostic[] {
  const rank = (d: Diagnostic) => (files.indexOf(d.file) < 0 ? files.length : files.indexOf(d.file));
  return [...diagnostics].sort((a, b) => rank(a) - rank(b) || (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
}
