// The probe script for each runtime wish: docker (the default), podman (no docker
// word in it, rootful only, Podman's API service read) and auto (the host decides, docker first).
// The scripts are checked by a real sh (`sh -n`), then run against stand-in runtimes on PATH.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseProbeOutput } from '../../../src/probe/parse.ts';
import { probeScript, SECTION_PATTERN } from '../../../src/probe/script.ts';
import type { ReachableHost, UnreachableHost } from '../../../src/probe/types.ts';
import { PICK_RUNTIME_SH } from '../../../src/runtime/runtime.ts';
import { StandInRoot } from './stand-in.ts';

const OPTIONS = { imageRepo: 'r/app' } as const;
const docker = probeScript('app', 'prod', { ...OPTIONS, runtime: 'docker' });
const podman = probeScript('app', 'prod', { ...OPTIONS, runtime: 'podman' });
const auto = probeScript('app', 'prod', { ...OPTIONS, runtime: 'auto' });
const sections = (script: string) => [...new Set([...script.matchAll(/section ([a-z-]+)/g)].map((m) => m[1]!))].sort();

describe('probeScript per runtime', () => {
  it('docker: the default; not one podman word; a missing docker is docker-missing; the runtime is named before the version', () => {
    assert.equal(probeScript('app', 'prod', OPTIONS), docker);
    assert.ok(!/podman/i.test(docker), docker);
    assert.ok(docker.includes('if ! command -v docker >/dev/null 2>&1; then'));
    assert.ok(docker.includes('  section problem; echo docker-missing'));
    const lines = docker.split('\n');
    const named = lines.indexOf('section runtime; echo docker');
    assert.ok(named > 0, docker);
    assert.equal(lines[named + 1], "section version; printf '%s\\n' \"$version\"");
    // Docker's own words: its daemon being down is docker-down; ps labels via .Label, one tab-separated listing
    assert.ok(docker.includes("*'Cannot connect to the Docker daemon'*|*'Is the docker daemon running'*) echo docker-down ;;"));
    assert.ok(docker.includes(['{{.ID}}', '{{.Label "mrsk.service"}}', '{{.Label "mrsk.destination"}}', '{{.Label "service"}}', '{{.Label "destination"}}', '{{.Names}}', '{{.Image}}', '{{.State}}'].join('\t')), docker);
    assert.equal(docker.split('docker ps ').length - 1, 1, 'one container listing');
    assert.deepEqual(sections(docker), sections(podman).filter((name) => name !== 'podman-service'));
  });

  it('podman: not one docker word; missing podman and a non-root user are problems; Podman\'s API service is read', () => {
    // the one docker word: the configured image's Docker Hub name, qualified for Podman
    const withoutHub = podman.replaceAll('docker.io/', '');
    assert.ok(!/docker/i.test(withoutHub), podman);
    assert.ok(podman.includes('if ! command -v podman >/dev/null 2>&1; then'));
    assert.ok(podman.includes('section problem; echo runtime-missing; section problem-detail; echo podman'));
    assert.ok(podman.includes('if [ "$(id -u)" != 0 ]; then section problem; echo podman-rootless; section end; exit 0; fi'));
    assert.ok(podman.includes('section runtime; echo podman'));
    assert.ok(podman.includes("podman version --format '{{.Server.Version}}'"));
    // ps labels through Podman's map, inspect ids through its Go field
    assert.ok(podman.includes(`{{.ID}}\t{{index .Labels "mrsk.service"}}\t{{index .Labels "mrsk.destination"}}\t{{index .Labels "service"}}\t`), podman);
    assert.equal(podman.split('podman ps ').length - 1, 1, 'one container listing');
    assert.ok(podman.includes('{"Id":{{json .ID}}'));
    assert.ok(!podman.includes('{{.Label '));
    assert.deepEqual(sections(podman), [...sections(docker), 'podman-service'].sort());
    assert.ok(podman.includes("if [ -S /run/podman/podman.sock ]; then echo 'socket yes'; else echo 'socket no'; fi"));
    assert.ok(podman.includes('"$HOME"/.mrsk/runtime/keeper.pid'));
    assert.ok(podman.includes('if [ -d /run/systemd/system ]; then echo systemd yes; else echo systemd no; fi'));
    // the root check comes before any podman command
    assert.ok(podman.indexOf('id -u') < podman.indexOf('podman version'));
  });

  it('auto: the pick, then both bodies in a case, docker first; no runtime at all is runtime-missing auto', () => {
    assert.ok(auto.includes(PICK_RUNTIME_SH));
    assert.ok(auto.includes('if [ -z "$rt" ]; then section problem; echo runtime-missing; section problem-detail; echo auto; section end; exit 0; fi'));
    const lines = auto.split('\n');
    const [open, dockerArm, podmanArm] = ['case $rt in', 'docker)', 'podman)'].map((line) => lines.indexOf(line));
    const close = lines.lastIndexOf('esac');
    assert.ok(open! < dockerArm! && dockerArm! < podmanArm! && podmanArm! < close!, `${open} ${dockerArm} ${podmanArm} ${close}`);
    assert.equal(lines[podmanArm! - 1], ';;');
    assert.equal(lines[close! - 1], ';;');
    // each arm is that runtime's body
    const body = (script: string) => script.slice(script.indexOf('fi\n', script.indexOf('command -v')) + 3, script.lastIndexOf('section end\nexit 0'));
    assert.equal(lines.slice(dockerArm! + 1, podmanArm! - 1).join('\n') + '\n', body(docker));
    assert.equal(lines.slice(podmanArm! + 1, close! - 1).join('\n') + '\n', body(podman));
    assert.ok(PICK_RUNTIME_SH.indexOf('rt=docker') < PICK_RUNTIME_SH.indexOf('rt=podman'));
    assert.deepEqual(sections(auto), sections(podman));
  });

  it('every section name is one the parser splits on, and every script ends with exit 0', () => {
    for (const script of [docker, podman, auto]) {
      for (const name of sections(script)) assert.ok(SECTION_PATTERN.test(`@@mrsk-probe ${name}@@`), name);
      assert.ok(script.trimEnd().endsWith('section end\nexit 0'));
    }
  });

  for (const [name, script] of [['docker', docker], ['podman', podman], ['auto', auto]] as const) {
    it(`the ${name} script is valid POSIX sh (sh -n) for any service name`, () => {
      execFileSync('sh', ['-n', '-c', script]);
      execFileSync('sh', ['-n', '-c', probeScript("we'ird $(x)", 'a;b', { imageRepo: 'r/a`b`', runtime: name })]);
    });
  }
});

