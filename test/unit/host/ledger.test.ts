// The release ledger's read script, text for text (test/unit/drift/ledger.test.ts runs it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LEDGER_FILE_MARK, readLedgerScript } from '../../../src/host/ledger.ts';

test('every file of the releases folder after a mark naming it; nothing without the folder', () => {
  assert.deepEqual(readLedgerScript({ service: 'app', destination: 'staging' }), {
    script: [
      'cd "$HOME" && [ -d .mrsk/app-staging/releases ] || exit 0',
      'for file in .mrsk/app-staging/releases/*.json; do',
      '  [ -f "$file" ] || continue',
      "  printf '\\n@@mrsk-release %s@@\\n' \"${file##*/}\"",
      '  cat "$file"',
      'done',
    ].join('\n'),
  });
  assert.deepEqual(LEDGER_FILE_MARK.exec('@@mrsk-release current.json@@')?.[1], 'current.json');
});
