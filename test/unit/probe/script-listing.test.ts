// The probe's one container listing: a real sh runs the script against a stand-in runtime whose
// `ps -a` prints given rows, and the tests check what the script picks from them (the containers
// it inspects, the other apps, the image repositories, whether it reads Traefik's API) and how many
// runtime CLI processes one probe starts.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseProbeOutput } from '../../../src/probe/parse.ts';
import { probeScript, type ProbeScriptOptions } from '../../../src/probe/script.ts';
import type { ReachableHost } from '../../../src/probe/types.ts';
import { type ListedContainer, type RuntimeAnswers, StandInRoot, runtimeStandIn } from './stand-in.ts';

const root = new StandInRoot();
after(() => root.remove());

type Rt = 'docker' | 'podman';

/** Probes a stand-in host; returns the output, the parsed host and the runtime's calls (argv without the runtime's name). */
function probe(answers: RuntimeAnswers, service: string, destination: string | undefined, options: ProbeScriptOptions & { runtime?: Rt } = {}, home?: string, hostTools: { readonly [name: string]: string | null } = {}) {
  const rt = options.runtime ?? 'docker';
  const commands: Record<string, string> = { ...runtimeStandIn(rt, answers) };
  // a host tool replaced (its sh body) or missing (null)
  for (const [name, body] of Object.entries(hostTools)) {
    if (body === null) delete commands[name];
    else commands[name] = body;
  }
  const bin = root.bin(commands);
  const output = root.run(probeScript(service, destination, options), bin.path, home);
  const host = parseProbeOutput('h1', output, service, destination);
  assert.equal(host.status, 'ok', output);
  const calls = bin.calls().filter((call) => call[0] === rt).map((call) => call.slice(1));
  return { output, host: host as ReachableHost, calls, wget: bin.calls().filter((call) => call[0] === 'wget'), curl: bin.calls().filter((call) => call[0] === 'curl') };
}

/** The ids the probe inspected (none when it did not inspect). */
function inspected(calls: string[][]): string[] {
  const inspect = calls.filter((call) => call[0] === 'inspect');
  assert.ok(inspect.length <= 1, JSON.stringify(inspect));
  if (inspect.length === 0) return [];
  const words = inspect[0]!;
  return words.slice(words.indexOf('--format') + 2);
}

/** The references the probe asked `image ls` for (undefined when it did not list images). */
function imageReferences(calls: string[][]): string[] | undefined {
  const ls = calls.filter((call) => call[0] === 'image' && call[1] === 'ls');
  assert.ok(ls.length <= 1, JSON.stringify(ls));
  if (ls.length === 0) return undefined;
  return ls[0]!.filter((word, i, words) => words[i - 1] === '--filter').map((word) => word.replace(/^reference=/, '')).sort();
}

const section = (output: string, name: string): string | undefined => {
  const start = output.indexOf(`@@mrsk-probe ${name}@@\n`);
  if (start < 0) return undefined;
  const text = output.slice(start + `@@mrsk-probe ${name}@@\n`.length);
  return text.slice(0, text.indexOf('\n@@mrsk-probe'));
};

// a host with three mrsk apps, Kamal's containers of two services, and containers named like Traefik
const HOST: readonly ListedContainer[] = [
  { id: 'm1', service: 'app', name: 'app-web-v1', image: 'r/app:v1' },
  { id: 'm2', service: 'app', destination: 'prod', kamalService: 'app', kamalDestination: 'prod', name: 'app-web-prod-v1', image: 'registry.example:5000/r/app@sha256:0123' },
  { id: 'm3', service: 'app', destination: 'staging', name: 'app-web-staging-v1', image: 'r/app-staging:v3', state: 'exited' },
  { id: 'm4', service: 'blog', name: 'blog-web-v1', image: 'r/blog:v1' },
  { id: 'm5', service: 'blog', destination: 'prod', name: 'blog-web-prod-v1', image: 'r/blog:v2' },
  { id: 'k1', kamalService: 'app', name: 'app-web-k1', image: 'r/kamal:k1' },
  { id: 'k2', kamalService: 'app', kamalDestination: 'staging', name: 'app-web-staging-k1', image: 'r/kamal:k1' },
  { id: 'k3', kamalService: 'blog', name: 'blog-web-k1', image: 'r/kamal-blog:k1' },
  { id: 't1', name: 'traefik', image: 'traefik:v2.11', state: 'exited' },
  { id: 't2', name: 'traefik-old', image: 'traefik:v2.10' },
  { id: 't3', name: 'my-traefik', image: 'traefik:v2.10' },
  { id: 'x1', name: 'nginx', image: 'nginx:1' },
];

