// The `runtime` key (src/config/runtime.ts) as real projects on disk: every host gets exactly one
// wish (tag over role over the top level's default), accessory-only hosts get the default, files
// without the key keep Docker everywhere, and every conflict is a config error (exit 78) at its
// file:line:col naming both places.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../../src/errors.ts';
import { loadConfig } from '../../../src/config/load.ts';
import { presentConfig } from '../../../src/config/present.ts';
import { runtimeWishOf } from '../../../src/config/runtime.ts';
import type { Config } from '../../../src/config/types.ts';
import { RUNTIME_WISHES } from '../../../src/runtime/runtime.ts';

const fixtures = fileURLToPath(new URL('../../../fixtures/configs/', import.meta.url));

/** Writes config/deploy.yml (and destination files) into a fresh project and loads it. */
async function load(t: { after: (fn: () => void) => void }, lines: readonly string[], destinations: Record<string, readonly string[]> = {}, destination?: string): Promise<Config> {
  const root = mkdtempSync(join(tmpdir(), 'mrsk-runtime-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'config'));
  writeFileSync(join(root, 'config', 'deploy.yml'), `${lines.join('\n')}\n`);
  for (const [name, body] of Object.entries(destinations)) writeFileSync(join(root, 'config', `deploy.${name}.yml`), `${body.join('\n')}\n`);
  return loadConfig({ file: 'config/deploy.yml', cwd: root, env: {}, ...(destination ? { destination } : {}) });
}

/** The lines of the ConfigError loading these lines gives (fails when it loads). */
async function errorLines(t: { after: (fn: () => void) => void }, lines: readonly string[]): Promise<string[]> {
  try {
    await load(t, lines);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `not a ConfigError: ${String(error)}`);
    assert.equal(error.exitCode, 78);
    return error.message.split('\n');
  }
  assert.fail('the config loaded');
}

const HEAD = ['service: shop', 'image: acme/shop'];

test('RUNTIME_WISHES are the values the schema allows', async (t) => {
  const [message] = await errorLines(t, [...HEAD, 'servers: [10.0.0.1]', 'runtime: lxc']);
  assert.equal(message, `config/deploy.yml:4:10 runtime: must be one of: ${RUNTIME_WISHES.join(', ')}`);
});

test('every fixture project without the key asks Docker of every host, accessory hosts included', async () => {
  // Values the fixtures interpolate or read as secrets (test values only).
  const env = { REGISTRY_PASSWORD: 'p', REGISTRY_USERNAME: 'u', DOCKER_USER: 'acme', APP_PORT: '3000', MRSK_REGISTRY_PASSWORD: 'p', BLOG_HOST: '10.0.0.1', SMTP_HOST: 'smtp.example.com', SMTP_PORT: '25', REGION: 'eu', APP_HOST: '10.0.0.2', SERVICE_NAME: 'shop' };
  const projects = readdirSync(fixtures).filter((name) => name !== 'invalid');
  assert.ok(projects.length >= 14, `only ${projects.length} fixture projects`);
  let accessoryHosts = 0;
  for (const name of projects) {
    const config = await loadConfig({ file: 'config/deploy.yml', cwd: join(fixtures, name), env });
    assert.equal(config.runtime, 'docker', name);
    const every = [...new Set([...config.hosts, ...config.accessories.flatMap((accessory) => accessory.hosts)])];
    assert.deepEqual(Object.keys(config.hostRuntimes), every, `${name}: one wish per host, in host order`);
    for (const host of every) assert.equal(runtimeWishOf(config, host), 'docker', `${name} ${host}`);
    accessoryHosts += every.length - config.hosts.length;
  }
  assert.ok(accessoryHosts > 0, 'some fixture has a host that only runs accessories');
});

test('a top-level value applies to every host, accessory-only hosts included', async (t) => {
  for (const wish of RUNTIME_WISHES) {
    const config = await load(t, [...HEAD, 'servers:', '  web: [10.0.0.1]', '  jobs: [10.0.0.2]', `runtime: ${wish}`, 'accessories:', '  db:', '    image: postgres:16', '    host: 10.0.0.9']);
    assert.equal(config.runtime, wish);
    assert.deepEqual(config.hostRuntimes, { '10.0.0.1': wish, '10.0.0.2': wish, '10.0.0.9': wish });
  }
});

test('a role runtime applies to its hosts over the top level; a role without the key takes no side', async (t) => {
  const config = await load(t, [
    ...HEAD,
    'runtime: auto',
    'servers:',
    '  web:',
    '    hosts: [10.0.0.1, 10.0.0.2]',
    '    runtime: podman',
    '  jobs:',
    '    hosts: [10.0.0.2, 10.0.0.3]',
    '  cron: [10.0.0.4]',
    'accessories:',
    '  redis:',
    '    image: redis:7',
    '    hosts: [10.0.0.1, 10.0.0.8]',
  ]);
  assert.equal(config.runtime, 'auto');
  // 10.0.0.2 is in web (podman) and jobs (no key): web decides.
  assert.deepEqual(config.hostRuntimes, { '10.0.0.1': 'podman', '10.0.0.2': 'podman', '10.0.0.3': 'auto', '10.0.0.4': 'auto', '10.0.0.8': 'auto' });
});

test('two roles that agree share hosts without complaint', async (t) => {
  const config = await load(t, [...HEAD, 'servers:', '  web:', '    hosts: [10.0.0.1]', '    runtime: podman', '  jobs:', '    hosts: [10.0.0.1]', '    runtime: podman']);
  assert.deepEqual(config.hostRuntimes, { '10.0.0.1': 'podman' });
  assert.equal(config.runtime, 'docker');
});

test('the map form: a default and a runtime per host tag; tag over role over default', async (t) => {
  const config = await load(t, [
    ...HEAD,
    'runtime:',
    '  default: auto',
    '  tags:',
    '    rhel: podman',
    '    ubuntu: docker',
    'servers:',
    '  web:',
    '    hosts:',
    '      - 10.0.0.1: rhel',
    '      - 10.0.0.2: [eu, ubuntu]',
    '      - 10.0.0.3: eu',
    '    runtime: docker',
    '  jobs:',
    '    hosts:',
    '      - 10.0.0.4',
    '      - 10.0.0.5: [rhel, eu]',
    '    runtime: podman',
    'accessories:',
    '  db:',
    '    image: postgres:16',
    '    host: 10.0.0.9',
  ]);
  assert.equal(config.runtime, 'auto');
  assert.deepEqual(config.hostRuntimes, {
    '10.0.0.1': 'podman', // tag rhel over role web's docker
    '10.0.0.2': 'docker', // tag ubuntu (eu asks nothing)
    '10.0.0.3': 'docker', // role web
    '10.0.0.4': 'podman', // role jobs
    '10.0.0.5': 'podman', // tag rhel
    '10.0.0.9': 'auto', // accessory only: the default
  });
  for (const [host, wish] of Object.entries(config.hostRuntimes)) assert.equal(runtimeWishOf(config, host), wish);
  assert.equal(runtimeWishOf(config, '192.0.2.77'), 'auto', 'a host the config does not have: the top level');
});

test('the map form without default keeps Docker; the string form of a tag is read too', async (t) => {
  const config = await load(t, [...HEAD, 'runtime:', '  tags: { rhel: podman }', 'servers:', '  - 10.0.0.1: rhel', '  - 10.0.0.2']);
  assert.equal(config.runtime, 'docker');
  assert.deepEqual(config.hostRuntimes, { '10.0.0.1': 'podman', '10.0.0.2': 'docker' });
});

test('a tag decides a host whose roles disagree (tag over role), and two tags that agree are fine', async (t) => {
  const config = await load(t, [
    ...HEAD,
    'runtime: { tags: { rhel: podman, fedora: podman } }',
    'servers:',
    '  web:',
    '    hosts: [{ 10.0.0.1: [rhel, fedora] }]',
    '    runtime: docker',
    '  jobs:',
    '    hosts: [10.0.0.1]',
    '    runtime: auto',
  ]);
  assert.deepEqual(config.hostRuntimes, { '10.0.0.1': 'podman' });
});

test('a destination file may change the runtime', async (t) => {
  const base = [...HEAD, 'servers: [10.0.0.1]', 'runtime: docker'];
  const config = await load(t, base, { rhel: ['runtime: podman'] }, 'rhel');
  assert.deepEqual([config.runtime, config.hostRuntimes], ['podman', { '10.0.0.1': 'podman' }]);
});

test('hosts and tags named like Object members are plain names', async (t) => {
  const config = await load(t, [...HEAD, 'runtime: { default: auto, tags: { toString: podman } }', 'servers:', '  web:', '    - constructor: [toString, __proto__]', '    - hasownproperty', '  jobs:', '    - valueof: toString', '    - constructor']);
  assert.deepEqual(Object.entries(config.hostRuntimes), [['constructor', 'podman'], ['hasownproperty', 'auto'], ['valueof', 'podman']]);
  assert.equal(runtimeWishOf(config, 'constructor'), 'podman');
  assert.equal(runtimeWishOf(config, 'valueOf'), 'auto', 'a host the config does not have');
});

test('the runtime settings are frozen with the rest of the config', async (t) => {
  const config = await load(t, [...HEAD, 'servers: [10.0.0.1]', 'runtime: podman']);
  assert.ok(Object.isFrozen(config.hostRuntimes));
  assert.throws(() => {
    (config.hostRuntimes as Record<string, string>)['10.0.0.1'] = 'docker';
  }, TypeError);
});

test('mrsk config shows the runtime and each host\'s, host names as written', async (t) => {
  const config = await load(t, [...HEAD, 'servers:', '  web:', '    hosts: [App1.example.com]', '    runtime: podman', 'runtime: auto']);
  const shown = presentConfig(config);
  assert.equal(shown.runtime, 'auto');
  assert.deepEqual(shown.host_runtimes, { 'App1.example.com': 'podman' });
  const keys = Object.keys(shown);
  assert.deepEqual(keys.slice(keys.indexOf('hosts'), keys.indexOf('hosts') + 3), ['hosts', 'runtime', 'host_runtimes']);
});

test('two roles that ask different runtimes of a host: an error at the second role naming both, hosts listed once per pair', async (t) => {
  const lines = await errorLines(t, [
    ...HEAD,
    'servers:',
    '  web:',
    '    hosts: [10.0.0.1, 10.0.0.2, 10.0.0.3]',
    '    runtime: docker',
    '  jobs:',
    '    hosts: [10.0.0.1, 10.0.0.2]',
    '    runtime: podman',
    '  cron:',
    '    hosts: [10.0.0.3]',
    '    runtime: auto',
    '  mail:',
    '    hosts: [10.0.0.1]',
    '    runtime: docker',
  ]);
  assert.deepEqual(lines, [
    'config/deploy.yml:9:14 servers.jobs.runtime: hosts 10.0.0.1, 10.0.0.2 are in roles web and jobs, which ask different runtimes (servers.web.runtime: docker, servers.jobs.runtime: podman); a host runs one runtime: give both roles the same runtime, or tag the host and set its runtime in runtime.tags',
    'config/deploy.yml:12:14 servers.cron.runtime: host 10.0.0.3 is in roles web and cron, which ask different runtimes (servers.web.runtime: docker, servers.cron.runtime: auto); a host runs one runtime: give both roles the same runtime, or tag the host and set its runtime in runtime.tags',
  ]);
});

test('a role runtime that differs from the top level is no conflict, nor is a role the host is not in', async (t) => {
  const config = await load(t, [...HEAD, 'runtime: podman', 'servers:', '  web:', '    hosts: [10.0.0.1]', '    runtime: docker', '  jobs:', '    hosts: [10.0.0.2]', '    runtime: auto']);
  assert.deepEqual(config.hostRuntimes, { '10.0.0.1': 'docker', '10.0.0.2': 'auto' });
});

test('a host with two tags that ask different runtimes: an error at the host entry naming both tags', async (t) => {
  const lines = await errorLines(t, [
    ...HEAD,
    'runtime:',
    '  tags:',
    '    rhel: podman',
    '    ubuntu: docker',
    'servers:',
    '  web:',
    '    - 10.0.0.1: [rhel, ubuntu]',
    '  jobs:',
    '    hosts:',
    '      - 10.0.0.2: rhel',
    '  cron:',
    '    hosts:',
    '      - 10.0.0.2: ubuntu',
  ]);
  assert.deepEqual(lines, [
    'config/deploy.yml:9:7 servers.web[0]: host 10.0.0.1 carries tags "rhel" and "ubuntu", which ask different runtimes (runtime.tags.rhel: podman, runtime.tags.ubuntu: docker); a host runs one runtime: drop one of the tags from the host, or give both tags the same runtime',
    'config/deploy.yml:15:9 servers.cron.hosts[0]: host 10.0.0.2 carries tags "rhel" and "ubuntu", which ask different runtimes (runtime.tags.rhel: podman, runtime.tags.ubuntu: docker); a host runs one runtime: drop one of the tags from the host, or give both tags the same runtime',
  ]);
});

test('a host of the list form with conflicting tags is pointed at in servers', async (t) => {
  const lines = await errorLines(t, [...HEAD, 'runtime: { tags: { a: podman, b: auto } }', 'servers:', '  - 10.0.0.1', '  - 10.0.0.2: [a, b]']);
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /^config\/deploy\.yml:6:5 servers\[1\]: host 10\.0\.0\.2 carries tags "a" and "b", which ask different runtimes \(runtime\.tags\.a: podman, runtime\.tags\.b: auto\)/);
});

