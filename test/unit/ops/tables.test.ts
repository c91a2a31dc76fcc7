// Tables and docker ps / image ls parsing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTable } from '../../../src/views/table.ts';
import { isAppContainer, parseImageLines, parseLabelString, parsePsLines } from '../../../src/ops/docker-ps.ts';
import { formatImageTable, formatPsTable } from '../../../src/views/containers.ts';

test('formatTable pads columns and trims trailing blanks', () => {
  assert.equal(formatTable(['A', 'LONG HEADER', 'C'], [['xyz', 'b', ''], ['x', 'bbbbbbbbbbbbbb', 'end']]), 'A    LONG HEADER     C\nxyz  b\nx    bbbbbbbbbbbbbb  end\n');
});

test('parseLabelString keeps commas inside values', () => {
  assert.deepEqual(parseLabelString('mrsk.role=web,traefik.http.routers.x.rule=Host(`a`,`b`),mrsk.service=demo'), {
    'mrsk.role': 'web',
    'traefik.http.routers.x.rule': 'Host(`a`,`b`)',
    'mrsk.service': 'demo',
  });
  assert.deepEqual(parseLabelString(''), {});
});

// Captured from `docker ps --no-trunc --format '{{json .}}'` (docker 26) on the test bed, shortened.
const PS = [
  '{"Command":"\\"/start.sh\\"","CreatedAt":"2026-11-26 04:10:01 +0000 UTC","ID":"5f1c0e8a9b7d6c5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e","Image":"10.231.7.1:5000/demo-app:v2","Labels":"mrsk.role=web,mrsk.service=demo,mrsk.version=v2","LocalVolumes":"0","Mounts":"","Names":"demo-web-v2","Networks":"mrsk","Ports":"","RunningFor":"2 minutes ago","Size":"0B","State":"running","Status":"Up 2 minutes (healthy)"}',
  '',
  '{"Command":"\\"/start.sh\\"","CreatedAt":"2026-11-26 04:10:01 +0000 UTC","ID":"aaaa","Image":"10.231.7.1:5000/demo-app:v2","Labels":"mrsk.role=web,mrsk.service=demo,mrsk.destination=staging,mrsk.version=v2","Names":"demo-web-staging-v2","Ports":"","RunningFor":"2 minutes ago","State":"running","Status":"Up 2 minutes"}',
].join('\n');

test('parsePsLines reads docker ps JSON lines and their labels', () => {
  const entries = parsePsLines(PS);
  assert.equal(entries.length, 2);
  assert.equal(entries[0]!.names, 'demo-web-v2');
  assert.equal(entries[0]!.status, 'Up 2 minutes (healthy)');
  assert.equal(entries[0]!.labels['mrsk.version'], 'v2');
});

test('isAppContainer keeps only this service, destination and the selected roles', () => {
  const [plain, staging] = parsePsLines(PS);
  assert.equal(isAppContainer(plain!.labels, 'demo', undefined, ['web']), true);
  assert.equal(isAppContainer(staging!.labels, 'demo', undefined, ['web']), false, 'another destination is not ours');
  assert.equal(isAppContainer(staging!.labels, 'demo', 'staging', ['web']), true);
  assert.equal(isAppContainer(plain!.labels, 'demo', undefined, ['job']), false, 'role not selected');
  assert.equal(isAppContainer(plain!.labels, 'other', undefined, ['web']), false);
});

test('formatPsTable shows docker ps columns with short ids', () => {
  const [plain] = parsePsLines(PS);
  assert.equal(
    formatPsTable([plain!]),
    'CONTAINER ID  IMAGE                        STATUS                  PORTS  NAMES\n' +
      '5f1c0e8a9b7d  10.231.7.1:5000/demo-app:v2  Up 2 minutes (healthy)         demo-web-v2\n',
  );
  assert.equal(formatPsTable([]), 'no containers\n');
});

