// The version of a deploy names containers and image tags: --version, else $VERSION, else the
// git commit, marked _uncommitted_<hash of the diff> when the work tree has changes so two
// different dirty trees never share a version.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { ConfigError, UsageError } from '../errors.ts';

const run = promisify(execFile);

/** What a version may look like: a valid docker tag (it becomes the image tag and part of container names). */
export const VERSION_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** Options for resolveVersion. */
export interface ResolveVersionOptions {
  /** From --version. */
  readonly explicit?: string;
  /** Environment to read VERSION from (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** Folder inside the git work tree. */
  readonly cwd: string;
}

/** Picks the version: `--version` > `VERSION` env > git HEAD sha (+ `_uncommitted_<16 hex>` when dirty). */
export async function resolveVersion(options: ResolveVersionOptions): Promise<string> {
  const env = options.env ?? process.env;
  if (options.explicit !== undefined) {
    if (!VERSION_PATTERN.test(options.explicit)) throw new UsageError(`invalid --version "${options.explicit}": use letters, digits, '_', '.' or '-' (at most 128, not starting with '.' or '-')`);
    return options.explicit;
  }
  const fromEnv = env.VERSION;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!VERSION_PATTERN.test(fromEnv)) throw new ConfigError(`invalid VERSION "${fromEnv}" in the environment: use letters, digits, '_', '.' or '-' (at most 128, not starting with '.' or '-')`);
    return fromEnv;
  }
  const git = async (...args: string[]) => (await run('git', args, { cwd: options.cwd, maxBuffer: 256 * 1024 * 1024, encoding: 'buffer' })).stdout;
  let head: string;
  try {
    head = (await git('rev-parse', '--verify', 'HEAD')).toString('utf8').trim();
  } catch {
    throw new ConfigError('cannot tell the version: not in a git repository with a commit; pass --version <version> or set VERSION');
  }
  const status = (await git('status', '--porcelain')).toString('utf8');
  if (status.trim() === '') return head;
  const hash = createHash('sha256').update(await git('diff', 'HEAD'));
  // Untracked files are not in the diff: hash their names and contents too, or two different
  // trees (say, before the first `git add`) would share a version and an image tag.
  const root = (await git('rev-parse', '--show-toplevel')).toString('utf8').trim();
  const untracked = (await git('ls-files', '-z', '--others', '--exclude-standard', '--full-name', ':/')).toString('utf8').split('\0').filter(Boolean).sort();
  for (const file of untracked) {
    hash.update(`\0${file}\0`);
    hash.update(await readFile(join(root, file)).catch(() => Buffer.alloc(0)));
  }
  const digest = hash.digest('hex').slice(0, 16);
  return `${head}_uncommitted_${digest}`;
}
