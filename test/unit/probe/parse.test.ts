// The parser on probe output captured from a real dockerd (fixtures/probe/README.md says how).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseProbeOutput, splitSections } from '../../../src/probe/parse.ts';
import { UNKNOWN_TRAEFIK_FILE_HASH, type HostSnapshot, type ReachableHost, type UnreachableHost } from '../../../src/probe/types.ts';

const fixture = (name: string): string => readFileSync(new URL(`../../../fixtures/probe/${name}`, import.meta.url), 'utf8');

function reachable(snapshot: HostSnapshot): ReachableHost {
  assert.equal(snapshot.status, 'ok', 'message' in snapshot ? snapshot.message : '');
  return snapshot as ReachableHost;
}
function unreachable(snapshot: HostSnapshot): UnreachableHost {
  assert.notEqual(snapshot.status, 'ok');
  return snapshot as UnreachableHost;
}
const byName = (host: ReachableHost, name: string) => {
  const container = host.containers.find((c) => c.name === name);
  assert.ok(container, `${name} not among ${host.containers.map((c) => c.name).join(', ')}`);
  return container;
};

const DOCKER_VERSION = '20.10.24+dfsg1';
const REPO = '10.231.9.1:5009/acme/app';

describe('parseProbeOutput on captured real output', () => {
  it('fresh host: docker answers, nothing of ours, only the default networks', () => {
    const host = reachable(parseProbeOutput('h1', fixture('fresh-host.txt'), 'app'));
    assert.equal(host.host, 'h1');
    assert.equal(host.dockerVersion, DOCKER_VERSION);
    assert.equal(host.home, '/root');
    assert.deepEqual(host.containers, []);
    assert.deepEqual(host.images, []);
    assert.deepEqual(host.networks, ['bridge', 'host', 'none']);
    assert.equal(host.lock, undefined);
    assert.equal(host.release, undefined);
    assert.equal(host.traefik, undefined);
  });

  it('deployed host: running healthy web, retained stopped web, job without healthcheck, images, release', () => {
    const host = reachable(parseProbeOutput('h1', fixture('deployed-host.txt'), 'app'));
    assert.deepEqual(host.containers.map((c) => c.name), ['app-job-v2', 'app-web-v1', 'app-web-v2']);

    const web = byName(host, 'app-web-v2');
    assert.match(web.id, /^[0-9a-f]{64}$/);
    assert.equal(web.image, `${REPO}:v2`);
    assert.equal(web.imageId, 'sha256:b4d90a813cbbdf27b3c85b3ef52c384c835aea3f78e84576a698b44b074d7f99');
    assert.equal(web.state, 'running');
    assert.equal(web.health, 'healthy');
    assert.equal(web.exitCode, 0);
    assert.equal(web.ip, '172.18.0.2');
    assert.equal(web.restartCount, 0);
    assert.equal(web.labels['mrsk.version'], 'v2');
    assert.equal(web.labels['traefik.http.routers.app-web.rule'], 'PathPrefix(`/`)');
    assert.ok(web.startedAt && !Number.isNaN(Date.parse(web.startedAt)));
    assert.equal(web.finishedAt, undefined, "docker's zero time means never finished");
    assert.ok(Date.parse(web.createdAt) < Date.parse(web.startedAt!));

    const old = byName(host, 'app-web-v1');
    assert.equal(old.state, 'exited');
    assert.equal(old.exitCode, 0);
    assert.equal(old.ip, undefined, 'a stopped container has no address');
    assert.ok(old.finishedAt && Date.parse(old.finishedAt) >= Date.parse(old.startedAt!));

    const job = byName(host, 'app-job-v2');
    assert.equal(job.state, 'running');
    assert.equal(job.health, undefined, 'no healthcheck, no health');
    assert.equal(job.labels['mrsk.role'], 'job');

    assert.deepEqual(host.images.map((i) => i.tags), [[`${REPO}:v1`], [`${REPO}:v2`], [`${REPO}:v3`]]);
    assert.equal(host.images[1]!.id, web.imageId);
    assert.deepEqual(host.images[1]!.labels, { service: 'app' });
    assert.deepEqual(host.networks, ['bridge', 'host', 'mrsk', 'none']);
    assert.equal(host.release?.version, 'v2');
    assert.equal(host.release?.specHashes['web'], web.labels['mrsk.spec-hash']);
    assert.equal(host.lock, undefined);
  });

  it('reads the output of the Debian docker 20.10 client (other key order, full health log) to the same snapshot', () => {
    const recent = parseProbeOutput('h1', fixture('deployed-host.txt'), 'app');
    const old = parseProbeOutput('h1', fixture('deployed-host-docker-cli-20.10.txt'), 'app');
    assert.deepEqual(old, recent);
  });

  it('troubled host: unhealthy new version, killed and crash-looping jobs, a held lock; other destinations left out', () => {
    const host = reachable(parseProbeOutput('h1', fixture('troubled-host.txt'), 'app'));
    assert.deepEqual(host.containers.map((c) => c.name), ['app-job-v2', 'app-job-v3', 'app-web-v1', 'app-web-v2', 'app-web-v3']);
    const unhealthy = byName(host, 'app-web-v3');
    assert.equal(unhealthy.state, 'running');
    assert.equal(unhealthy.health, 'unhealthy');
    const killed = byName(host, 'app-job-v2');
    assert.equal(killed.state, 'exited');
    assert.equal(killed.exitCode, 137);
    const crashing = byName(host, 'app-job-v3');
    assert.equal(crashing.state, 'restarting');
    assert.equal(crashing.exitCode, 3);
    assert.ok(crashing.restartCount >= 2, `restartCount ${crashing.restartCount}`);
    assert.deepEqual(host.lock, {
      holder: 'alice@laptop',
      command: 'mrsk deploy',
      message: 'hotfix',
      acquiredAt: '2026-11-26T04:10:00.000Z',
      leaseExpiresAt: '2026-11-26T04:25:00.000Z',
      id: 'lock-7f3a',
      pid: 4242,
    });
  });

  it('keeps only the given destination: the staging probe sees its container, a probe without destination does not', () => {
    const staging = reachable(parseProbeOutput('h1', fixture('staging-destination.txt'), 'app', 'staging'));
    assert.deepEqual(staging.containers.map((c) => [c.name, c.labels['mrsk.destination'], c.health]), [['app-web-staging-v2', 'staging', 'healthy']]);
    const noDestination = reachable(parseProbeOutput('h1', fixture('staging-destination.txt'), 'app'));
    assert.deepEqual(noDestination.containers, []);
    const otherService = reachable(parseProbeOutput('h1', fixture('deployed-host.txt'), 'blog'));
    assert.deepEqual(otherService.containers, []);
  });

  it("reads Traefik's live services and routers (real Traefik v3.6), names without @docker", () => {
    const host = reachable(parseProbeOutput('h1', fixture('deployed-with-traefik.txt'), 'app'));
    const traefik = byName(host, 'traefik');
    assert.equal(traefik.state, 'running');
    assert.ok(host.traefik);
    const web = byName(host, 'app-web-v2');
    assert.deepEqual(host.traefik.services['app-web'], { status: 'enabled', serverStatus: { [`http://${web.ip}:3000`]: 'UP' } });
    assert.deepEqual(host.traefik.routers['app-web'], { rule: 'PathPrefix(`/`)', service: 'app-web', status: 'enabled' });
    assert.ok('api@internal' in host.traefik.services, 'other providers keep their suffix');
    assert.ok(!Object.keys(host.traefik.services).some((name) => name.endsWith('@docker')));
  });

  it('Traefik lists only healthy servers: the unhealthy new version is absent from serverStatus', () => {
    const host = reachable(parseProbeOutput('h1', fixture('troubled-with-traefik.txt'), 'app'));
    const healthy = byName(host, 'app-web-v2');
    const unhealthy = byName(host, 'app-web-v3');
    const servers = Object.keys(host.traefik?.services['app-web']?.serverStatus ?? {});
    assert.deepEqual(servers, [`http://${healthy.ip}:3000`]);
    assert.ok(!servers.some((url) => url.includes(`//${unhealthy.ip}:`)));
    assert.ok(host.traefik?.routers['app-web-staging'], 'the shared Traefik also routes the other destination');
  });

  it('a stopped Traefik container is seen, and no API state is claimed', () => {
    const host = reachable(parseProbeOutput('h1', fixture('traefik-stopped.txt'), 'app'));
    assert.equal(byName(host, 'traefik').state, 'exited');
    assert.equal(host.traefik, undefined);
  });
});