describe('what the probe picks from its one container listing', () => {
  it("inspects ours (service and destination), Kamal's of the service (any destination when none is configured) and Traefik by exact name", () => {
    // m2, mrsk's app/prod, carries Kamal's labels too: with no destination it is read as a Kamal
    // container of the service, and parse.ts drops it (it has mrsk.* labels)
    assert.deepEqual(inspected(probe({ containers: HOST }, 'app', undefined).calls), ['k1', 'k2', 'm1', 'm2', 't1']);
    assert.deepEqual(inspected(probe({ containers: HOST }, 'app', 'prod').calls), ['m2', 't1']);
    assert.deepEqual(inspected(probe({ containers: HOST }, 'app', 'staging').calls), ['k2', 'm3', 't1']);
    assert.deepEqual(inspected(probe({ containers: HOST }, 'blog', undefined).calls), ['k3', 'm4', 't1']);
    // nothing of the service and no Traefik: no inspect at all
    assert.deepEqual(probe({ containers: HOST.filter((c) => c.id !== 't1') }, 'shop', undefined).calls.filter((c) => c[0] === 'inspect'), []);
  });

  it('names every other mrsk app as service or service/destination, once each, and never this one', () => {
    const apps = (service: string, destination?: string) => probe({ containers: [...HOST, HOST[3]!] }, service, destination).host.otherApps;
    assert.deepEqual(apps('app'), ['app/prod', 'app/staging', 'blog', 'blog/prod']);
    assert.deepEqual(apps('app', 'prod'), ['app', 'app/staging', 'blog', 'blog/prod']);
    assert.deepEqual(apps('blog', 'prod'), ['app', 'app/prod', 'app/staging', 'blog']);
    assert.deepEqual(apps('shop'), ['app', 'app/prod', 'app/staging', 'blog', 'blog/prod']);
    assert.deepEqual(probe({ containers: HOST.filter((c) => !c.service) }, 'app', undefined).host.otherApps, []);
  });

  it("lists images of the repositories the service's containers came from (tag and digest cut), plus the configured one", () => {
    const refs = (service: string, destination: string | undefined, options: ProbeScriptOptions & { runtime?: Rt } = {}) =>
      imageReferences(probe({ containers: HOST }, service, destination, options).calls);
    assert.deepEqual(refs('app', undefined), ['r/app', 'r/app-staging', 'registry.example:5000/r/app']);
    assert.deepEqual(refs('app', 'prod', { imageRepo: 'r/conf' }), ['r/conf', 'registry.example:5000/r/app']);
    assert.deepEqual(refs('app', 'staging', { imageRepo: 'r/app-staging' }), ['r/app-staging']);
    // Kamal's images are not ours to list; with no container and no configured repository, no image ls
    assert.equal(refs('shop', undefined), undefined);
    assert.deepEqual(refs('shop', undefined, { imageRepo: 'r/shop' }), ['r/shop']);
    // Podman is asked for the configured Docker Hub name qualified
    assert.deepEqual(refs('shop', undefined, { imageRepo: 'r/shop', runtime: 'podman' }), ['docker.io/r/shop']);
  });

  it("reads Traefik's API only while the container named traefik runs (Docker: running; Podman's ps: Up …)", () => {
    const withTraefik = (state: string) => [...HOST.filter((c) => c.id !== 't1'), { id: 't1', name: 'traefik', image: 'traefik:v2.11', state }];
    const api = { '/api/http/services': '[]', '/api/http/routers': '[]' };
    const reads = (state: string, runtime: Rt) => {
      const { calls, host, output } = probe({ containers: withTraefik(state), api }, 'app', undefined, { runtime });
      const execs = calls.filter((call) => call[0] === 'exec');
      assert.equal(execs.length === 1, host.traefik !== undefined, output);
      assert.equal(section(output, 'traefik-services') !== undefined, execs.length === 1, output);
      return execs.length;
    };
    assert.equal(reads('running', 'docker'), 1);
    assert.equal(reads('Up 3 minutes', 'podman'), 1);
    for (const state of ['exited', 'created', 'paused', 'restarting', 'dead']) assert.equal(reads(state, 'docker'), 0, state);
    for (const state of ['Exited (0) 5 seconds ago', 'Created', 'Paused']) assert.equal(reads(state, 'podman'), 0, state);
    // another container that runs, named like Traefik, is not Traefik
    assert.equal(probe({ containers: HOST, api }, 'app', undefined).calls.filter((call) => call[0] === 'exec').length, 0);
  });

  it("reads both API answers in one exec, split by the routers' section marker", () => {
    const services = JSON.stringify([{ name: 'app-web@docker', status: 'enabled', serverStatus: { 'http://10.0.0.2:80': 'UP' } }]);
    const routers = JSON.stringify([{ name: 'app-web@docker', rule: 'PathPrefix(`/`)', service: 'app-web@docker', status: 'enabled' }]);
    const { calls, host, output, wget } = probe(
      { containers: [{ id: 't1', name: 'traefik', image: 'traefik:v2.11' }], api: { '/api/http/services': services, '/api/http/routers': routers } },
      'app',
      undefined,
    );
    assert.equal(calls.filter((call) => call[0] === 'exec').length, 1);
    assert.deepEqual(wget.map((call) => call.at(-1)), ['http://127.0.0.1:8080/api/http/services?per_page=1000', 'http://127.0.0.1:8080/api/http/routers?per_page=1000']);
    assert.equal(section(output, 'traefik-services'), services);
    assert.equal(section(output, 'traefik-routers'), routers);
    assert.deepEqual(host.traefik, {
      services: { 'app-web': { status: 'enabled', serverStatus: { 'http://10.0.0.2:80': 'UP' } } },
      routers: { 'app-web': { rule: 'PathPrefix(`/`)', service: 'app-web', status: 'enabled' } },
    });
  });

  describe("reads Traefik's API through the port it publishes on the host's loopback", () => {
    const services = JSON.stringify([{ name: 'app-web@docker', status: 'enabled', serverStatus: { 'http://10.0.0.2:80': 'UP' } }]);
    const routers = JSON.stringify([{ name: 'app-web@docker', rule: 'PathPrefix(`/`)', service: 'app-web@docker', status: 'enabled' }]);
    const api = { '/api/http/services': services, '/api/http/routers': routers };
    const traefikWith = (ports: string) => ({ containers: [...HOST.filter((c) => c.id !== 't1'), { id: 't1', name: 'traefik', image: 'traefik:v3.6', ports }], api });
    const PUBLISHED = '0.0.0.0:80->80/tcp, :::80->80/tcp, 0.0.0.0:443->443/tcp, 127.0.0.1:18080->8080/tcp';
    const URLS = ['http://127.0.0.1:18080/api/http/services?per_page=1000', 'http://127.0.0.1:18080/api/http/routers?per_page=1000'];
    const expected = {
      services: { 'app-web': { status: 'enabled', serverStatus: { 'http://10.0.0.2:80': 'UP' } } },
      routers: { 'app-web': { rule: 'PathPrefix(`/`)', service: 'app-web', status: 'enabled' } },
    };
    const execs = (calls: string[][]) => calls.filter((call) => call[0] === 'exec').length;

    it("with the host's curl: no process in the container, the same sections as through it", () => {
      for (const runtime of ['docker', 'podman'] as const) {
        const { calls, host, output, curl, wget } = probe(traefikWith(PUBLISHED), 'app', undefined, { runtime });
        assert.equal(execs(calls), 0, output);
        assert.deepEqual(curl.map((call) => call.at(-1)), URLS);
        assert.equal(wget.length, 0);
        assert.equal(section(output, 'traefik-services'), services);
        assert.equal(section(output, 'traefik-routers'), routers);
        assert.deepEqual(host.traefik, expected);
      }
    });

    it("with the host's wget when it has no curl", () => {
      const { calls, host, curl, wget } = probe(traefikWith(PUBLISHED), 'app', undefined, {}, undefined, { curl: null });
      assert.equal(execs(calls), 0);
      assert.equal(curl.length, 0);
      assert.deepEqual(wget.map((call) => call.at(-1)), URLS);
      assert.deepEqual(host.traefik, expected);
    });

    it('through the container when the loopback read fails, when the host has neither tool, or when no loopback port maps to the API', () => {
      const cases: [string, string, Record<string, string | null>][] = [
        ['loopback refused', PUBLISHED, { curl: 'exit 7' }],
        ['routers read fails', PUBLISHED, { curl: `case "$*" in *routers*) exit 22 ;; *) printf '%s' ${JSON.stringify(services)} ;; esac` }],
        ['services answer empty', PUBLISHED, { curl: 'exit 0' }],
        ['neither curl nor wget on the host', PUBLISHED, { curl: null, wget: null }],
        // Kamal's Traefik publishes no API; one published on every address is not read from the host
        ['no API port', '0.0.0.0:80->80/tcp', {}],
        ['API on every address', '0.0.0.0:8080->8080/tcp', {}],
        ['loopback port of another container port', '127.0.0.1:18080->9000/tcp', {}],
      ];
      for (const [what, ports, tools] of cases) {
        const { calls, host, output } = probe(traefikWith(ports), 'app', undefined, {}, undefined, tools);
        if ('wget' in tools) {
          // the stand-in exec runs off the host's PATH, so the container has no wget either here:
          // the exec was tried, and nothing was read
          assert.equal(execs(calls), 1, what);
          assert.equal(host.traefik, undefined, what);
          continue;
        }
        assert.equal(execs(calls), 1, `${what}\n${output}`);
        assert.deepEqual(host.traefik, expected, what);
        assert.equal((output.match(/@@mrsk-probe traefik-services@@/g) ?? []).length, 1, what);
      }
    });
  });

  it('keeps a hostile service or destination one literal word: matched exactly, never run', () => {
    const home = root.home();
    const service = `we'ird "q" $(touch ${home}/pwned) \`touch ${home}/pwned\` x`;
    const destination = 'a b;c';
    const script = probeScript(service, destination);
    assert.ok(script.includes(`-v s='we'\\''ird "q" $(touch ${home}/pwned) \`touch ${home}/pwned\` x'`), script);
    assert.ok(script.includes(`-v d='a b;c'`), script);
    const containers: ListedContainer[] = [
      { id: 'h1', service, destination, name: 'hostile-1' },
      { id: 'h2', service: "we'ird", destination, name: 'hostile-2' },
      { id: 'h3', service, destination: 'a', name: 'hostile-3' },
      { id: 'h4', kamalService: service, kamalDestination: destination, name: 'hostile-4' },
    ];
    const { calls, host } = probe({ containers }, service, destination, {}, home);
    assert.deepEqual(inspected(calls), ['h1', 'h4']);
    assert.deepEqual(host.otherApps, [`${service}/a`, "we'ird/a b;c"]);
    assert.equal(existsSync(join(home, 'pwned')), false);
  });
});