test('image lines become a table', () => {
  const images = parseImageLines('{"Containers":"N/A","CreatedAt":"2026-11-26 04:00:00 +0000 UTC","CreatedSince":"10 minutes ago","Digest":"<none>","ID":"sha256:0123456789abcdef0123","Repository":"10.231.7.1:5000/demo-app","SharedSize":"N/A","Size":"4.3MB","Tag":"v1","UniqueSize":"N/A","VirtualSize":"4.3MB"}\n');
  assert.equal(formatImageTable(images), 'REPOSITORY                TAG  IMAGE ID      CREATED         SIZE\n10.231.7.1:5000/demo-app  v1   0123456789ab  10 minutes ago  4.3MB\n');
});

// ---- fitting 80 columns ----------------------------------------------------------------------

import { compactPorts, formatContainerTable } from '../../../src/views/containers.ts';
import type { ContainerRow } from '../../../src/ops/containers.ts';

const COMMIT = '3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f90a1b2c3';
const OLD = '0d1e2f3a4b5c6d7e8f901a2b3c4d5e6f7a8b9c0d';
const widest = (table: string) => Math.max(...table.split('\n').map((line) => [...line].length));

test('formatTable with a width: empty columns go, then the steps run in order until it fits (cut with …, drop)', () => {
  const header = ['ID', 'IMAGE', 'EMPTY', 'NAME'];
  const rows = [['0123456789ab', 'registry.example.com/acme/app:v2', '', 'app-web-v2']];
  const steps = [{ cut: 1, to: 24, keep: 'end' as const }, { drop: 0 }, { cut: 1, to: 12, keep: 'end' as const }];
  assert.equal(formatTable(header, rows, { width: 200, steps }), formatTable(header, rows), 'a table that fits is unchanged');
  assert.equal(formatTable(header, rows, { width: 60, steps }), 'ID            IMAGE                             NAME\n0123456789ab  registry.example.com/acme/app:v2  app-web-v2\n', 'the empty column went; that was enough');
  assert.equal(formatTable(header, rows, { width: 50, steps }), 'ID            IMAGE                     NAME\n0123456789ab  …example.com/acme/app:v2  app-web-v2\n', 'cut only as deep as needed');
  assert.equal(formatTable(header, rows, { width: 36, steps }), 'IMAGE                     NAME\n…example.com/acme/app:v2  app-web-v2\n', 'after the drop, earlier cuts start again from whole cells');
  assert.equal(formatTable(header, rows, { width: 10, steps }), 'IMAGE         NAME\n…acme/app:v2  app-web-v2\n', 'cannot fit: every step taken, nothing else lost');
  assert.equal(formatTable(['A', 'B'], [['abcdef', 'x']], { width: 6, steps: [{ cut: 0, to: 3 }] }), 'A    B\nabc…  x\n'.replace('abc…', 'ab…'), 'keep: start (the default) cuts the end');
});

test('compactPorts drops the IPv4/IPv6 repeats docker prints and keeps single-address ports', () => {
  assert.equal(compactPorts('0.0.0.0:80->80/tcp, [::]:80->80/tcp, 0.0.0.0:443->443/tcp, :::443->443/tcp, 127.0.0.1:8080->8080/tcp'), '80->80/tcp, 443->443/tcp, 127.0.0.1:8080->8080/tcp');
  assert.equal(compactPorts(''), '');
});

// What `mrsk details` printed on the bed for a real deploy (commit-hash versions): ~250 columns before.
const APP_PS = JSON.stringify({
  ID: '5f1c0e8a9b7d6c5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e',
  Image: `10.231.44.1:5000/storefront:${COMMIT}`,
  Labels: `mrsk.role=web,mrsk.service=storefront,mrsk.version=${COMMIT}`,
  Names: `storefront-web-${COMMIT}`,
  Ports: '',
  State: 'running',
  Status: 'Up 2 minutes (healthy)',
});
const TRAEFIK_PS = JSON.stringify({
  ID: 'aaaabbbbccccdddd',
  Image: 'traefik:v3.6',
  Labels: 'mrsk.traefik=true',
  Names: 'traefik',
  Ports: '0.0.0.0:80->80/tcp, [::]:80->80/tcp, 0.0.0.0:443->443/tcp, [::]:443->443/tcp, 127.0.0.1:8080->8080/tcp',
  State: 'running',
  Status: 'Up 3 hours',
});

