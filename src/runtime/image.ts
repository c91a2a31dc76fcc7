// Builders for docker commands on images: pull, tag, push, list, inspect, remove.
import { type Argv, repeatFlag } from './argv.ts';
import { imageRef, type RuntimeName } from './runtime.ts';
import { idField } from './container.ts';

/** `docker pull` of a full reference (repo:tag or repo@digest). */
export function pullImage(rt: RuntimeName, ref: string): Argv {
  return [rt, 'pull', imageRef(rt, ref)];
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
export function removeImage(rt: RuntimeName, ref: string): Argv {
  return [rt, 'image', 'rm', imageRef(rt, ref)];
}

/**
 * Images matching a reference pattern (`repo` matches every tag of repo), one JSON object per
 * line with full ids.
 */
export function listImages(rt: RuntimeName, reference: string): Argv {
  return [rt, 'image', 'ls', '--no-trunc', '--filter', `reference=${imageRef(rt, reference)}`, '--format', IMAGE_ENTRY_FORMAT];
}

/** Full ids of the images matching any of the references, one per line (may repeat an id). */
export function listImageIds(rt: RuntimeName, references: readonly string[]): Argv {
  return [rt, 'image', 'ls', '-q', '--no-trunc', ...repeatFlag('--filter', references.map((r) => `reference=${imageRef(rt, r)}`))];
}

/** A Go template for `docker image inspect`: one JSON line per image with what a snapshot needs. */
export function imageSummaryFormat(rt: RuntimeName): string {
  return `{"Id":{{json .${idField(rt)}}},"RepoTags":{{json .RepoTags}},"Created":{{json .Created}},"Config":{"Labels":{{json .Config.Labels}}}}`;
}

/** The `image ls` line src/ops/docker-ps.ts parses (named fields both runtimes print). */
export const IMAGE_ENTRY_FORMAT = '{"ID":{{json .ID}},"Repository":{{json .Repository}},"Tag":{{json .Tag}},"CreatedSince":{{json .CreatedSince}},"Size":{{json .Size}}}';

/** `docker image inspect`: docker's full JSON array, or one line per image with a format. */
export function inspectImages(rt: RuntimeName, ids: readonly string[], opts: { readonly format?: string } = {}): Argv {
  return [rt, 'image', 'inspect', ...(opts.format ? ['--format', opts.format] : []), ...ids];
}
