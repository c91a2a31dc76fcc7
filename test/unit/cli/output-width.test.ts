// How wide tables may be: $COLUMNS, else the terminal's width; a pipe has none (whole rows).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { outputWidth } from '../../../src/cli/output.ts';

test('COLUMNS wins, then the terminal width; a pipe or CI log has no width', () => {
  assert.equal(outputWidth({ isTTY: true, columns: 120 }, {}), 120);
  assert.equal(outputWidth({ isTTY: true, columns: 120 }, { COLUMNS: '80' }), 80);
  assert.equal(outputWidth({ isTTY: false }, { COLUMNS: '100' }), 100);
  assert.equal(outputWidth({ isTTY: false }, {}), undefined);
  assert.equal(outputWidth({ isTTY: true, columns: 120 }, { COLUMNS: 'wide' }), 120, 'a COLUMNS that is no number is ignored');
});
