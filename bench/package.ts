// The package as users install it, for the benchmarks: `npm pack` (prepack builds dist/) and
// `npm install -g` of the tarball into a temporary prefix. MRSK_INSTALLED=<prefix> reuses one.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../', import.meta.url));

export interface Installed {
  /** <prefix>/bin/mrsk */
  readonly bin: string;
  readonly prefix: string;
  remove(): void;
}

function npm(args: string[], cwd: string): string {
  const result = spawnSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
  if (result.status !== 0) throw new Error(`npm ${args.join(' ')} failed:\n${result.stderr}`);
  return result.stdout;
}

export function installPackage(): Installed {
  const reuse = process.env.MRSK_INSTALLED;
  if (reuse) {
    const bin = join(reuse, 'bin/mrsk');
    if (!existsSync(bin)) throw new Error(`MRSK_INSTALLED=${reuse}: no bin/mrsk there`);
    return { bin, prefix: reuse, remove: () => undefined };
  }
  const work = mkdtempSync(join(tmpdir(), 'mrsk-bench-pkg-'));
  const out = npm(['pack', '--pack-destination', work, '--json'], repoRoot);
  const [{ filename }] = JSON.parse(out.slice(out.indexOf('['))) as [{ filename: string }];
  const prefix = join(work, 'prefix');
  npm(['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', join(work, filename)], work);
  return { bin: join(prefix, 'bin/mrsk'), prefix, remove: () => rmSync(work, { recursive: true, force: true }) };
}
