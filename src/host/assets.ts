// The host script of an `assets-prepare` step (asset_path bridging, Kamal's behaviour): the new
// version's assets are copied out of its image into its own host folder, then the previous
// version's files are copied into it and its files into the previous folder, never overwriting,
// so during the cutover either container answers for either version's fingerprinted files.
// Pure: the executor runs the text; tests check it exactly.
import * as docker from '../runtime/index.ts';
import type { RuntimeName } from '../runtime/runtime.ts';
import { shq, toShell } from '../shell/quote.ts';

export interface PrepareAssets {
  /** The host's container runtime. */
  readonly runtime: RuntimeName;
  /** Image of the new version. */
  readonly image: string;
  /** asset_path inside the image. */
  readonly assetPath: string;
  /** Absolute host folder of the new version's assets. */
  readonly dir: string;
  /** Absolute host folders of the versions serving now (may be missing: then skipped). */
  readonly previousDirs: readonly string[];
  /** Name of the throw-away container the files are copied from. */
  readonly scratchName: string;
}

/** The throw-away container's name for a new container: fixed, so a re-run removes a leftover first. */
export function assetsScratchName(containerName: string): string {
  return `${containerName}-assets`;
}

/**
 * Idempotent: the copy out of the image rewrites the same files, `cp -n` never replaces a file,
 * and a leftover scratch container of an interrupted run is removed first. `cp -n` exits 1 on
 * coreutils 9.2-9.4 when it skipped a file, so the merge checks the folders afterwards instead
 * of trusting that exit code: every file of the source must exist in the destination.
 */
export function prepareAssetsScript(input: PrepareAssets): string {
  const { runtime: rt, image, assetPath, dir, previousDirs, scratchName } = input;
  const remove = `${toShell(docker.removeContainer(rt, scratchName, { force: true }))} >/dev/null 2>&1 || true`;
  const lines = [
    'set -e',
    `mkdir -p ${shq(dir)}`,
    remove,
    `${toShell(docker.createStoppedContainer(rt, scratchName, image))} >/dev/null`,
    `${toShell(docker.copyFolderContentsOut(rt, scratchName, assetPath, dir))} || { rc=$?; ${remove}; exit $rc; }`,
    remove,
  ];
  for (const previous of previousDirs) {
    lines.push(
      `if [ -d ${shq(previous)} ]; then`,
      `  cp -Rn ${shq(`${previous}/.`)} ${shq(`${dir}/`)} || true`,
      `  cp -Rn ${shq(`${dir}/.`)} ${shq(`${previous}/`)} || true`,
      `  ${verifyCopied(previous, dir)}`,
      `  ${verifyCopied(dir, previous)}`,
      'fi',
    );
  }
  return lines.join('\n');
}

/** Fails (exit 1, naming the file) when a file of `from` is missing in `to`. */
function verifyCopied(from: string, to: string): string {
  return `(cd ${shq(from)} && find . ! -type d) | (cd ${shq(to)} && while IFS= read -r f; do [ -e "$f" ] || { echo "asset bridging: $f was not copied" >&2; exit 1; }; done)`;
}

/** Removes the asset folders of versions no longer kept (with their container). */
export function removeAssetsScript(dir: string): string {
  return `rm -rf ${shq(dir)}`;
}