describe('runtime CLI processes per probe', () => {
  // a deployed host: our container, its image, Traefik running
  const deployed: RuntimeAnswers = {
    containers: [
      { id: 'm1', service: 'app', name: 'app-web-v1', image: 'r/app:v1' },
      { id: 't1', name: 'traefik', image: 'traefik:v2.11' },
    ],
    imageIds: [`sha256:${'1'.repeat(64)}`],
    api: { '/api/http/services': '[]', '/api/http/routers': '[]' },
  };
  const subcommands = (calls: string[][]) => calls.map((call) => (call[0] === 'image' || call[0] === 'network' ? `${call[0]} ${call[1]}` : call[0]!));

  it('7 on a host with Traefik running: version, ps, inspect, image ls, image inspect, network ls, exec', () => {
    for (const runtime of ['docker', 'podman'] as const) {
      if (runtime === 'podman') assert.equal(process.getuid?.(), 0, 'the podman probe requires root; this suite runs as root');
      const { calls } = probe(deployed, 'app', undefined, { imageRepo: 'r/app', runtime });
      assert.deepEqual(subcommands(calls), ['version', 'ps', 'inspect', 'image ls', 'image inspect', 'network ls', 'exec'], runtime);
    }
  });

  it('3 on a fresh host (version, ps, network ls), and the runtime is never asked twice for one thing', () => {
    assert.deepEqual(subcommands(probe({}, 'app', undefined).calls), ['version', 'ps', 'network ls']);
    const stopped = { ...deployed, containers: deployed.containers!.map((c) => ({ ...c, state: 'exited' })) };
    assert.deepEqual(subcommands(probe(stopped, 'app', undefined, { imageRepo: 'r/app' }).calls), ['version', 'ps', 'inspect', 'image ls', 'image inspect', 'network ls']);
  });
});
