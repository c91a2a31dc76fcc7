// The one painter (src/views/paint.ts): what each colour writes, nothing without colour, and
// Output (the only writer) painting through it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { painter, type Colour } from '../../../src/views/paint.ts';
import { Output } from '../../../src/cli/output.ts';

const CODES: Record<Colour, number> = { red: 31, green: 32, yellow: 33, cyan: 36, bold: 1, dim: 2 };

test('each colour is its SGR code around the text, reset after', () => {
  const paint = painter(true);
  for (const [colour, code] of Object.entries(CODES) as [Colour, number][]) {
    assert.equal(paint(colour, 'text'), `\u001b[${code}mtext\u001b[0m`);
  }
});

test('without colour (and for empty text) the text is returned as it is', () => {
  for (const colour of Object.keys(CODES) as Colour[]) {
    assert.equal(painter(false)(colour, 'text'), 'text');
    assert.equal(painter(undefined)(colour, 'text'), 'text');
    assert.equal(painter(true)(colour, ''), '');
  }
});

test("Output paints with the same painter, coloured only when it is (a pipe is not)", () => {
  const pipe = new PassThrough() as unknown as NodeJS.WriteStream;
  const out = new Output({}, pipe, pipe);
  assert.equal(out.color, false);
  assert.equal(out.paint('red', 'error:'), 'error:');
  const coloured = Object.assign(Object.create(out) as Output, { color: true });
  assert.equal(Output.prototype.paint.call(coloured, 'red', 'error:'), painter(true)('red', 'error:'));
});
