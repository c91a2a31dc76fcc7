// The build context without builder.context (Kamal's rule): a clean clone of the commit at HEAD
// in a temporary folder, so uncommitted changes and untracked files never enter an image. The
// clone shares the repository's objects (git clone --shared) and is removed after the build.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { BuilderError } from '../errors.ts';

const run = promisify(execFile);

export interface CleanClone {
  /** The project root inside the clone (the build context). */
  readonly root: string;
  /** The commit built. */
  readonly head: string;
  /** Whether the work tree has changes (tracked or untracked) that the image will not contain. */
  readonly dirty: boolean;
  /** Removes the clone. */
  remove(): Promise<void>;
}

async function git(cwd: string, args: readonly string[], signal?: AbortSignal): Promise<string> {
  const { stdout } = await run('git', [...args], { cwd, maxBuffer: 64 * 1024 * 1024, signal, encoding: 'utf8' });
  return stdout;
}

/**
 * Clones HEAD of the git work tree holding `projectRoot` into a new temporary folder. Returns
 * undefined when `projectRoot` is not in a git work tree with a commit (the caller builds the
 * folder itself, as Kamal does). Submodules are checked out at their recorded commits.
 */
export async function cleanClone(projectRoot: string, service: string, signal?: AbortSignal): Promise<CleanClone | undefined> {
  let top: string;
  let head: string;
  try {
    top = (await git(projectRoot, ['rev-parse', '--show-toplevel'], signal)).trim();
    head = (await git(projectRoot, ['rev-parse', '--verify', 'HEAD'], signal)).trim();
  } catch (error) {
    if (signal?.aborted) throw error;
    return undefined;
  }
  const dirty = (await git(projectRoot, ['status', '--porcelain', '--untracked-files=normal'], signal)).trim() !== '';
  const folder = await mkdtemp(join(tmpdir(), `mrsk-clone-${service.replace(/[^A-Za-z0-9_.-]/g, '-')}-`));
  const remove = () => rm(folder, { recursive: true, force: true });
  try {
    // --shared borrows the objects (no copy); the commit at HEAD is checked out even when detached
    await git(folder, ['clone', '--quiet', '--shared', '--no-checkout', top, 'src'], signal);
    const clone = join(folder, 'src');
    await git(clone, ['-c', 'advice.detachedHead=false', 'checkout', '--quiet', '--detach', head], signal);
    if (existsSync(join(clone, '.gitmodules'))) await git(clone, ['submodule', 'update', '--init', '--recursive', '--quiet'], signal);
    return { root: join(clone, relative(top, await realpath(projectRoot))), head, dirty, remove };
  } catch (error) {
    await remove();
    if (signal?.aborted) throw error;
    const stderr = (error as { stderr?: string }).stderr?.trim().split('\n').slice(-3).join(' / ') ?? String(error);
    throw new BuilderError(`cannot make a clean clone of HEAD (${head.slice(0, 12)}) to build from: ${stderr}. Set builder.context (e.g. ".") to build the work tree as it is.`);
  }
}