test('a tag in runtime.tags that no host carries is an error at the tag', async (t) => {
  const lines = await errorLines(t, [...HEAD, 'runtime:', '  tags:', '    rhel: podman', '    centos: podman', 'servers:', '  - 10.0.0.1: rhel']);
  assert.deepEqual(lines, [
    'config/deploy.yml:6:5 runtime.tags.centos: no host of any role carries tag "centos", so this runtime would apply to no host (tag hosts in servers: - 10.0.0.1: centos)',
  ]);
});

test('an unknown value is refused where it is written, listing the allowed values and the nearest one', async (t) => {
  const cases: [readonly string[], string][] = [
    [['runtime: podmn', 'servers: [10.0.0.1]'], 'config/deploy.yml:3:10 runtime: must be one of: docker, podman, auto; did you mean "podman"?'],
    [['runtime: Docker', 'servers: [10.0.0.1]'], 'config/deploy.yml:3:10 runtime: must be one of: docker, podman, auto; did you mean "docker"?'],
    [['runtime: containerd', 'servers: [10.0.0.1]'], 'config/deploy.yml:3:10 runtime: must be one of: docker, podman, auto'],
    [['runtime: 3', 'servers: [10.0.0.1]'], 'config/deploy.yml:3:10 runtime: must be one of: docker, podman, auto'],
    [['runtime: { default: atuo }', 'servers: [10.0.0.1]'], 'config/deploy.yml:3:21 runtime.default: must be one of: docker, podman, auto; did you mean "auto"?'],
    [['runtime: { tags: { rhel: podmen } }', 'servers: [10.0.0.1: rhel]'], 'config/deploy.yml:3:26 runtime.tags.rhel: must be one of: docker, podman, auto; did you mean "podman"?'],
    [['servers:', '  web:', '    hosts: [10.0.0.1]', '    runtime: dockr'], 'config/deploy.yml:6:14 servers.web.runtime: must be one of: docker, podman, auto; did you mean "docker"?'],
    [['runtime: { engine: podman }', 'servers: [10.0.0.1]'], 'config/deploy.yml:3:12 runtime.engine: unknown key, allowed keys: default, tags'],
    [['runtime: { defualt: podman }', 'servers: [10.0.0.1]'], 'config/deploy.yml:3:12 runtime.defualt: unknown key, did you mean "default"?'],
    [['runtime: {}', 'servers: [10.0.0.1]'], 'config/deploy.yml:3:10 runtime: must not be empty'],
    [['runtime: { tags: {} }', 'servers: [10.0.0.1]'], 'config/deploy.yml:3:18 runtime.tags: must not be empty'],
  ];
  for (const [body, expected] of cases) assert.deepEqual(await errorLines(t, [...HEAD, ...body]), [expected], body.join(' / '));
});

test('a misspelt role runtime key gets the nearest key', async (t) => {
  const lines = await errorLines(t, [...HEAD, 'servers:', '  web: { hosts: [10.0.0.1], runtim: podman }']);
  assert.deepEqual(lines, ['config/deploy.yml:4:29 servers.web.runtim: unknown key, did you mean "runtime"?']);
});
