// Tables and docker ps / image ls parsing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTable } from '../../../src/ops/table.ts';
import { formatImageTable, formatPsTable, isAppContainer, parseImageLines, parseLabelString, parsePsLines } from '../../../src/ops/docker-ps.ts';

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
