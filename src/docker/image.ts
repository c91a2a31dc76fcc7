// Builders for docker commands on images: pull, tag, push, list, inspect, remove.
import { type Argv, repeatFlag } from './argv.ts';

/** `docker pull` of a full reference (repo:tag or repo@digest). */
export function pullImage(ref: string): Argv {
  return ['docker', 'pull', ref];
}

/** `docker tag source target`. */
export function tag(source: string, target: string): Argv {
  return ['docker', 'tag', source, target];
}

/** `docker push` of a full reference. */
export function push(ref: string): Argv {
  return ['docker', 'push', ref];
}

/** `docker image rm` of a reference or image id (fails while a container still uses it). */
export function removeImage(ref: string): Argv {
  return ['docker', 'image', 'rm', ref];
}

/**
 * Images matching a reference pattern (`repo` matches every tag of repo), one JSON object per
 * line with full ids.
 */
export function listImages(reference: string): Argv {
  return ['docker', 'image', 'ls', '--no-trunc', '--filter', `reference=${reference}`, '--format', '{{json .}}'];
}

/** Full ids of the images matching any of the references, one per line (may repeat an id). */
export function listImageIds(references: readonly string[]): Argv {
  return ['docker', 'image', 'ls', '-q', '--no-trunc', ...repeatFlag('--filter', references.map((r) => `reference=${r}`))];
}

/** A Go template for `docker image inspect`: one JSON line per image with what a snapshot needs. */
export const IMAGE_SUMMARY_FORMAT =
  '{"Id":{{json .Id}},"RepoTags":{{json .RepoTags}},"Created":{{json .Created}},"Config":{"Labels":{{json .Config.Labels}}}}';

/** `docker image inspect`: docker's full JSON array, or one line per image with a format. */
export function inspectImages(ids: readonly string[], opts: { readonly format?: string } = {}): Argv {
  return ['docker', 'image', 'inspect', ...(opts.format ? ['--format', opts.format] : []), ...ids];
}
