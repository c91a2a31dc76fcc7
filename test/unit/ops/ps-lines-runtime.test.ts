// ps and image ls lines from both runtimes: Podman's real output (fixtures/probe/podman-*.txt,
// printed with PS_ENTRY_FORMAT / IMAGE_ENTRY_FORMAT) and Docker's, whose labels are one string.
// Also the never-healthy listing of `mrsk releases` with each runtime's label template.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { neverHealthyFormat, parseNeverHealthy } from '../../../src/drift/ledger.ts';
import { parseImageLines, parsePsLines, psState } from '../../../src/ops/docker-ps.ts';

const fixture = (name: string): string => readFileSync(new URL(`../../../fixtures/probe/${name}`, import.meta.url), 'utf8');

// one line as Docker prints PS_ENTRY_FORMAT: the same keys as its {{json .}}, labels as `k=v,…`
const DOCKER_LINE =
  '{"ID":"5f1c0e8a9b7d6c5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e","Image":"10.231.7.1:5000/demo-app:v2","Command":"\\"/start.sh\\"",' +
  '"CreatedAt":"2026-11-26 04:10:01 +0000 UTC","RunningFor":"2 minutes ago","Status":"Up 2 minutes (healthy)","State":"running","Ports":"",' +
  '"Names":"demo-web-v2","Labels":"mrsk.role=web,mrsk.service=demo,traefik.http.routers.demo.rule=Host(`a`,`b`),mrsk.version=v2"}';

describe('parsePsLines', () => {
  it("reads Podman's lines: Labels is a map, taken as it is", () => {
    const entries = parsePsLines(fixture('podman-ps.txt'));
    assert.deepEqual(entries.map((e) => e.names), ['app-web-v1', 'app-web-v2', 'app-web-v3', 'app-job-v2', 'app-job-v3']);
    const web = entries[1]!;
    assert.match(web.id, /^[0-9a-f]{64}$/);
    assert.equal(web.image, 'localhost/acme/app:v2');
    assert.equal(web.command, 'httpd -f -p 3000 -h /www');
    assert.deepEqual(web.labels, {
      'mrsk.destination': '',
      'mrsk.role': 'web',
      'mrsk.service': 'app',
      'mrsk.spec-hash': `v1:v2${'0'.repeat(62)}`,
      'mrsk.version': 'v2',
      'traefik.enable': 'true',
    });
    assert.match(web.status, /^Up .* \(healthy\)$/);
    // Podman prints its status text as State ("Up 4 seconds ago"): the entry has Docker's word
    assert.deepEqual(entries.map((e) => e.state), ['exited', 'running', 'running', 'running', 'created']);
    assert.match(entries[0]!.status, /^Exited \(137\) /);
    assert.equal(web.ports, '');
    assert.ok(!Number.isNaN(Date.parse(web.createdAt.replace(' +0000 UTC', 'Z').replace(' ', 'T'))), web.createdAt);
    assert.ok(web.runningFor.endsWith('ago'));
  });

  it("reads Docker's lines: the label string is split, a comma inside a value kept", () => {
    const [entry] = parsePsLines(`${DOCKER_LINE}\n\n`);
    assert.deepEqual(entry, {
      id: '5f1c0e8a9b7d6c5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e',
      image: '10.231.7.1:5000/demo-app:v2',
      command: '"/start.sh"',
      createdAt: '2026-11-26 04:10:01 +0000 UTC',
      runningFor: '2 minutes ago',
      status: 'Up 2 minutes (healthy)',
      state: 'running',
      ports: '',
      names: 'demo-web-v2',
      labels: { 'mrsk.role': 'web', 'mrsk.service': 'demo', 'traefik.http.routers.demo.rule': 'Host(`a`,`b`)', 'mrsk.version': 'v2' },
    });
  });

  it('the same labels read the same from either runtime; no labels at all is none', () => {
    const labels = { 'mrsk.service': 'app', 'mrsk.version': 'v2' };
    const docker = parsePsLines(JSON.stringify({ ID: 'x', Labels: 'mrsk.service=app,mrsk.version=v2' }));
    const podman = parsePsLines(JSON.stringify({ ID: 'x', Labels: labels }));
    assert.deepEqual(podman, docker);
    assert.deepEqual(docker[0]!.labels, labels);
    for (const empty of ['""', 'null', '{}']) assert.deepEqual(parsePsLines(`{"ID":"x","Labels":${empty}}`)[0]!.labels, {}, empty);
    assert.deepEqual(parsePsLines('{"ID":"x"}')[0]!.labels, {});
  });

  it('a Podman map is copied: changing the entry does not reach back', () => {
    const [entry] = parsePsLines('{"ID":"x","Labels":{"a":"1"}}');
    (entry!.labels as Record<string, string>)['b'] = '2';
    assert.deepEqual(parsePsLines('{"ID":"x","Labels":{"a":"1"}}')[0]!.labels, { a: '1' });
  });
});