describe('parseProbeOutput maps docker problems to host states', () => {
  it('docker missing', () => {
    const host = unreachable(parseProbeOutput('h1', fixture('docker-missing.txt'), 'app'));
    assert.equal(host.status, 'docker-missing');
    assert.match(host.message, /docker is not installed/);
  });

  it('daemon down, with docker\'s own words', () => {
    const host = unreachable(parseProbeOutput('h1', fixture('docker-down.txt'), 'app'));
    assert.equal(host.status, 'docker-down');
    assert.match(host.message, /Is the docker daemon running\?/);
  });

  for (const name of ['permission-denied.txt', 'permission-denied-docker-cli-20.10.txt']) {
    it(`permission denied on the socket (${name}) tells what to do`, () => {
      const host = unreachable(parseProbeOutput('h1', fixture(name), 'app'));
      assert.equal(host.status, 'permission-denied');
      assert.match(host.message, /docker group/);
      assert.match(host.message, /\/var\/run\/docker\.sock/);
    });
  }

  it('an unknown docker failure is an error with its text', () => {
    const out = '\n@@mrsk-probe home@@\n/root\n@@mrsk-probe problem@@\nerror\n@@mrsk-probe problem-detail@@\nerror during connect: boom\n@@mrsk-probe end@@\n';
    const host = unreachable(parseProbeOutput('h1', out, 'app'));
    assert.equal(host.status, 'error');
    assert.match(host.message, /boom/);
  });
});

