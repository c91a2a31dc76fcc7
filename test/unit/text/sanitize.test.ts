// The one rule for text a host sends before mrsk prints it: no terminal control sequences.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hostExcerpt, sanitizeHostText, sanitizeHostValue } from '../../../src/text/sanitize.ts';

const ESC = '\u001b';

describe('sanitizeHostText', () => {
  it('keeps plain text, newlines, tabs and non-ASCII letters as they are', () => {
    for (const text of ['', 'hello', 'a\nb\tc', 'ünïcødé ✓ 日本 עברית', '{"json": [1, 2]}', '~/.mrsk/app/releases/current.json']) {
      assert.equal(sanitizeHostText(text), text);
    }
  });

  it('removes escape sequences whole: colours, cursor moves, screen clears, title and hyperlink strings', () => {
    const cases: Array<[string, string]> = [
      [`${ESC}[31mred${ESC}[0m`, 'red'],
      [`${ESC}[2J${ESC}[Hclear`, 'clear'],
      [`${ESC}[1;31;4mbold`, 'bold'],
      [`${ESC}[?25lhidden cursor`, 'hidden cursor'],
      [`a${ESC}[1Ab`, 'ab'], // cursor up: would overwrite a line already printed
      [`${ESC}]0;pwned title\u0007after`, 'after'],
      [`${ESC}]8;;http://evil.example/${ESC}\\link${ESC}]8;;${ESC}\\`, 'link'],
      [`${ESC}]52;c;ZXZpbA==\u0007clip`, 'clip'], // OSC 52 writes the clipboard
      [`${ESC}P1$r0m${ESC}\\dcs`, 'dcs'],
      [`${ESC}creset`, 'reset'],
      [`${ESC}(Bcharset`, 'charset'],
      [`\u009b31m8-bit CSI`, '8-bit CSI'],
      [`tail${ESC}`, 'tail'],
      [`tail${ESC}[`, 'tail'],
      [`${ESC}]0;title${ESC}[31mred`, 'red'], // an OSC cut short by the next sequence
    ];
    for (const [input, expected] of cases) assert.equal(sanitizeHostText(input), expected, JSON.stringify(input));
  });

  it('removes every other C0 control (but \\n and \\t), DEL, C1 controls and bidi overrides', () => {
    let all = '';
    for (let code = 0; code < 0x20; code++) all += String.fromCharCode(code);
    all += '\u007f';
    for (let code = 0x80; code < 0xa0; code++) if (code !== 0x9b) all += String.fromCharCode(code);
    assert.equal(sanitizeHostText(`<${all}>`), '<\t\n>');
    assert.equal(sanitizeHostText('abc\u202edcba\u2066x\u2069'), 'abcdcbax');
    assert.equal(sanitizeHostText('line\r\nnext\r'), 'line\nnext');
    assert.equal(sanitizeHostText('bell\u0007 backspace\b nul\u0000'), 'bell backspace nul');
  });

  it('never leaves an ESC, whatever the input (random bytes)', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let round = 0; round < 500; round++) {
      let text = '';
      for (let i = 0; i < 40; i++) text += String.fromCharCode(random() < 0.3 ? 0x1b : Math.floor(random() * 0xa0));
      const clean = sanitizeHostText(text);
      assert.doesNotMatch(clean, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/, JSON.stringify(text));
      assert.equal(sanitizeHostText(clean), clean, 'idempotent');
    }
  });

  it('handles 1 MB of hostile text in well under a second (no catastrophic backtracking)', () => {
    const text = `${ESC}]`.repeat(100_000) + `${ESC}[`.repeat(100_000) + `x${ESC}`.repeat(200_000);
    const started = performance.now();
    const clean = sanitizeHostText(text);
    assert.ok(performance.now() - started < 1000);
    assert.doesNotMatch(clean, /\u001b/);
  });
});

describe('sanitizeHostValue', () => {
  it('cleans every string of a decoded JSON value, keys included, and keeps the rest', () => {
    const value = JSON.parse('{"na\\u001b[31mme": "x\\u001b]0;t\\u0007y", "list": ["\\u009b2Ja", 1, true, null], "n": {"deep": "\\u0000z"}}');
    assert.deepEqual(sanitizeHostValue(value), { name: 'xy', list: ['a', 1, true, null], n: { deep: 'z' } });
  });
});

describe('hostExcerpt', () => {
  it('puts host text on one short line', () => {
    assert.equal(hostExcerpt(`  ${ESC}[31mEVIL${ESC}[0m\n\tgarbage  `), 'EVIL garbage');
    assert.equal(hostExcerpt('x'.repeat(200), 10), `${'x'.repeat(10)}…`);
    assert.equal(hostExcerpt(`${ESC}[2J`), '(empty)');
  });
});
