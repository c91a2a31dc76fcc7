// ${VAR} and ERB interpolation of string values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { interpolateString } from '../../../src/config/interpolate.ts';

const env = { HOST: 'db.example.com', EMPTY: '', PORT: '5432' };
const value = (text: string) => {
  const result = interpolateString(text, env);
  assert.ok(result.ok, `expected success for ${text}: ${JSON.stringify(result)}`);
  return result.value;
};
const errors = (text: string) => {
  const result = interpolateString(text, env);
  assert.ok(!result.ok, `expected failure for ${text}`);
  return result.errors;
};

test('${VAR} substitutes, anywhere in a string and several times', () => {
  assert.equal(value('${HOST}'), 'db.example.com');
  assert.equal(value('postgres://${HOST}:${PORT}/app'), 'postgres://db.example.com:5432/app');
  assert.equal(value('no variables here'), 'no variables here');
});

test('defaults: ${VAR:-d} covers unset and empty, ${VAR-d} only unset', () => {
  assert.equal(value('${MISSING:-fallback}'), 'fallback');
  assert.equal(value('${EMPTY:-fallback}'), 'fallback');
  assert.equal(value('${HOST:-fallback}'), 'db.example.com');
  assert.equal(value('${MISSING-fallback}'), 'fallback');
  assert.equal(value('${EMPTY-fallback}'), '');
  assert.equal(value('${MISSING:-}'), '');
  assert.equal(value('${MISSING:-a:b-c}'), 'a:b-c');
});

test('required: ${VAR:?message} fails on unset or empty with the message, ${VAR?message} only on unset', () => {
  assert.deepEqual(errors('${MISSING:?set it to the region}'), ['environment variable MISSING is not set: set it to the region']);
  assert.deepEqual(errors('${EMPTY:?needed}'), ['environment variable EMPTY is not set: needed']);
  assert.equal(value('${EMPTY?needed}'), '');
  assert.deepEqual(errors('${MISSING?}'), ['environment variable MISSING is not set: it is required']);
});

test('$$ is a literal dollar; a lone $ stays as it is', () => {
  assert.equal(value('price: $$5'), 'price: $5');
  assert.equal(value('$$${HOST}'), '$db.example.com');
  assert.equal(value('a $ b $PATH'), 'a $ b $PATH');
});

test('an unset ${VAR} names the variable and how to give a default; every problem is reported', () => {
  assert.deepEqual(errors('${A}/${B}'), [
    'environment variable A is not set (set it, or give a default: ${A:-default})',
    'environment variable B is not set (set it, or give a default: ${B:-default})',
  ]);
});

test('malformed expressions are errors', () => {
  assert.deepEqual(errors('${}'), ['invalid interpolation "${}" (supported: ${VAR}, ${VAR:-default}, ${VAR:?message}; "$$" for a literal "$")']);
  assert.deepEqual(errors('${1ABC}'), ['invalid interpolation "${1ABC}" (supported: ${VAR}, ${VAR:-default}, ${VAR:?message}; "$$" for a literal "$")']);
  assert.deepEqual(errors('x ${HOST'), ['unterminated "${" (write "$$" for a literal "$")']);
});

test('ERB: the ENV forms MRSK files use', () => {
  assert.equal(value('<%= ENV["HOST"] %>'), 'db.example.com');
  assert.equal(value("<%= ENV['HOST'] %>"), 'db.example.com');
  assert.equal(value('<%=ENV.fetch("PORT")%>'), '5432');
  assert.equal(value('<%= ENV.fetch("MISSING", "6543") %>'), '6543');
  assert.equal(value("<%= ENV.fetch('MISSING', 'x y') %>"), 'x y');
  assert.equal(value('<%= ENV.fetch("PORT", "1") %>'), '5432');
  assert.equal(value('tcp://<%= ENV["HOST"] -%>:1'), 'tcp://db.example.com:1');
});

test('ERB: an unset variable is an error (no silent empty string)', () => {
  assert.deepEqual(errors('<%= ENV["MISSING"] %>'), ['environment variable MISSING is not set (in <%= ENV["MISSING"] %>; set it, or use ${MISSING:-default})']);
  assert.deepEqual(errors('<%= ENV.fetch("MISSING") %>'), ['environment variable MISSING is not set (in <%= ENV.fetch("MISSING") %>; set it, or use ${MISSING:-default})']);
});

test('ERB: anything else is refused with what is supported and a ${...} suggestion', () => {
  const [message] = errors('<%= Rails.application.credentials.registry["password"] %>');
  assert.equal(
    message,
    'unsupported ERB <%= Rails.application.credentials.registry["password"] %>: mrsk does not run Ruby; supported are <%= ENV["X"] %>, <%= ENV[\'X\'] %>, <%= ENV.fetch("X") %>, <%= ENV.fetch("X", "default") %>; use ${REGISTRY_PASSWORD} and set REGISTRY_PASSWORD in the environment or .mrsk/secrets',
  );
  assert.match(errors('<%= `cat /etc/passwd` %>')[0]!, /^unsupported ERB .* use \$\{VAR\}/);
  assert.match(errors('<% x = 1 %>')[0]!, /^unsupported ERB <% x = 1 %>/);
  assert.deepEqual(errors('<%= ENV["A"]'), ['unterminated "<%" (ERB tags must close with "%>" on the same value)']);
});
