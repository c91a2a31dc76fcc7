// The release ledger's read script: `~/.mrsk/<app>/releases/<id>.json`, one file per applied
// release, plus current.json (a copy of the last). Read-only; src/drift/ledger.ts parses what it
// prints. Pure: tests check the text exactly.
import { hostPaths } from '../desired/paths.ts';
import { shq } from '../shell/quote.ts';
import type { HostScript, AppScope } from './lock.ts';

/** Printed before each file's content, with the file's name: `@@mrsk-release <file>@@`. */
export const LEDGER_FILE_MARK = /^@@mrsk-release (.+)@@$/;

/** Prints every ledger file after a `@@mrsk-release <file>@@` line; prints nothing when there is none. */
export function readLedgerScript(scope: AppScope): HostScript {
  const dir = hostPaths(scope.service, scope.destination).releasesDir;
  return {
    script: [
      `cd "$HOME" && [ -d ${shq(dir)} ] || exit 0`,
      `for file in ${shq(dir)}/*.json; do`,
      '  [ -f "$file" ] || continue',
      `  printf '\\n@@mrsk-release %s@@\\n' "\${file##*/}"`,
      '  cat "$file"',
      'done',
    ].join('\n'),
  };
}
