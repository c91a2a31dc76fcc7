// `mrsk init`: starts a project with a commented config/deploy.yml, a .mrsk/secrets file with
// placeholders (mode 0600) and a .gitignore entry so the secrets are never committed.
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import type { RegisterCommand } from '../cli/program.ts';

/** The line init adds to .gitignore. */
export const GITIGNORE_ENTRY = '.mrsk/secrets*';

const TEMPLATE_DIR = new URL('../../templates/', import.meta.url);

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Adds the secrets pattern to a .gitignore text unless a line already says it (pure). */
export function withGitignoreEntry(text: string): string {
  if (text.split(/\r?\n/).some((line) => line.trim() === GITIGNORE_ENTRY)) return text;
  const separator = text === '' || text.endsWith('\n') ? '' : '\n';
  return `${text}${separator}${GITIGNORE_ENTRY}\n`;
}

/** Registers `mrsk init`. */
export const register: RegisterCommand = (program, bind) => {
  program
    .command('init')
    .description('write a commented config/deploy.yml and .mrsk/secrets to start from')
    .option('--force', 'overwrite existing files')
    .action(
      bind<{ force?: boolean }>(async (ctx, options) => {
        const configPath = resolve(ctx.cwd, ctx.global.config);
        const secretsPath = resolve(ctx.cwd, '.mrsk/secrets');
        const gitignorePath = resolve(ctx.cwd, '.gitignore');
        const shown = (path: string) => relative(ctx.cwd, path) || path;

        const existing = [];
        for (const path of [configPath, secretsPath]) if (await exists(path)) existing.push(shown(path));
        if (existing.length > 0 && !options.force) {
          ctx.out.error(`${existing.join(' and ')} already exist${existing.length === 1 ? 's' : ''}; use --force to overwrite`);
          return 1;
        }

        await mkdir(dirname(configPath), { recursive: true });
        await writeFile(configPath, await readFile(new URL('deploy.yml', TEMPLATE_DIR), 'utf8'));
        ctx.out.info(`created ${shown(configPath)}`);

        await mkdir(dirname(secretsPath), { recursive: true, mode: 0o700 });
        await writeFile(secretsPath, await readFile(new URL('secrets', TEMPLATE_DIR), 'utf8'), { mode: 0o600 });
        // writeFile's mode only applies to new files; an overwritten one keeps its old mode.
        await chmod(secretsPath, 0o600);
        ctx.out.info(`created ${shown(secretsPath)} (replace the placeholders; it is never committed)`);

        const gitignore = (await exists(gitignorePath)) ? await readFile(gitignorePath, 'utf8') : '';
        const updated = withGitignoreEntry(gitignore);
        if (updated !== gitignore) {
          await writeFile(gitignorePath, updated);
          ctx.out.info(`added ${GITIGNORE_ENTRY} to .gitignore`);
        }
        ctx.out.info(`next: replace the placeholders in ${shown(configPath)} and ${shown(secretsPath)}, check them with \`mrsk config\`, then run \`mrsk plan\` and \`mrsk deploy\``);
        return 0;
      }),
    );
};
