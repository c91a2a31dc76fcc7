// accessories config keys (src/config/accessories.ts) as a real project on disk: placements,
// ports, files (both forms, hashed, mode and owner), directories, registry, service, network.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { loadConfig } from '../../../src/config/load.ts';
import { publishArgument, publishedHostPort } from '../../../src/config/accessories.ts';

test('every accessory key with its Kamal meaning', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'mrsk-acc-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'config'));
  writeFileSync(join(root, 'config', 'redis.conf'), 'appendonly yes\n');
  writeFileSync(
    join(root, 'config', 'deploy.yml'),
    [
      'service: shop',
      'image: acme/shop',
      'servers:',
      '  web:',
      '    hosts:',
      '      - 10.0.0.1: [cache]',
      '      - 10.0.0.2',
      'accessories:',
      '  redis:',
      '    image: redis:7',
      '    tag: cache',
      '    port: 6379',
      '    files:',
      '      - config/redis.conf:/usr/local/etc/redis/redis.conf',
      '      - { local: config/redis.conf, remote: /etc/r.conf, mode: "640", owner: "999:999" }',
      '    directories:',
      '      - data:/data',
      '      - { remote: /logs }',
      '  db:',
      '    image: acme/pg:16',
      '    role: web',
      '    service: shop-postgres',
      '    network: backend',
      '    registry:',
      '      server: registry.example.com',
      '      username: bot',
      '',
    ].join('\n'),
  );
  const config = await loadConfig({ file: 'config/deploy.yml', cwd: root, env: {} });
  const [redis, db] = config.accessories;
  assert.deepEqual(redis!.hosts, ['10.0.0.1']);
  assert.equal(redis!.port, '6379');
  const hash = `sha256:${createHash('sha256').update('appendonly yes\n').digest('hex')}`;
  assert.deepEqual(redis!.files, [
    { local: 'config/redis.conf', localPath: join(root, 'config/redis.conf'), remote: '/usr/local/etc/redis/redis.conf', mode: '0644', hash },
    { local: 'config/redis.conf', localPath: join(root, 'config/redis.conf'), remote: '/etc/r.conf', mode: '0640', owner: '999:999', hash },
  ]);
  assert.deepEqual(redis!.directories, [{ local: 'data', remote: '/data' }, { remote: '/logs' }]);
  assert.deepEqual(db!.hosts, ['10.0.0.1', '10.0.0.2']);
  assert.equal(db!.image, 'registry.example.com/acme/pg:16');
  assert.deepEqual(db!.registry, { server: 'registry.example.com', username: 'bot' });
  assert.equal(db!.service, 'shop-postgres');
  assert.equal(db!.network, 'backend');
});

test('port forms: the host side, and docker -p of a bare port', () => {
  assert.equal(publishedHostPort('6379'), 6379);
  assert.equal(publishedHostPort('16379:6379'), 16379);
  assert.equal(publishedHostPort('127.0.0.1:6379:6379/tcp'), 6379);
  assert.equal(publishArgument('6379'), '6379:6379');
  assert.equal(publishArgument('53/udp'), '53:53/udp');
  assert.equal(publishArgument('127.0.0.1:6379:6379'), '127.0.0.1:6379:6379');
});