test('details tables fit 80 columns with commit-hash versions; the parsed entries (--json) keep them whole', () => {
  const [app] = parsePsLines(APP_PS);
  const table = formatPsTable([app!], 80);
  assert.ok(widest(table) <= 80, table);
  assert.equal(
    table,
    'IMAGE                        STATUS                  NAMES\n' +
      '…00/storefront:3c4d5e6f7a8b  Up 2 minutes (healthy)  storefront-web-3c4d5e6f7a8b\n',
  );
  assert.equal(app!.names, `storefront-web-${COMMIT}`, 'the data keeps the full name');
  assert.equal(app!.image, `10.231.44.1:5000/storefront:${COMMIT}`);
  assert.match(formatPsTable([app!], 120), /^CONTAINER ID {2}IMAGE .*\n5f1c0e8a9b7d {2}10\.231\.44\.1:5000\/storefront:3c4d5e6f7a8b /, 'a wider terminal shows all');
  const traefik = formatPsTable(parsePsLines(TRAEFIK_PS), 80);
  assert.equal(
    traefik,
    'IMAGE         STATUS      PORTS                                          NAMES\n' +
      'traefik:v3.6  Up 3 hours  80->80/tcp, 443->443/tcp, 127.0.0.1:8080->80…  traefik\n',
  );
});

test('the image table shows the tag 12 characters long and fits 80 columns', () => {
  const images = parseImageLines(JSON.stringify({ ID: 'sha256:0123456789abcdef0123', Repository: 'registry.example.com/acme/storefront', Tag: COMMIT, CreatedSince: '10 minutes ago', Size: '4.3MB' }));
  const table = formatImageTable(images, 80);
  assert.ok(widest(table) <= 80, table);
  assert.equal(table, 'REPOSITORY                     TAG           IMAGE ID      CREATED         SIZE\n….example.com/acme/storefront  3c4d5e6f7a8b  0123456789ab  10 minutes ago  4.3MB\n');
});

test('app containers: short versions; at 80 columns the name goes (role and version say it), then the id', () => {
  const row = (version: string, mark: ContainerRow['mark'], status: string): ContainerRow => ({
    id: `${version.slice(0, 6)}000000000000`,
    name: `storefront-web-production-${version}`,
    role: 'web',
    version,
    status,
    createdAt: '2026-11-26T04:10:01.123Z',
    mark,
  });
  const rows = [row(COMMIT, 'current', 'running (healthy)'), row(OLD, 'rollback target', 'exited (143)')];
  const wide = formatContainerTable(rows);
  assert.ok(wide.includes('storefront-web-production-3c4d5e6f7a8b') && !wide.includes(COMMIT));
  const fitted = formatContainerTable(rows, 80);
  assert.equal(
    fitted,
    'ROLE  VERSION       STATUS             CREATED\n' +
      'web   3c4d5e6f7a8b  running (healthy)  2026-11-26T04:10:01Z  current\n' +
      'web   0d1e2f3a4b5c  exited (143)       2026-11-26T04:10:01Z  rollback target\n',
  );
  assert.equal(
    formatContainerTable(rows, 100),
    'CONTAINER ID  ROLE  VERSION       STATUS             CREATED\n' +
      '3c4d5e000000  web   3c4d5e6f7a8b  running (healthy)  2026-11-26T04:10:01Z  current\n' +
      '0d1e2f000000  web   0d1e2f3a4b5c  exited (143)       2026-11-26T04:10:01Z  rollback target\n',
    'with room for the id, the id comes back; a droppable column is dropped whole, never cut',
  );
});
