// Schema validation as users see it: readable messages, one per problem, at the right path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { schemaProblems } from '../../../src/config/validate.ts';
import { closest, editDistance } from '../../../src/config/suggest.ts';
import { isHost } from '../../../src/config/schema.ts';
import { formatPath } from '../../../src/config/source.ts';

const base = () => ({ service: 'app', image: 'acme/app', servers: ['10.0.0.1'] });
const problems = (extra: Record<string, unknown>) => schemaProblems({ ...base(), ...extra }).map((p) => `${formatPath(p.path)}: ${p.message}`);

test('a valid config has no problems and gets the schema defaults filled in', () => {
  const data: Record<string, any> = base();
  assert.deepEqual(schemaProblems(data), []);
  assert.equal(data.healthcheck.port, 3000);
  assert.equal(data.ssh.user, 'root');
  assert.equal(data.traefik.image, 'traefik:v3.6');
  assert.equal(data.primary_role, 'web');
});

test('unknown keys point at the key and suggest the closest known one, at any depth', () => {
  assert.deepEqual(problems({ healtcheck: {} }), ['healtcheck: unknown key, did you mean "healthcheck"?']);
  assert.deepEqual(problems({ ssh: { usr: 'x' } }), ['ssh.usr: unknown key, did you mean "user"?']);
  assert.deepEqual(problems({ registry: { zzzzzz: 1 } }), ['registry.zzzzzz: unknown key, allowed keys: server, username, password']);
  assert.deepEqual(problems({ 'x-anchors': { anything: [1, 2] } }), []);
});

test('alternatives collapse to the one message that fits the value', () => {
  assert.deepEqual(problems({ servers: 'host' }), ['servers: must be a list or a map']);
  assert.deepEqual(problems({ servers: { web: { hosts: ['10.0.0.1'], cmd: 1 } } }), ['servers.web.cmd: must be a string or a list']);
  assert.deepEqual(problems({ servers: { web: { hosts: ['10.0.0.1', 2] } } }), ['servers.web.hosts[1]: must be a host, or host: tag, or host: [tags]']);
  assert.deepEqual(problems({ deploy_timeout: true }), ['deploy_timeout: must be a number or a string']);
  assert.deepEqual(problems({ deploy_timeout: '10 s' }), ['deploy_timeout: must be seconds, or a duration like "30s", "2m", "1h"']);
  assert.deepEqual(problems({ boot: { limit: 0 } }), ['boot.limit: must be >= 1']);
  assert.deepEqual(problems({ servers: { web: { hosts: ['10.0.0.1'], traefik: 'yes' } } }), ['servers.web.traefik: must be a boolean or a map']);
});

test('env is either a flat map or {clear, secret}', () => {
  assert.deepEqual(problems({ env: { A: '1', B: 2, C: true } }), []);
  assert.deepEqual(problems({ env: { clear: { A: '1' }, secret: ['B'] } }), []);
  assert.deepEqual(problems({ env: { A: ['list'] } }), ['env.A: must be a string, a number or a boolean']);
  assert.deepEqual(problems({ env: { secret: 'B' } }), ['env.secret: must be a list']);
});

test('names: service, roles and hosts', () => {
  assert.deepEqual(problems({ service: '-app' }), ["service: must be letters, digits, '_', '.' or '-', starting with a letter or digit"]);
  assert.deepEqual(problems({ servers: { 'web app': ['10.0.0.1'] } }), ["servers[\"web app\"]: role names must be lower-case letters, digits, '_', '.' or '-', starting with a letter or digit"]);
  assert.deepEqual(problems({ servers: ['exa mple.com'] }), ['servers[0]: must be a hostname or IP address']);
});

test('isHost accepts IPv4, IPv6 and RFC 1123 names only', () => {
  for (const host of ['10.0.0.1', '::1', '2001:db8::1', 'localhost', 'a.example.com', 'web-1', 'xn--bcher-kva.example']) assert.ok(isHost(host), host);
  for (const host of ['', '10.0.0.256', '1.2.3', 'under_score.com', '-lead.com', 'a..b', 'user@host', 'host:22', 'a'.repeat(64)]) assert.ok(!isHost(host), host);
});

test('edit distance and suggestions', () => {
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(closest('helthcheck', ['healthcheck', 'hosts']), 'healthcheck');
  assert.equal(closest('comand', ['hosts', 'cmd', 'env']), 'cmd');
  assert.equal(closest('zzzzzz', ['hosts', 'cmd', 'env']), undefined);
});

test('formatPath quotes keys that contain dots or spaces', () => {
  assert.equal(formatPath(['servers', 'web', 'hosts', 1]), 'servers.web.hosts[1]');
  assert.equal(formatPath(['labels', 'traefik.enable']), 'labels["traefik.enable"]');
  assert.equal(formatPath([]), '');
});
