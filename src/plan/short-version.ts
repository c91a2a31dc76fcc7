// Versions as people read them. A deploy's version is usually a full 40-character git commit
// hash (plus `_uncommitted_<16 hex>` for a dirty tree), which makes container names 50-80
// characters long and every plan line wrap. Views show a 12-character prefix, as `git log
// --oneline` does in a large repository; container names, labels, image tags and --json keep the
// full version (see README, "Versions"), so hosts deployed before never need replacing.

/** How many characters of a commit hash a person sees: unique in practice, and a prefix they can search for. */
export const SHORT_VERSION_LENGTH = 12;

/** A whole 40-hex commit hash (not part of a longer hex run such as a 64-hex image id). */
const COMMIT = /(?<![0-9a-f])([0-9a-f]{12})[0-9a-f]{28}(?![0-9a-f])/g;
/** The digest of an uncommitted diff (src/config/version.ts): 8 of its 16 hex digits tell two dirty trees apart. */
const DIRTY = /(_uncommitted_[0-9a-f]{8})[0-9a-f]{8}(?![0-9a-f])/g;

/** Every commit hash in text cut to 12 characters, every uncommitted-diff digest to 8; all else unchanged. */
export function abbreviateVersions(text: string): string {
  return text.replace(COMMIT, '$1').replace(DIRTY, '$1');
}

/** One version as a person reads it: `0123456789ab` for a commit hash, `v2` stays `v2`. */
export function shortVersion(version: string): string {
  return abbreviateVersions(version);
}
