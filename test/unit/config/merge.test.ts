// Destination merging: maps merge, lists and scalars replace; origins are tracked per key path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deepMerge, originOf } from '../../../src/config/merge.ts';
import { parseConfigText, type ConfigSource } from '../../../src/config/source.ts';

test('maps merge key by key, deeply', () => {
  assert.deepEqual(deepMerge({ a: 1, env: { clear: { A: '1', B: '2' } } }, { env: { clear: { B: 'x', C: '3' } } }), {
    a: 1,
    env: { clear: { A: '1', B: 'x', C: '3' } },
  });
});

test('lists, scalars and null replace; inputs are not modified', () => {
  const base = { servers: ['a', 'b'], port: 1, boot: { limit: 2 } };
  assert.deepEqual(deepMerge(base, { servers: ['c'], port: 2, boot: null }), { servers: ['c'], port: 2, boot: null });
  assert.deepEqual(deepMerge(base, { servers: { web: ['c'] } }), { servers: { web: ['c'] }, port: 1, boot: { limit: 2 } });
  assert.deepEqual(base, { servers: ['a', 'b'], port: 1, boot: { limit: 2 } });
});

function source(file: string, text: string): ConfigSource {
  const result = parseConfigText(new TextEncoder().encode(text), file);
  assert.ok(result.ok);
  return result.source;
}

test('originOf: the destination owns what it sets, including everything under a list it replaces', () => {
  const main = source('deploy.yml', 'servers:\n  web: [a, b]\nenv:\n  A: 1\n');
  const staging = source('deploy.staging.yml', 'servers:\n  web: [c]\nhealthcheck:\n  port: 1\n');
  assert.equal(originOf([main, staging], ['servers', 'web', 0]).file, 'deploy.staging.yml');
  assert.equal(originOf([main, staging], ['servers', 'web', 1]).file, 'deploy.staging.yml');
  assert.equal(originOf([main, staging], ['healthcheck', 'port']).file, 'deploy.staging.yml');
  assert.equal(originOf([main, staging], ['env', 'A']).file, 'deploy.yml');
  assert.equal(originOf([main, staging], ['servers', 'job']).file, 'deploy.yml');
  assert.equal(originOf([main], ['servers']).file, 'deploy.yml');
});
