// Reads the files a loaded config came from and refuses it (ConfigError, exit 78) while it still
// has the placeholders of `mrsk init`. Called before any connection is opened.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConfigError } from '../errors.ts';
import { destinationFile } from './load.ts';
import { placeholderHeadline, placeholderProblems, type PlaceholderSource } from './placeholders.ts';
import type { Config } from './types.ts';

async function readIfThere(root: string, file: string, kind: PlaceholderSource['kind']): Promise<PlaceholderSource[]> {
  try {
    return [{ file, kind, text: await readFile(resolve(root, file), 'utf8') }];
  } catch {
    // Only for pointing at a line: a file that cannot be read now was read by loadConfig moments ago.
    return [];
  }
}

/** Throws a ConfigError naming every placeholder left (file:line:col and key), or returns. */
export async function refusePlaceholders(config: Config): Promise<void> {
  const destination = config.destination;
  const sources = [
    ...(await readIfThere(config.root, config.file, 'config')),
    ...(destination ? await readIfThere(config.root, destinationFile(config.file, destination), 'config') : []),
    // In the order secrets are looked up: the destination's file wins over the common one.
    ...(destination ? await readIfThere(config.root, `.mrsk/secrets.${destination}`, 'secrets') : []),
    ...(await readIfThere(config.root, '.mrsk/secrets', 'secrets')),
  ];
  const problems = placeholderProblems(config, sources);
  if (problems.length > 0) throw new ConfigError([{ file: '', path: '', message: placeholderHeadline(problems) }, ...problems]);
}
