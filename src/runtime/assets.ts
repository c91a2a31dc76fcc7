// Builders for copying a folder out of an image (asset_path bridging): a container is created,
// never started, so nothing of the app runs; docker cp reads its filesystem; then it is removed.
import type { Argv } from './argv.ts';
import { imageRef, type RuntimeName } from './runtime.ts';

/**
 * `docker create` of a never-started container from `image`. The entrypoint is overridden so an
 * image without CMD or ENTRYPOINT can be created too (create checks a command exists, not that it runs).
 */
export function createStoppedContainer(rt: RuntimeName, name: string, image: string): Argv {
  return [rt, 'create', '--name', name, '--entrypoint', '/bin/true', imageRef(rt, image)];
}

/** `docker cp NAME:PATH/. DEST`: the folder's contents (not the folder itself) into DEST. */
export function copyFolderContentsOut(rt: RuntimeName, name: string, path: string, dest: string): Argv {
  return [rt, 'cp', `${name}:${path.replace(/\/+$/, '')}/.`, dest];
}