describe('the runtime scripts run by a real sh against stand-in runtimes', () => {
  const root = new StandInRoot();
  after(() => root.remove());
  const home = root.home();

  /** A PATH folder with sh's tools and the given stand-in commands; calls() gives each call as one line. */
  function bin(commands: Record<string, string>): { path: string; calls: () => string[] } {
    const made = root.bin(commands);
    return { path: made.path, calls: () => made.calls().map((call) => call.join(' ')) };
  }

  const run = (script: string, path: string) => root.run(script, path, home);
  const answersVersion = (version: string) => `case "$1" in version) echo ${version} ;; esac`;

  it('auto picks docker when its engine answers, and never asks podman', () => {
    const { path, calls } = bin({ docker: answersVersion('27.0.1'), podman: answersVersion('4.3.1') });
    const host = parseProbeOutput('h', run(auto, path), 'app', 'prod') as ReachableHost;
    assert.equal(host.status, 'ok');
    assert.equal(host.runtime, 'docker');
    assert.equal(host.dockerVersion, '27.0.1');
    assert.equal(host.podmanService, undefined);
    assert.ok(calls().every((call) => call.startsWith('docker ')), calls().join('\n'));
  });

  it("auto picks podman when docker is only a client without an engine; the probe then uses podman alone", () => {
    const { path, calls } = bin({ docker: 'echo "Cannot connect to the Docker daemon" >&2; exit 1', podman: answersVersion('4.3.1') });
    const output = run(auto, path);
    const host = parseProbeOutput('h', output, 'app', 'prod') as ReachableHost;
    assert.equal(host.status, 'ok', output);
    assert.equal(host.runtime, 'podman');
    assert.equal(host.dockerVersion, '4.3.1');
    assert.deepEqual(host.podmanService, { socket: false, systemd: host.podmanService!.systemd });
    const dockerCalls = calls().filter((call) => call.startsWith('docker '));
    assert.deepEqual(dockerCalls, ["docker version --format {{.Server.Version}}"]);
    assert.ok(calls().some((call) => call.startsWith('podman ps ')));
  });

  it('auto with neither runtime is runtime-missing (auto); podman without podman is runtime-missing (podman)', () => {
    const { path } = bin({});
    const none = parseProbeOutput('h', run(auto, path), 'app', 'prod') as UnreachableHost;
    assert.equal(none.status, 'runtime-missing');
    assert.match(none.message, /runtime: auto/);
    const missing = parseProbeOutput('h', run(podman, path), 'app', 'prod') as UnreachableHost;
    assert.equal(missing.status, 'runtime-missing');
    assert.match(missing.message, /runtime: podman/);
  });

  it('auto with only a docker client that cannot reach its engine is docker-down, in docker\'s words', () => {
    const { path } = bin({ docker: 'echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2; exit 1' });
    const host = parseProbeOutput('h', run(auto, path), 'app', 'prod') as UnreachableHost;
    assert.equal(host.status, 'docker-down');
    assert.match(host.message, /Cannot connect to the Docker daemon/);
  });

  it('podman, as root: lists with podman only, and reads the keeper\'s first line when it runs', () => {
    assert.equal(process.getuid?.(), 0, 'the podman probe requires root; this suite runs as root');
    const { path, calls } = bin({ podman: answersVersion('4.3.1') });
    mkdirSync(join(home, '.mrsk/runtime'), { recursive: true });
    writeFileSync(join(home, '.mrsk/runtime/keeper.sh'), '# mrsk podman keeper v1\nwhile :; do sleep 5; done\n');
    writeFileSync(join(home, '.mrsk/runtime/keeper.pid'), `${process.pid}\n`);
    try {
      const host = parseProbeOutput('h', run(podman, path), 'app', 'prod') as ReachableHost;
      assert.equal(host.status, 'ok');
      assert.equal(host.runtime, 'podman');
      assert.equal(host.podmanService?.keeper, '# mrsk podman keeper v1');
      assert.ok(calls().length > 3 && calls().every((call) => call.startsWith('podman ')), calls().join('\n'));
    } finally {
      rmSync(join(home, '.mrsk'), { recursive: true, force: true });
    }
  });
});