describe('psState', () => {
  it("Docker's words pass as they are", () => {
    for (const word of ['running', 'exited', 'created', 'paused', 'restarting', 'removing', 'dead']) assert.equal(psState(word), word);
  });

  it("Podman's status texts become Docker's words", () => {
    const cases: [string, string][] = [
      ['Up 4 seconds ago', 'running'],
      ['Up 2 minutes ago (healthy)', 'running'],
      ['Up 3 hours ago (Paused)', 'paused'],
      ['Exited (137) 5 seconds ago', 'exited'],
      ['Exited (0) About a minute ago', 'exited'],
      ['Stopped', 'exited'],
      ['Created', 'created'],
      ['Paused', 'paused'],
      ['Restarting (1) 2 seconds ago', 'restarting'],
      ['Removing', 'removing'],
      ['Dead', 'dead'],
    ];
    for (const [text, word] of cases) assert.equal(psState(text), word, text);
  });

  it('empty stays empty; text without a leading word is kept', () => {
    assert.equal(psState(''), '');
    assert.equal(psState('42 things'), '42 things');
  });
});

describe('parseImageLines', () => {
  it("reads Podman's image lines (ids with sha256:, unlike its inspect)", () => {
    const images = parseImageLines(fixture('podman-image-ls.txt'));
    assert.deepEqual(images.map((i) => `${i.repository}:${i.tag}`), ['localhost/acme/app:v1', 'localhost/acme/app:v2', 'localhost/acme/app:v3']);
    for (const image of images) {
      assert.match(image.id, /^sha256:[0-9a-f]{64}$/);
      assert.match(image.size, /^\d+(\.\d+)? [kMG]?B$/);
      assert.ok(image.createdSince.endsWith('ago'));
    }
  });
});

describe('never-healthy containers per runtime', () => {
  it('the template: Docker reads labels with .Label, Podman indexes its map; name, version, destination by tabs', () => {
    assert.equal(neverHealthyFormat('docker'), '{{.Names}}\t{{.Label "mrsk.version"}}\t{{.Label "mrsk.destination"}}');
    assert.equal(neverHealthyFormat('podman'), '{{.Names}}\t{{index .Labels "mrsk.version"}}\t{{index .Labels "mrsk.destination"}}');
  });

  it("parses real Podman output of its template: only the set-aside container, with its version", () => {
    const output = fixture('podman-never-healthy-ps.txt');
    assert.equal(output.trim().split('\n').length, 5);
    const [found] = parseNeverHealthy(output);
    assert.match(found!.container, /^app-web-v3_unhealthy_[0-9a-f]{12}$/);
    assert.deepEqual(parseNeverHealthy(output), [{ version: 'v3', container: found!.container }]);
    assert.deepEqual(parseNeverHealthy(output, 'staging'), [], 'another destination sees none');
  });
});