describe('parseProbeOutput on damaged output never throws', () => {
  const deployed = fixture('deployed-with-traefik.txt');

  it('ignores a login banner before the first section', () => {
    const withBanner = `Welcome to Ubuntu 24.04 LTS\n * Documentation: https://help.ubuntu.com\n${deployed}`;
    assert.deepEqual(parseProbeOutput('h1', withBanner, 'app'), parseProbeOutput('h1', deployed, 'app'));
  });

  it("accepts docker's default JSON array form of inspect output", () => {
    const sections = splitSections(deployed);
    const lines = sections.get('containers')!.split('\n');
    const asArray = deployed.replace(sections.get('containers')!, `[\n${lines.join(',\n')}\n]`);
    assert.deepEqual(parseProbeOutput('h1', asArray, 'app'), parseProbeOutput('h1', deployed, 'app'));
  });

  it('empty output, random text and output cut short make the host unreadable, saying why', () => {
    for (const [stdout, pattern] of [
      ['', /not recognised: \(empty\)/],
      ['sh: 1: Syntax error: "(" unexpected', /not recognised: sh: 1: Syntax error/],
      [deployed.slice(0, deployed.indexOf('@@mrsk-probe networks@@')), /ended early/],
    ] as const) {
      const host = unreachable(parseProbeOutput('h1', stdout, 'app'));
      assert.equal(host.status, 'unreadable');
      assert.match(host.message, pattern);
    }
  });

  it('garbage in the containers section makes the host unreadable, naming docker inspect', () => {
    const broken = deployed.replace('{"Id":', '{"Id" ');
    const host = unreachable(parseProbeOutput('h1', broken, 'app'));
    assert.equal(host.status, 'unreadable');
    assert.match(host.message, /docker inspect \(containers\).*not JSON/);
  });

  it('a docker version that is not a version (a wrapper printing garbage) makes the host unreadable', () => {
    const out = deployed.replace(`@@mrsk-probe version@@\n${DOCKER_VERSION}`, '@@mrsk-probe version@@\n\u001b[2J{"not": "a version"}');
    const host = unreachable(parseProbeOutput('h1', out, 'app'));
    assert.equal(host.status, 'unreadable');
    assert.match(host.message, /docker version.*not a version: \{"not": "a version"\}/);
    assert.doesNotMatch(host.message, /\u001b/);
  });

  it('an unknown container state is an error, not a guess', () => {
    const host = unreachable(parseProbeOutput('h1', deployed.replace('"Status":"running"', '"Status":"hibernating"'), 'app'));
    assert.match(host.message, /unknown state "hibernating"/);
  });

  it('a lock folder without a readable holder still counts as locked, by someone unknown, with the way to clear it', () => {
    const out = deployed.replace('\n@@mrsk-probe end@@', '\n@@mrsk-probe lock@@\n{"holder": tru\u001b[31m\n@@mrsk-probe end@@');
    const host = reachable(parseProbeOutput('h1', out, 'app'));
    assert.equal(host.lock?.holder, 'unknown');
    assert.match(host.lock?.message ?? '', /~\/\.mrsk\/app\/lock\/holder\.json is missing or unreadable/);
    assert.match(host.lock?.message ?? '', /mrsk lock release --force -h h1/);
    assert.deepEqual(host.warnings, [{ kind: 'lock-unreadable', message: host.lock?.message }]);
  });

  it('a corrupt release record is a warning naming the file, and the release is unknown; the host is still planned', () => {
    const out = fixture('deployed-host.txt').replace('{"id":"rel-', '{"id":\u001b]0;pwned\u0007\u001b[31mrel-');
    const host = reachable(parseProbeOutput('h1', out, 'app'));
    assert.equal(host.release, undefined);
    assert.equal(host.warnings?.length, 1);
    const [warning] = host.warnings!;
    assert.equal(warning!.kind, 'release-unreadable');
    // the real path, no doubled slash and no ellipsis in place of the app's folder
    assert.match(warning!.message, /the release record ~\/\.mrsk\/app\/releases\/current\.json cannot be read \(not JSON: \{"id":rel-/);
    assert.match(warning!.message, /counts as unknown/);
    assert.doesNotMatch(warning!.message, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    assert.ok(host.containers.length > 0);
  });

  it('a release record of the wrong shape is a warning too, and so is one for a destination', () => {
    const out = fixture('deployed-host.txt').replace(/@@mrsk-probe release@@\n[^\n]*/, '@@mrsk-probe release@@\n["a list"]');
    const host = reachable(parseProbeOutput('h1', out, 'app', 'staging'));
    assert.equal(host.release, undefined);
    assert.match(host.warnings?.[0]?.message ?? '', /~\/\.mrsk\/app-staging\/releases\/current\.json cannot be read \(expected an object/);
  });

  it('strips terminal control sequences from every text a host sent (names, labels, lock holder, release)', () => {
    const evil = '\\u001b[31m\\u001b]0;title\\u0007\\u009b2J';
    const out = fixture('deployed-host.txt')
      .replace('"Labels":{', `"Labels":{"note":"red${evil}text",`)
      .replace(/@@mrsk-probe release@@\n\{"id":"/, `@@mrsk-probe release@@\n{"id":"${evil}`)
      .replace('\n@@mrsk-probe end@@', `\n@@mrsk-probe lock@@\n{"holder":"eve${evil}@x","command":"deploy"}\n@@mrsk-probe end@@`);
    const host = reachable(parseProbeOutput('h1', out, 'app'));
    const text = JSON.stringify(host);
    assert.doesNotMatch(text, /\\u001b|\\u0007|\\u009b|\u001b|\u0007|\u009b/);
    assert.equal(host.lock?.holder, 'eve@x');
    assert.match(host.release?.id ?? '', /^rel-/);
    assert.ok(host.containers.some((c) => c.labels['note'] === 'redtext'));
  });

  it('an unreadable Traefik answer means no API state, not a failed host', () => {
    const sections = splitSections(deployed);
    const out = deployed.replace(sections.get('traefik-services')!, 'wget: server returned error: HTTP/1.1 404 Not Found');
    const host = reachable(parseProbeOutput('h1', out, 'app'));
    assert.equal(host.traefik, undefined);
    assert.equal(host.containers.length, 4);
  });
});

describe('parseProbeOutput reads the host architecture', () => {
  const withArch = (machine: string) =>
    fixture('fresh-host.txt').replace(`@@mrsk-probe version@@\n${DOCKER_VERSION}`, `@@mrsk-probe version@@\n${DOCKER_VERSION}\n\n@@mrsk-probe arch@@\n${machine}`);

  it('in docker platform words: x86_64 is amd64, aarch64 is arm64', () => {
    assert.equal(reachable(parseProbeOutput('h1', withArch('x86_64'), 'app')).arch, 'amd64');
    assert.equal(reachable(parseProbeOutput('h1', withArch('aarch64'), 'app')).arch, 'arm64');
    assert.equal(reachable(parseProbeOutput('h1', withArch('armv7l'), 'app')).arch, 'arm');
  });

  it('an unknown machine or no arch section leaves it unknown (older probes, odd hosts), not a failure', () => {
    assert.equal(reachable(parseProbeOutput('h1', withArch('\u001b[2Jweird'), 'app')).arch, undefined);
    assert.equal(reachable(parseProbeOutput('h1', fixture('fresh-host.txt'), 'app')).arch, undefined);
  });
});

describe('parseProbeOutput: the other apps on the host', () => {
  const output = (apps: string | undefined) =>
    ['@@mrsk-probe home@@', '/root', '@@mrsk-probe version@@', '27.0.1', ...(apps === undefined ? [] : ['@@mrsk-probe apps@@', apps]), '@@mrsk-probe end@@', ''].join('\n');

  it('lists them sorted and once each', () => {
    assert.deepEqual(reachable(parseProbeOutput('h1', output('blog/prod\nblog\nblog/prod'), 'app')).otherApps, ['blog', 'blog/prod']);
  });

  it('an empty section is "no other app"; no section (older output) leaves it unknown', () => {
    assert.deepEqual(reachable(parseProbeOutput('h1', output(''), 'app')).otherApps, []);
    assert.equal(reachable(parseProbeOutput('h1', output(undefined), 'app')).otherApps, undefined);
  });
});

describe("parseProbeOutput: the app's file for Traefik", () => {
  const HASH = `v1:${'0123456789abcdef'.repeat(4)}`;
  const output = (file: string | undefined) =>
    ['@@mrsk-probe home@@', '/root', '@@mrsk-probe version@@', '27.0.1', ...(file === undefined ? [] : ['@@mrsk-probe traefik-file@@', file]), '@@mrsk-probe end@@', ''].join('\n');

  it("carries the hash of mrsk's first line", () => {
    assert.equal(reachable(parseProbeOutput('h1', output(`# mrsk ${HASH}`), 'app')).traefikFileHash, HASH);
    assert.equal(reachable(parseProbeOutput('h1', output(`# mrsk ${HASH}\r`), 'app')).traefikFileHash, HASH);
  });

  it('a file whose first line is not a hash line (edited, empty, cut short) is there with an unknown hash', () => {
    for (const line of ['other', '', `# mrsk ${HASH.slice(0, 40)}`, `# mrsk ${HASH}x`, 'tls:', '\u001b[2J# mrsk v1:zz']) {
      assert.equal(reachable(parseProbeOutput('h1', output(line), 'app')).traefikFileHash, UNKNOWN_TRAEFIK_FILE_HASH, JSON.stringify(line));
    }
  });

  it('no section: no file', () => {
    assert.equal('traefikFileHash' in reachable(parseProbeOutput('h1', output(undefined), 'app')), false);
  });
});
