// The parser on probe output captured from a real Podman 4.3.1 (fixtures/probe/README.md, the
// Podman part, says how): Podman's inspect speaks Docker's field names with its own states and an
// empty Health for containers without a check, and the probe adds what it saw of Podman's API service.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseProbeOutput, parsePodmanService } from '../../../src/probe/parse.ts';
import type { HostSnapshot, ReachableHost, UnreachableHost } from '../../../src/probe/types.ts';
import { KEEPER_VERSION_LINE } from '../../../src/runtime/podman-service.ts';

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
/** The fixture with one container's inspect State.Status set to another word (Podman's own states). */
function withStatus(text: string, name: string, status: string): string {
  const lines = text.split('\n');
  const index = lines.findIndex((line) => line.includes(`"Name":"${name}"`));
  assert.ok(index >= 0, name);
  lines[index] = lines[index]!.replace(/"State":\{"OciVersion":"[^"]*","Status":"[a-z]+"/, (match) => match.replace(/"Status":"[a-z]+"/, `"Status":"${status}"`));
  assert.ok(lines[index]!.includes(`"Status":"${status}"`));
  return lines.join('\n');
}

const REPO = 'localhost/acme/app';
const deployed = fixture('podman-deployed.txt');

describe('parseProbeOutput on real Podman output', () => {
  it('a Podman host: runtime podman, its version, no API service and no keeper yet, no systemd', () => {
    const host = reachable(parseProbeOutput('h1', deployed, 'app'));
    assert.equal(host.runtime, 'podman');
    assert.equal(host.dockerVersion, '4.3.1');
    assert.deepEqual(host.podmanService, { socket: false, systemd: false });
    assert.equal(host.arch, 'amd64');
    assert.equal(host.home, '/tmp/pt-podman/home');
    assert.deepEqual(host.networks, ['podman']);
    assert.deepEqual(host.otherApps, []);
  });

  it("containers in Docker's words: running healthy, stopped retained, running unhealthy, created, and no health without a check", () => {
    const host = reachable(parseProbeOutput('h1', deployed, 'app'));
    assert.deepEqual(host.containers.map((c) => c.name), ['app-job-v2', 'app-job-v3', 'app-web-v1', 'app-web-v2', 'app-web-v3']);
    const web = byName(host, 'app-web-v2');
    assert.match(web.id, /^[0-9a-f]{64}$/);
    assert.equal(web.image, `${REPO}:v2`);
    assert.equal(web.state, 'running');
    assert.equal(web.health, 'healthy');
    assert.equal(web.labels['mrsk.version'], 'v2');
    assert.equal(web.finishedAt, undefined, 'the zero time means never finished');
    assert.equal(web.ip, undefined, 'no network attached');
    const old = byName(host, 'app-web-v1');
    assert.equal(old.state, 'exited');
    assert.equal(old.exitCode, 137);
    assert.ok(old.finishedAt && Date.parse(old.finishedAt) >= Date.parse(old.startedAt!));
    assert.equal(byName(host, 'app-web-v3').health, 'unhealthy');
    // Podman prints Health {"Status":""} for a container without a health check: no health
    assert.ok(deployed.includes('"Health":{"Status":"","FailingStreak":0,"Log":null}'));
    const job = byName(host, 'app-job-v2');
    assert.equal(job.state, 'running');
    assert.equal(job.health, undefined);
    const made = byName(host, 'app-job-v3');
    assert.equal(made.state, 'created');
    assert.equal(made.health, undefined);
    assert.equal(made.startedAt, undefined);
  });

  it("images: Podman's ids carry no sha256: prefix, in the image and in the container alike", () => {
    const host = reachable(parseProbeOutput('h1', deployed, 'app'));
    assert.equal(host.images.length, 1);
    const [image] = host.images;
    assert.deepEqual(image!.tags, [`${REPO}:v1`, `${REPO}:v2`, `${REPO}:v3`]);
    assert.match(image!.id, /^[0-9a-f]{64}$/);
    assert.deepEqual(image!.labels, {}, 'null labels are none');
    for (const container of host.containers) assert.equal(container.imageId, image!.id);
  });

  it("Podman's states stopped and configured read as exited and created; initialized is created, stopping still running", () => {
    const plain = reachable(parseProbeOutput('h1', deployed, 'app'));
    const renamed = withStatus(withStatus(deployed, 'app-web-v1', 'stopped'), 'app-job-v3', 'configured');
    assert.deepEqual(reachable(parseProbeOutput('h1', renamed, 'app')), plain);
    assert.equal(byName(reachable(parseProbeOutput('h1', withStatus(deployed, 'app-job-v3', 'initialized'), 'app')), 'app-job-v3').state, 'created');
    assert.equal(byName(reachable(parseProbeOutput('h1', withStatus(deployed, 'app-web-v2', 'stopping'), 'app')), 'app-web-v2').state, 'running');
  });

  it('an unknown Podman state is an error naming it, not a guess', () => {
    const host = unreachable(parseProbeOutput('h1', withStatus(deployed, 'app-web-v2', 'frobbed'), 'app'));
    assert.equal(host.status, 'unreadable');
    assert.match(host.message, /unknown state "frobbed"/);
  });

  it("the keeper's host: the API socket is there and the keeper's first line names its version", () => {
    const host = reachable(parseProbeOutput('h1', fixture('podman-keeper.txt'), 'app'));
    assert.deepEqual(host.podmanService, { socket: true, keeper: KEEPER_VERSION_LINE, systemd: false });
    assert.equal(host.containers.length, 5);
  });

  it('auto on a host whose docker command has no engine: Podman was picked, and reads the same', () => {
    const auto = reachable(parseProbeOutput('h1', fixture('podman-auto.txt'), 'app'));
    assert.equal(auto.runtime, 'podman');
    const keeper = reachable(parseProbeOutput('h1', fixture('podman-keeper.txt'), 'app'));
    assert.deepEqual(auto.containers.map((c) => [c.name, c.state]), keeper.containers.map((c) => [c.name, c.state]));
  });

  it('output without a runtime section (every probe before runtimes) came from docker, with no Podman service', () => {
    for (const name of ['fresh-host.txt', 'deployed-host.txt', 'deployed-with-traefik.txt']) {
      const host = reachable(parseProbeOutput('h1', fixture(name), 'app'));
      assert.equal(host.runtime, 'docker', name);
      assert.equal(host.podmanService, undefined, name);
    }
  });

  it('a podman-service section on a docker host is ignored; an unknown runtime word reads as docker', () => {
    const docker = fixture('fresh-host.txt');
    const withSection = docker.replace('\n@@mrsk-probe end@@', '\n@@mrsk-probe runtime@@\ndocker\n\n@@mrsk-probe podman-service@@\nsocket yes\n\n@@mrsk-probe end@@');
    assert.notEqual(withSection, docker);
    assert.equal(reachable(parseProbeOutput('h1', withSection, 'app')).podmanService, undefined);
    const odd = docker.replace('\n@@mrsk-probe end@@', '\n@@mrsk-probe runtime@@\ncontainerd\n\n@@mrsk-probe end@@');
    assert.equal(reachable(parseProbeOutput('h1', odd, 'app')).runtime, 'docker');
  });
});

describe('Podman problems, as captured', () => {
  it('podman not installed (runtime: podman)', () => {
    const host = unreachable(parseProbeOutput('h1', fixture('podman-missing.txt'), 'app'));
    assert.equal(host.status, 'runtime-missing');
    assert.equal(host.message, "podman is not installed (runtime: podman): no `podman` command on the SSH user's PATH; `mrsk setup` installs it when the SSH user is root");
  });

  it('no runtime at all (runtime: auto)', () => {
    const host = unreachable(parseProbeOutput('h1', fixture('runtime-missing-auto.txt'), 'app'));
    assert.equal(host.status, 'runtime-missing');
    assert.equal(host.message, "no container runtime (runtime: auto): neither `docker` nor `podman` is on the SSH user's PATH; set runtime to docker or podman and run `mrsk setup` as root to install it");
  });

  it('Podman reached as a user other than root', () => {
    const host = unreachable(parseProbeOutput('h1', fixture('podman-rootless.txt'), 'app'));
    assert.equal(host.status, 'podman-rootless');
    assert.equal(host.message, 'runtime: podman needs rootful Podman: connect as root (ssh.user: root); rootless Podman keeps its own containers and networks, which Traefik cannot share');
  });

  it('a runtime-missing detail other than podman is the auto message', () => {
    const text = fixture('podman-missing.txt').replace('@@mrsk-probe problem-detail@@\npodman', '@@mrsk-probe problem-detail@@\nsomething');
    assert.match(unreachable(parseProbeOutput('h1', text, 'app')).message, /^no container runtime \(runtime: auto\)/);
  });
});

describe('parsePodmanService', () => {
  it('reads each line; anything missing is no', () => {
    assert.deepEqual(parsePodmanService('socket yes\nkeeper # mrsk podman keeper v1\nsystemd yes\n'), { socket: true, keeper: '# mrsk podman keeper v1', systemd: true });
    assert.deepEqual(parsePodmanService('socket no\nkeeper none\nsystemd no'), { socket: false, systemd: false });
    assert.deepEqual(parsePodmanService(''), { socket: false, systemd: false });
    assert.deepEqual(parsePodmanService('socket maybe\nsystemd\nkeeper'), { socket: false, systemd: false });
    assert.deepEqual(parsePodmanService('  socket yes  \n\nsystemd yes'), { socket: true, systemd: true });
  });

  it("an old keeper's line is kept as it is (so a plan can replace it); the host's text is sanitized", () => {
    assert.deepEqual(parsePodmanService('keeper # mrsk podman keeper v0'), { socket: false, keeper: '# mrsk podman keeper v0', systemd: false });
    const hostile = parsePodmanService('keeper # x\u001b]0;pwned\u0007\u001b[31m y');
    assert.ok(hostile.keeper !== undefined && !/[\u0000-\u001f\u007f]/.test(hostile.keeper), JSON.stringify(hostile));
  });
});
