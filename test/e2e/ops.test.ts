// The day-two commands on the test bed, run as a user runs them (the real bin, real sshd,
// dockerd, registry and Traefik): app exec on all hosts / the primary / reusing the running
// container / with a failing host, an interactive exec through a pseudo-terminal (tmux), logs
// followed until Ctrl-C, lock contention between two concurrent deploys, and the audit log; the
// day-two changes through the plan pipeline: app stop/start under load (drained first, served
// again at once), remove of a second app beside this one (Traefik and the network stay), prune
// (never the running or newest retained version).
//
// It deploys its own service (`opsdemo`, routed only for Host(`opsdemo.test`)) from a copy of
// the e2e config, so the other suites' `demo` containers and traffic are never touched. The bed
// is shared: this file never takes it down. Set MRSK_E2E_TRAEFIK_REBOOT=1 to also run the Traefik
// lifecycle (rolling reboot, also with --json under load, stop, start, restart, remove, boot): it restarts the Traefik other
// suites route through, so run it on a bed of your own (TESTBED_DIR/PREFIX/NET/REGISTRY_PORT).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { bringUp, deployConfig, mrskHasCommand, registryHas, repoRoot, run, runOk, type Bed, type ProcessResult } from './harness.ts';

process.env.MRSK_E2E_KEEP_BED = '1'; // shared bed: never taken down from here
const SERVICE = 'opsdemo';

let bed: Bed;
/** The hosts of this suite's config (the e2e config's two; a bed may have more, e.g. up 3 for Pebble). */
let hosts: string[];
let workDir: string;
let configFile: string;
let ready = false;

/** Runs mrsk with this suite's config; -c goes first so it is the root's option. */
function mrsk(args: readonly string[], options: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<ProcessResult> {
  return bed.mrsk(['-c', configFile, ...args], { timeoutMs: options.timeoutMs ?? 180_000, env: options.env });
}

function assertOk(result: ProcessResult, what: string): void {
  assert.equal(result.code, 0, `${what} exited ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
}

function assertNoSecret(result: ProcessResult): void {
  assert.ok(!result.stdout.includes(bed.appSecret) && !result.stderr.includes(bed.appSecret), 'the app secret was printed');
  const password = bed.env.MRSK_REGISTRY_PASSWORD ?? '';
  assert.ok(!password || (!result.stdout.includes(password) && !result.stderr.includes(password)), 'the registry password was printed');
}

/** The text of one `App Host: <host>` section of the output (up to the next header or summary). */
function section(stdout: string, host: string, title = 'App'): string {
  const start = stdout.indexOf(`${title} Host: ${host}\n`);
  assert.ok(start >= 0, `no "${title} Host: ${host}" section in:\n${stdout}`);
  const rest = stdout.slice(start + `${title} Host: ${host}\n`.length);
  const end = rest.search(/^(\w+ Host: |Summary: )/m);
  return end < 0 ? rest : rest.slice(0, end);
}

/**
 * The version each host serves through Traefik for this suite's Host rule (`none` when nothing
 * answers), polled for up to 15 s until every host answers (or, with expectAnswers false, none does):
 * Traefik needs a moment after (re)starting to read the routes from Docker.
 */
async function servedThroughTraefik(expectAnswers = true): Promise<string[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const answers = await Promise.all(
      hosts.map(async (host) => {
        const r = await run('curl', ['-s', '-m', '2', '-H', 'Host: opsdemo.test', `http://${host}/`], { timeoutMs: 5000 });
        return r.code === 0 && r.stdout ? (r.stdout.trim().split(' ')[0] ?? '') : 'none';
      }),
    );
    const settled = expectAnswers ? answers.every((a) => /^v\d+$/.test(a)) : answers.every((a) => a === 'none');
    if (settled || Date.now() > deadline) return answers;
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function sshOk(hostIndex: number, command: string): Promise<string> {
  const result = await bed.ssh(hostIndex, command, { timeoutMs: 60_000 });
  assert.equal(result.code, 0, `ssh h${hostIndex} ${command}: ${result.stderr}`);
  return result.stdout;
}

/** TEXT as a literal in a RegExp. */
function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The hosts of a printed plan, in its order, with their batch: `10.231.7.11  (batch 1)` headers. */
function planBatches(stdout: string): [string, number][] {
  return [...stdout.matchAll(/^(\S+)  \(batch (\d+)\)$/gm)].map((m) => [m[1]!, Number(m[2])]);
}
const planHosts = (stdout: string): string[] => planBatches(stdout).map(([host]) => host);

/** The progress lines of a run (`  <host>  <step> ok (1.2s)`), in the order printed. */
function progressLines(stdout: string): { host: string; text: string }[] {
  return [...stdout.matchAll(/^  (\d+\.\d+\.\d+\.\d+)  (.+)$/gm)].map((m) => ({ host: m[1]!, text: m[2]! }));
}

/**
 * A rolling Traefik change: every progress line of host 1 comes before the first of host 2, and
 * host 1's last one is its wait for Traefik to route the app again (only then may host 2 go down).
 */
function assertRolling(stdout: string, what: string): void {
  const lines = progressLines(stdout);
  const firstOf2 = lines.findIndex((l) => l.host === hosts[1]);
  const lastOf1 = lines.findLastIndex((l) => l.host === hosts[0]);
  assert.ok(firstOf2 > 0 && lastOf1 >= 0 && lastOf1 < firstOf2, `${what}: host 2 started before host 1 was done:\n${stdout}`);
  assert.match(lines[lastOf1]!.text, new RegExp(`^wait until Traefik routes to ${SERVICE}-web-v2 ok `), `${what}: host 1 ends with its routing wait`);
  assert.match(lines.at(-1)!.text, new RegExp(`^wait until Traefik routes to ${SERVICE}-web-v2 ok `), `${what}: host 2 ends with its routing wait`);
}

/** The id of the Traefik container on each of the suite's hosts ('' where there is none). */
async function traefikIds(): Promise<string[]> {
  return Promise.all(hosts.map(async (_h, i) => (await bed.ssh(i + 1, "docker inspect -f '{{.Id}}' traefik 2>/dev/null || true", { timeoutMs: 60_000 })).stdout.trim()));
}

/** One answer of `loadByHost`: the host asked, when the request started (ms since the load began), what came back. */
interface Answer {
  readonly host: string;
  readonly at: number;
  readonly status: number;
  readonly body: string;
  readonly error?: string;
}

/** One GET http://HOST/ with a Host header (fetch cannot set one); status 0 when nothing answered. */
function getWithHost(host: string, hostHeader: string, timeoutMs = 2000): Promise<{ status: number; body: string; error?: string }> {
  return new Promise((resolve) => {
    const request = httpRequest({ host, port: 80, path: '/', headers: { host: hostHeader }, agent: false, timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8').trim() }));
      response.on('error', (error: NodeJS.ErrnoException) => resolve({ status: 0, body: '', error: error.code ?? String(error) }));
    });
    request.on('timeout', () => request.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    request.on('error', (error: NodeJS.ErrnoException) => resolve({ status: 0, body: '', error: error.code ?? String(error) }));
    request.end();
  });
}

/**
 * Load through Traefik: GETs for HOST_HEADER to each of TARGETS in turn, RPS per second, until
 * `stop()`; `answers` fills as they come back, `stop()` waits for the requests in flight.
 */
function loadByHost(targets: readonly string[], hostHeader = `${SERVICE}.test`, rps = 20): { answers: Answer[]; stop: () => Promise<Answer[]> } {
  const answers: Answer[] = [];
  const inFlight: Promise<void>[] = [];
  const controller = new AbortController();
  const started = performance.now();
  const loop = (async () => {
    let sent = 0;
    while (!controller.signal.aborted) {
      const host = targets[sent % targets.length]!;
      const at = Math.round(performance.now() - started);
      sent += 1;
      inFlight.push(getWithHost(host, hostHeader).then((answer) => void answers.push({ host, at, ...answer })));
      await new Promise((r) => setTimeout(r, Math.max(0, started + (sent * 1000) / rps - performance.now())));
    }
  })();
  return {
    answers,
    async stop() {
      controller.abort();
      await loop;
      await Promise.all(inFlight);
      return [...answers].sort((a, b) => a.at - b.at);
    },
  };
}

/** Polls CHECK every 200 ms until it holds; fails with WHAT after MS. */
async function until(what: string, check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    assert.ok(Date.now() < deadline, `${what}: not within ${ms / 1000}s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
/** The NDJSON events of a --json run, each validated against schemas/events.schema.json; stdout holds nothing else. */
function events(result: ProcessResult): Record<string, any>[] {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  const validate = ajv.compile(JSON.parse(readFileSync(join(repoRoot, 'schemas', 'events.schema.json'), 'utf8')));
  const lines = result.stdout.split('\n').filter((line) => line !== '');
  assert.ok(lines.length > 0, `no events on stdout; stderr:\n${result.stderr}`);
  return lines.map((line, index) => {
    let event: Record<string, any>;
    try {
      event = JSON.parse(line) as Record<string, any>;
    } catch {
      assert.fail(`stdout line ${index + 1} is not JSON: ${line}`);
    }
    assert.ok(validate(event), `line ${index + 1} (${String(event.type)}) does not match the schema: ${JSON.stringify(validate.errors)}\n${line}`);
    return event;
  });
}

/** Removes everything of this suite's service from the hosts (never Traefik, the network or other services). */
async function cleanHosts(): Promise<void> {
  for (let i = 1; i <= bed.hosts.length; i += 1) {
    await bed.ssh(i, `ids=$(docker ps -aq --filter label=mrsk.service=${SERVICE}); [ -z "$ids" ] || docker rm -f $ids >/dev/null; rm -rf ~/.mrsk/${SERVICE}`, { timeoutMs: 60_000 });
  }
}

describe('day-two operations on the test bed', { timeout: 1_500_000 }, () => {
  before(async () => {
    assert.ok(await mrskHasCommand('deploy'), 'mrsk deploy is a registered command');
    bed = await bringUp(2);
    assert.ok(bed.hosts.length >= 2, `the bed has ${bed.hosts.length} host(s), the config names two`);
    hosts = bed.hosts.slice(0, 2);
    if (!(await registryHas(bed.env, 'demo-app', 'v2'))) await runOk('bash', [join(repoRoot, 'test', 'bed', 'build-app.sh'), 'v2'], { timeoutMs: 300_000 });
    // v4: a third version for prune (lifecycle.test.ts builds the same)
    if (!(await registryHas(bed.env, 'demo-app', 'v4'))) await runOk('bash', [join(repoRoot, 'test', 'bed', 'build-app.sh'), 'v4'], { timeoutMs: 300_000 });
    workDir = await mkdtemp(join(tmpdir(), 'mrsk-ops-e2e-'));
    await mkdir(join(workDir, 'config'));
    // The e2e config with another service name and a router of its own.
    const config = parse(await readFile(deployConfig, 'utf8')) as Record<string, any>;
    config.service = SERVICE;
    config.servers.web = {
      hosts: config.servers.web,
      traefik: { labels: { [`traefik.http.routers.${SERVICE}-web.rule`]: 'Host(`opsdemo.test`)' } },
    };
    config.builder.context = join(repoRoot, 'fixtures', 'app');
    config.aliases = { console: "app exec --interactive 'sh'", greet: "app exec --primary 'echo \"$APP_GREETING\"'" };
    configFile = join(workDir, 'config', 'deploy.yml');
    await writeFile(configFile, stringify(config));
    await cleanHosts();
    assertOk(await mrsk(['deploy', '--skip-push', '--version', 'v1'], { timeoutMs: 300_000 }), 'deploy v1');
    assertOk(await mrsk(['deploy', '--skip-push', '--version', 'v2'], { timeoutMs: 300_000 }), 'deploy v2');
    ready = true;
  });
  after(async () => {
    if (bed && workDir) {
      await cleanHosts();
      await rm(workDir, { recursive: true, force: true });
    }
  });

  test('app exec runs in a new container of the deployed version on every host, with env and secrets, grouped in host order', async (t) => {
    assert.ok(ready, 'the set-up (deploy v1 then v2) failed: see the before hook');
    const result = await mrsk(['app', 'exec', 'echo "version=$(cat /version) greeting=$APP_GREETING secret=$APP_SECRET"; hostname']);
    assertOk(result, 'app exec');
    assertNoSecret(result);
    const [h1, h2] = hosts as [string, string];
    assert.ok(result.stdout.indexOf(`App Host: ${h1}`) < result.stdout.indexOf(`App Host: ${h2}`), 'hosts in config order');
    for (const host of [h1, h2]) {
      // [REDACTED] proves the secret reached the one-off container (from the 0600 env file) and was hidden on the way back
      assert.match(section(result.stdout, host), /version=v2 greeting=hello from the test bed secret=\[REDACTED\]/);
    }
    // a new container each time: its hostname is not the running app container's
    const running = (await sshOk(1, `docker inspect -f '{{.Config.Hostname}}' ${SERVICE}-web-v2`)).trim();
    assert.ok(!section(result.stdout, h1).includes(running), 'ran in the running container, not a new one');
    // one-off containers are removed (--rm) and leave no env file behind
    const left = await sshOk(1, `docker ps -aq --filter label=mrsk.service=${SERVICE} | wc -l; ls ~/.mrsk/${SERVICE}/env`);
    assert.doesNotMatch(left, /-exec-/);
  });

  test('app exec --primary and --once run on the primary host only', async (t) => {
    assert.ok(ready, 'the set-up (deploy v1 then v2) failed: see the before hook');
    for (const flag of ['--primary', '--once']) {
      const result = await mrsk(['app', 'exec', flag, 'cat /version']);
      assertOk(result, `app exec ${flag}`);
      assert.match(result.stdout, new RegExp(`^App Host: ${hosts[0]!.replaceAll('.', '\\.')}\nv2\n`, 'm'));
      assert.ok(!result.stdout.includes(`App Host: ${hosts[1]}`), `${flag} ran on another host`);
    }
  });

  test('app exec --reuse runs inside the running container', async (t) => {
    assert.ok(ready, 'the set-up (deploy v1 then v2) failed: see the before hook');
    const result = await mrsk(['app', 'exec', '--reuse', 'hostname']);
    assertOk(result, 'app exec --reuse');
    for (let i = 1; i <= 2; i += 1) {
      const hostname = (await sshOk(i, `docker inspect -f '{{.Config.Hostname}}' ${SERVICE}-web-v2`)).trim();
      assert.equal(section(result.stdout, hosts[i - 1]!).trim(), hostname);
    }
  });

  test('a failing command: exit code of the single host; several hosts give 1 and a per-host summary', async (t) => {
    assert.ok(ready, 'the set-up (deploy v1 then v2) failed: see the before hook');
    const single = await mrsk(['app', 'exec', '--primary', 'echo before; exit 3']);
    assert.equal(single.code, 3, single.stdout + single.stderr);
    assert.match(section(single.stdout, hosts[0]!), /before\nerror: exit 3/);

    // Stop the app on host 2: exec --reuse then fails there only, and the others still report.
    assertOk(await mrsk(['app', 'stop', '--hosts', hosts[1]!]), 'app stop');
    try {
      const partial = await mrsk(['app', 'exec', '--reuse', 'cat /version']);
      assert.equal(partial.code, 1, partial.stdout + partial.stderr);
      assert.equal(section(partial.stdout, hosts[0]!).trim(), 'v2');
      assert.match(section(partial.stdout, hosts[1]!), /error: no running web container/);
      assert.match(partial.stdout, new RegExp(`Summary: 2 host\\(s\\), 1 failed\\n  ${hosts[0]!.replaceAll('.', '\\.')}\\s+ok\\n  ${hosts[1]!.replaceAll('.', '\\.')}\\s+FAILED`));
      const version = await mrsk(['app', 'version']);
      assert.equal(section(version.stdout, hosts[1]!).trim(), 'not running');
    } finally {
      const start = await mrsk(['app', 'start', '--hosts', hosts[1]!]);
      assertOk(start, 'app start');
      // the plan (host 2 only: host 1 serves already), then each container started, healthy and routed
      assert.match(start.stdout, new RegExp(`^mrsk will start ${SERVICE} version v2:$`, 'm'));
      assert.deepEqual(planHosts(start.stdout), [hosts[1]]);
      assert.match(start.stdout, new RegExp(`^  ~   container/${SERVICE}-web-v2  start requested$`, 'm'));
      for (const line of [`start ${SERVICE}-web-v2`, `wait until ${SERVICE}-web-v2 is healthy`, `wait until Traefik routes to ${SERVICE}-web-v2`]) {
        assert.match(start.stdout, new RegExp(`^  ${escape(hosts[1]!)}  ${escape(line)} ok \\(`, 'm'), line);
      }
      assert.match(start.stdout, new RegExp(`^Started ${SERVICE} on 1 host\\(s\\) in [\\d.]+s$`, 'm'));
    }
    const version = await mrsk(['app', 'version']);
    assert.deepEqual(hosts.map((h) => section(version.stdout, h).trim()), ['v2', 'v2']);
  });

  test('app exec -i (via mrsk console) gives a terminal on the primary host: typed input, tty, size and resize, Ctrl-C, the exit code', async (t) => {
    assert.ok(ready, 'the set-up (deploy v1 then v2) failed: see the before hook');
    const socket = `mrsk-ops-e2e-${process.pid}`;
    const exitFile = join(workDir, 'interactive.exit');
    const script = join(workDir, 'interactive.sh');
    const env = { ...bed.env, APP_SECRET: bed.appSecret, NO_COLOR: '1' };
    const exports = Object.entries(env).map(([k, v]) => `export ${k}='${String(v).replaceAll("'", `'\\''`)}'`).join('\n');
    // `mrsk console` runs the alias `app exec --interactive 'sh'`
    await writeFile(script, `${exports}\ncd '${repoRoot}'\n'${process.execPath}' bin/mrsk.js -c '${configFile}' console\necho "EXIT=$?" > '${exitFile}'\nsleep 30\n`);
    await chmod(script, 0o700);
    const tmux = (...args: string[]) => run('tmux', ['-L', socket, ...args], { timeoutMs: 20_000 });
    const pane = async () => (await tmux('capture-pane', '-p', '-t', 'ops')).stdout;
    const waitFor = async (what: RegExp, ms = 30_000) => {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        const text = await pane();
        if (what.test(text)) return text;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.fail(`the terminal never showed ${what}:\n${await pane()}`);
    };
    assert.equal((await tmux('new-session', '-d', '-s', 'ops', '-x', '120', '-y', '40', `sh '${script}'`)).code, 0);
    try {
      await waitFor(/^\/ # ?$/m); // busybox sh's prompt (capture-pane trims the trailing blank)
      await tmux('send-keys', '-t', 'ops', 'echo pty-$((6*7)) $(cat /version); tty', 'Enter');
      await waitFor(/^pty-42 v2$/m);
      await waitFor(/^\/dev\/pts\/\d+$/m); // the remote command has a terminal
      // the terminal's size, and a resize, reach the remote side
      await tmux('send-keys', '-t', 'ops', 'stty size', 'Enter');
      await waitFor(/^40 120$/m);
      await tmux('resize-window', '-t', 'ops', '-x', '100', '-y', '30');
      await new Promise((r) => setTimeout(r, 500));
      await tmux('send-keys', '-t', 'ops', 'stty size', 'Enter');
      await waitFor(/^30 100$/m);
      // Ctrl-C interrupts the remote command, not mrsk: the shell prompt comes back
      await tmux('send-keys', '-t', 'ops', 'sleep 60; echo not-interrupted', 'Enter');
      await new Promise((r) => setTimeout(r, 1000));
      const interrupted = Date.now();
      await tmux('send-keys', '-t', 'ops', 'C-c');
      await tmux('send-keys', '-t', 'ops', 'echo still-$((1+1))', 'Enter');
      await waitFor(/^still-2$/m, 10_000);
      assert.ok(Date.now() - interrupted < 10_000);
      assert.doesNotMatch(await pane(), /^not-interrupted$/m);
      await tmux('send-keys', '-t', 'ops', 'exit 7', 'Enter');
      const deadline = Date.now() + 20_000;
      let exit = '';
      while (Date.now() < deadline && !exit) {
        exit = await readFile(exitFile, 'utf8').catch(() => '');
        if (!exit) await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(exit.trim(), 'EXIT=7', `mrsk did not pass the exit code through:\n${await pane()}`);
    } finally {
      // leave the remote shell properly: a one-off whose terminal vanishes keeps running on the host
      if (!(await readFile(exitFile, 'utf8').catch(() => ''))) {
        await tmux('send-keys', '-t', 'ops', 'C-c');
        await tmux('send-keys', '-t', 'ops', 'exit', 'Enter');
        await new Promise((r) => setTimeout(r, 3000));
      }
      await tmux('kill-server');
    }
  });

  test('app logs groups per host; -f streams with a host prefix until Ctrl-C', async (t) => {
    assert.ok(ready, 'the set-up (deploy v1 then v2) failed: see the before hook');
    const grouped = await mrsk(['app', 'logs', '--roles', 'job', '--lines', '2']);
    assertOk(grouped, 'app logs');
    assert.match(section(grouped.stdout, hosts[1]!), /^job v2 working$/m);
    assert.ok(!grouped.stdout.includes(`App Host: ${hosts[0]}`), 'host 1 has no job role');
    const recent = await mrsk(['app', 'logs', '--roles', 'job', '--since', '1m']);
    assert.match(section(recent.stdout, hosts[1]!), /^job v2 working$/m);
    const future = await mrsk(['app', 'logs', '--roles', 'job', '--since', '2099-01-01T00:00:00']);
    assertOk(future, 'app logs --since (future)');
    assert.equal(section(future.stdout, hosts[1]!).trim(), '(no log lines)');
    const grepped = await mrsk(['app', 'logs', '--grep', 'nothing-like-this', '--lines', '50']);
    assert.deepEqual(hosts.map((h) => section(grepped.stdout, h).includes('job v2 working')), [false, false]);

    // The job prints a line every 5 s: with --lines 1, a second line can only come from following.
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'mrsk.js'), '-c', configFile, 'app', 'logs', '-f', '--lines', '1', '--grep', 'working'], {
      cwd: repoRoot,
      env: { ...process.env, ...bed.env, APP_SECRET: bed.appSecret, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const started = Date.now();
    const prefix = `${hosts[1]} | `;
    while (Date.now() - started < 30_000 && out.split('\n').filter((l) => l.startsWith(prefix)).length < 2) {
      await new Promise((r) => setTimeout(r, 200));
    }
    const lines = out.split('\n').filter((l) => l.startsWith(prefix));
    assert.ok(lines.length >= 2, `fewer than two followed lines in 30 s:\n${out}\n${err}`);
    // host 2 runs web and job: lines name their container too
    assert.ok(lines.every((l) => l === `${prefix}${SERVICE}-job-v2: job v2 working`), out);
    const interrupted = Date.now();
    child.kill('SIGINT');
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running'), 15_000))]);
    assert.equal(code, 0, `after Ctrl-C: ${code}\n${err}`);
    assert.ok(Date.now() - interrupted < 15_000);
    // no `docker logs -f` is left running on the host: the keep-alive (every 2 s) notices the closed channel
    const gone = Date.now();
    let leftover = '';
    do {
      await new Promise((r) => setTimeout(r, 1000));
      // [d] keeps pgrep (and the ssh running it) from matching their own command lines
      leftover = (await bed.ssh(2, `pgrep -af '[d]ocker logs --tail 1 --follow ${SERVICE}-' || true`)).stdout;
    } while (leftover.trim() !== '' && Date.now() - gone < 10_000);
    assert.equal(leftover.trim(), '', 'a remote follower outlived mrsk');
    console.log(`remote followers gone ${((Date.now() - gone) / 1000).toFixed(1)}s after mrsk exited`);
  });

  test('app containers marks v2 current and v1 a rollback target; details lists Traefik and the app', async (t) => {
    assert.ok(ready, 'the set-up (deploy v1 then v2) failed: see the before hook');
    const text = await mrsk(['app', 'containers']);
    assertOk(text, 'app containers');
    assert.match(section(text.stdout, hosts[0]!), new RegExp(`${SERVICE}-web-v2\\s+web\\s+v2\\s+running \\(healthy\\).*current`));
    assert.match(section(text.stdout, hosts[0]!), new RegExp(`${SERVICE}-web-v1\\s+web\\s+v1\\s+exited.*rollback target`));
    assert.match(text.stdout, /Rollback targets on every selected host: v1/);
    const json = await mrsk(['app', 'containers', '--json']);
    assertOk(json, 'app containers --json');
    const doc = JSON.parse(json.stdout) as { version: string; rollbackTargets: string[]; hosts: Record<string, { containers: { name: string; mark: string }[] }> };
    assert.equal(doc.version, 'v2');
    assert.deepEqual(doc.rollbackTargets, ['v1']);
    assert.deepEqual(
      doc.hosts[hosts[1]!]!.containers.map((c) => [c.name, c.mark]).sort(),
      [[`${SERVICE}-job-v1`, 'rollback target'], [`${SERVICE}-job-v2`, 'current'], [`${SERVICE}-web-v1`, 'rollback target'], [`${SERVICE}-web-v2`, 'current']],
    );

    const details = await mrsk(['details', '--json']);
    assertOk(details, 'details --json');
    const d = JSON.parse(details.stdout) as { hosts: Record<string, { traefik: { names: string; state: string }[]; app: { names: string }[] }> };
    for (const host of hosts) {
      assert.deepEqual(d.hosts[host]!.traefik.map((c) => [c.names, c.state]), [['traefik', 'running']]);
    }
    assert.deepEqual(d.hosts[hosts[1]!]!.app.map((c) => c.names).sort(), [`${SERVICE}-job-v2`, `${SERVICE}-web-v2`]);
    const plain = await mrsk(['details']);
    assert.match(plain.stdout, new RegExp(`Traefik Host: ${hosts[0]!.replaceAll('.', '\\.')}\\nCONTAINER ID\\s+IMAGE\\s+STATUS`));
    const images = await mrsk(['app', 'images']);
    assertOk(images, 'app images');
    assert.match(section(images.stdout, hosts[0]!), /demo-app\s+v2\s+[0-9a-f]{12}/);
  });

  test('two concurrent deploys: one rolls out, the other fails with the holder’s details and changes nothing', async (t) => {
    assert.ok(ready, 'the set-up (deploy v1 then v2) failed: see the before hook');
    const before = await mrsk(['audit', '--json']);
    const countBefore = (JSON.parse(before.stdout) as { hosts: Record<string, { entries: unknown[] }> }).hosts[hosts[0]!]!.entries.length;
    const [a, b] = await Promise.all([
      mrsk(['deploy', '--skip-push', '--version', 'v1'], { timeoutMs: 300_000 }),
      mrsk(['deploy', '--skip-push', '--version', 'v1'], { timeoutMs: 300_000 }),
    ]);
    const codes = [a.code, b.code].sort();
    assert.deepEqual(codes, [0, 75], `exit codes ${a.code} / ${b.code}\nA:\n${a.stdout}${a.stderr}\nB:\n${b.stdout}${b.stderr}`);
    const loser = a.code === 75 ? a : b;
    assert.match(loser.stderr, /the deploy lock on \S+ is held by \S+@\S+ since \S+ for `deploy v1`, lease until/);
    assert.match(loser.stderr, /--lock-wait/);
    assertNoSecret(loser);
    // Nothing half-done: one running container of v1 per role, the lock free, one audit record of the rollout.
    const version = await mrsk(['app', 'version']);
    assert.deepEqual(hosts.map((h) => section(version.stdout, h).trim()), ['v1', 'v1']);
    const running = await sshOk(2, `docker ps --filter label=mrsk.service=${SERVICE} --format '{{.Names}}' | sort`);
    assert.deepEqual(running.trim().split('\n'), [`${SERVICE}-job-v1`, `${SERVICE}-web-v1`]);
    const status = JSON.parse((await mrsk(['lock', 'status', '--json'])).stdout) as { hosts: Record<string, { state: string }> };
    assert.deepEqual(Object.values(status.hosts).map((s) => s.state), ['unlocked', 'unlocked']);
    const audit = JSON.parse((await mrsk(['audit', '--json'])).stdout) as { hosts: Record<string, { entries: { message?: string }[] }> };
    const added = audit.hosts[hosts[0]!]!.entries.slice(countBefore).map((e) => e.message ?? '');
    assert.equal(added.filter((m) => m.startsWith('deploy v1: applied')).length, 1, added.join('\n'));
    assert.equal(added.filter((m) => m.includes('FAILED')).length, 0, added.join('\n'));

    // With --lock-wait the second one waits its turn and both succeed.
    const [c, d] = await Promise.all([
      mrsk(['deploy', '--skip-push', '--version', 'v2', '--lock-wait', '240'], { timeoutMs: 400_000 }),
      mrsk(['deploy', '--skip-push', '--version', 'v2', '--lock-wait', '240'], { timeoutMs: 400_000 }),
    ]);
    assertOk(c, 'deploy v2 (waiting)');
    assertOk(d, 'deploy v2 (waiting)');
    const after = await mrsk(['app', 'version']);
    assert.deepEqual(hosts.map((h) => section(after.stdout, h).trim()), ['v2', 'v2']);
  });

  test('lock acquire blocks deploys and traefik reboot with its message; release frees them', async (t) => {
    assert.ok(ready, 'the set-up (deploy v1 then v2) failed: see the before hook');
    assertOk(await mrsk(['lock', 'acquire', '-m', 'migrating the database']), 'lock acquire');
    try {
      const status = await mrsk(['lock', 'status', '--json']);
      const doc = JSON.parse(status.stdout) as { hosts: Record<string, { state: string; message: string; command: string; stale: boolean }> };
      for (const host of hosts) {
        assert.equal(doc.hosts[host]!.state, 'locked');
        assert.equal(doc.hosts[host]!.message, 'migrating the database');
        assert.equal(doc.hosts[host]!.stale, false);
      }
      // someone else (another user) cannot deploy, nor reboot Traefik; nothing changes
      const other = { MRSK_USER: 'someone-else' };
      const deploy = await mrsk(['deploy', '--skip-push', '--version', 'v1'], { env: other });
      assert.equal(deploy.code, 75, deploy.stdout + deploy.stderr);
      assert.match(deploy.stderr, /for `lock acquire` \("migrating the database"\)/);
      const traefikBefore = await traefikIds();
      const reboot = await mrsk(['traefik', 'reboot'], { env: other });
      assert.equal(reboot.code, 75, reboot.stdout + reboot.stderr);
      assert.match(reboot.stderr, /for `lock acquire` \("migrating the database"\)/);
      assert.doesNotMatch(reboot.stdout, /Rebooted Traefik| ok \(/);
      assert.deepEqual(await traefikIds(), traefikBefore, 'Traefik was replaced under a lock held by someone else');
      const release = await mrsk(['lock', 'release'], { env: other });
      assert.equal(release.code, 75, 'someone else releases only with --force');
      const version = await mrsk(['app', 'version']);
      assert.deepEqual(hosts.map((h) => section(version.stdout, h).trim()), ['v2', 'v2']);
    } finally {
      assertOk(await mrsk(['lock', 'release']), 'lock release');
    }
    const status = await mrsk(['lock', 'status']);
    assert.match(status.stdout, new RegExp(`^${hosts[0]!.replaceAll('.', '\\.')}: unlocked$`, 'm'));
  });

  test('a stale lock is reported as such and --force takes it over', async (t) => {
    assert.ok(ready, 'the set-up (deploy v1 then v2) failed: see the before hook');
    // a lock whose holder died: its lease ran out
    assertOk(await mrsk(['lock', 'acquire', '-m', 'crashed run', '--lease', '1'], { env: { MRSK_USER: 'ghost' } }), 'lock acquire --lease 1');
    await new Promise((r) => setTimeout(r, 1500));
    const status = await mrsk(['lock', 'status']);
    assert.match(status.stdout, /held by ghost@\S+ .*STALE/);
    const refused = await mrsk(['lock', 'acquire', '-m', 'mine']);
    assert.equal(refused.code, 75);
    assert.match(refused.stderr, /Run again with --force to take it over/);
    assertOk(await mrsk(['lock', 'acquire', '-m', 'mine', '--force']), 'lock acquire --force');
    assertOk(await mrsk(['lock', 'release']), 'lock release');
  });

  test('audit shows who did what and when, per host', async (t) => {
    assert.ok(ready, 'the set-up (deploy v1 then v2) failed: see the before hook');
    const text = await mrsk(['audit', '--lines', '200']);
    assertOk(text, 'audit');
    for (const host of hosts) {
      const log = section(text.stdout, host, 'Audit');
      assert.match(log, /^\[\d{4}-\d\d-\d\dT[\d:.]+Z\] \[[^\]]+@[^\]]+\] deploy v2: applied \d+ steps, version v2$/m);
    }
    assert.match(section(text.stdout, hosts[0]!, 'Audit'), /app exec echo "version=\$\(cat \/version\).*version v2$/m);
    assert.match(section(text.stdout, hosts[0]!, 'Audit'), /\] lock acquire: migrating the database$/m);
    assert.match(section(text.stdout, hosts[1]!, 'Audit'), /\] app stop: applied \d+ steps, version v2$/m);
    assert.match(section(text.stdout, hosts[1]!, 'Audit'), /\] app start: applied \d+ steps, version v2$/m);
    const json = JSON.parse((await mrsk(['audit', '--json', '-n', '3'])).stdout) as { hosts: Record<string, { entries: { time: string; performer: string; message: string }[] }> };
    for (const host of hosts) {
      const entries = json.hosts[host]!.entries;
      assert.equal(entries.length, 3);
      for (const e of entries) {
        assert.ok(!Number.isNaN(Date.parse(e.time)), e.time);
        assert.match(e.performer, /@/);
      }
    }
    assertNoSecret(text);
  });

  test('registry login and logout here and on the hosts, password never shown', async (t) => {
    assert.ok(ready, 'the set-up (deploy v1 then v2) failed: see the before hook');
    const login = await mrsk(['registry', 'login']);
    assertOk(login, 'registry login');
    assertNoSecret(login);
    for (const host of hosts) assert.equal(section(login.stdout, host, 'Registry').trim(), `logged in to ${bed.registry} as mrsk`);
    const logout = await mrsk(['registry', 'logout', '--skip-local', '--hosts', hosts[1]!]);
    assertOk(logout, 'registry logout');
    const auth = await bed.ssh(2, 'cat ~/.docker/config.json');
    assert.ok(!auth.stdout.includes(`"${bed.registry}"`), `still logged in on host 2:\n${auth.stdout}`);
    assertOk(await mrsk(['registry', 'login', '--skip-local', '--hosts', hosts[1]!]), 'registry login again');
  });

  test('traefik details and logs; with MRSK_E2E_TRAEFIK_REBOOT=1 also reboot (rolling), stop, start, restart, remove and boot, checked through Traefik', async (t) => {
    assert.ok(ready, 'the set-up (deploy v1 then v2) failed: see the before hook');
    const details = await mrsk(['traefik', 'details']);
    assertOk(details, 'traefik details');
    for (const host of hosts) assert.match(section(details.stdout, host, 'Traefik'), /traefik:v3\.6\s+Up /);
    const logs = await mrsk(['traefik', 'logs', '--lines', '5']);
    assertOk(logs, 'traefik logs');
    if (process.env.MRSK_E2E_TRAEFIK_REBOOT !== '1') return t.skip('set MRSK_E2E_TRAEFIK_REBOOT=1 to restart the shared Traefik');
    const before = await traefikIds();
    const reboot = await mrsk(['traefik', 'reboot']);
    assertOk(reboot, 'traefik reboot');
    // the plan: each host replaced in a batch of its own, in config order
    assert.match(reboot.stdout, new RegExp(`^mrsk will replace Traefik on the hosts of ${SERVICE}, one host after the other:$`, 'm'));
    assert.deepEqual(planBatches(reboot.stdout), [[hosts[0], 1], [hosts[1], 2]]);
    assert.equal(reboot.stdout.match(/^  -\/\+ traefik  replace requested$/gm)?.length, 2, reboot.stdout);
    // the run: host 2 is touched only once host 1 answers and routes the app again
    assertRolling(reboot.stdout, 'traefik reboot');
    assert.match(reboot.stdout, /^Rebooted Traefik on 2 host\(s\) in [\d.]+s$/m);
    const after = await traefikIds();
    for (const [i, id] of after.entries()) assert.ok(id && id !== before[i], `host ${i + 1}: Traefik was not replaced (${before[i]} -> ${id})`);
    assert.deepEqual(await servedThroughTraefik(), ['v2', 'v2']);

    const stop = await mrsk(['traefik', 'stop']);
    assertOk(stop, 'traefik stop');
    assert.match(stop.stdout, new RegExp(`^mrsk will stop Traefik on the hosts of ${SERVICE}:$`, 'm'));
    assert.match(stop.stdout, /^Stopped Traefik on 2 host\(s\)/m);
    assert.deepEqual(await servedThroughTraefik(false), ['none', 'none']);
    const start = await mrsk(['traefik', 'start']);
    assertOk(start, 'traefik start');
    for (const host of hosts) assert.match(start.stdout, new RegExp(`^  ${escape(host)}  wait until Traefik routes to ${SERVICE}-web-v2 ok \\(`, 'm'));
    assert.deepEqual(await traefikIds(), after, 'start starts the same containers');
    const restart = await mrsk(['traefik', 'restart']);
    assertOk(restart, 'traefik restart');
    assert.deepEqual(planBatches(restart.stdout), [[hosts[0], 1], [hosts[1], 2]]);
    assertRolling(restart.stdout, 'traefik restart');
    assert.deepEqual(await servedThroughTraefik(), ['v2', 'v2']);

    assert.equal((await mrsk(['traefik', 'remove'])).code, 64, 'remove asks first; without a terminal it refuses (exit 64: add -y)');
    assert.deepEqual(await traefikIds(), after, 'a refused remove removed something');
    const remove = await mrsk(['traefik', 'remove', '-y']);
    assertOk(remove, 'traefik remove');
    assert.match(remove.stdout, new RegExp(`^mrsk will remove Traefik on the hosts of ${SERVICE}:$`, 'm'));
    const gone = await mrsk(['traefik', 'details']);
    for (const host of hosts) assert.equal(section(gone.stdout, host, 'Traefik').trim(), 'no containers');
    const boot = await mrsk(['traefik', 'boot']);
    assertOk(boot, 'traefik boot');
    for (const host of hosts) {
      assert.match(boot.stdout, new RegExp(`^  ${escape(host)}  start Traefik \\(\\S+/traefik:v3\\.6\\) ok \\(`, 'm'));
      assert.match(boot.stdout, new RegExp(`^  ${escape(host)}  wait until Traefik routes to ${SERVICE}-web-v2 ok \\(`, 'm'));
    }
    assert.match(boot.stdout, /^Booted Traefik on 2 host\(s\)/m);
    // booted already: nothing to do, nothing run
    const again = await mrsk(['traefik', 'boot']);
    assertOk(again, 'traefik boot (again)');
    assert.match(again.stdout, /^No changes\. Hosts match the configuration\./m);
    assert.deepEqual(progressLines(again.stdout), []);
    assert.deepEqual(await servedThroughTraefik(), ['v2', 'v2']);
  });

  test('traefik reboot --json: plan, step and summary events, each host its own batch; under load never both hosts out at once', async (t) => {
    assert.ok(ready, 'the set-up (deploy v1 then v2) failed: see the before hook');
    if (process.env.MRSK_E2E_TRAEFIK_REBOOT !== '1') return t.skip('set MRSK_E2E_TRAEFIK_REBOOT=1 to restart the shared Traefik');
    assert.deepEqual(await servedThroughTraefik(), ['v2', 'v2']);
    const traffic = loadByHost(hosts);
    await until('both hosts serve the load', () => hosts.every((h) => traffic.answers.filter((a) => a.host === h && a.status === 200).length >= 5));
    const result = await mrsk(['traefik', 'reboot', '--json']);
    const answers = await traffic.stop();
    assertOk(result, 'traefik reboot --json');
    const stream = events(result);
    assert.equal(stream[0]!.type, 'plan');
    assert.equal(stream.at(-1)!.type, 'summary');
    assert.equal(stream.filter((e) => e.type === 'plan' || e.type === 'summary').length, 2, 'one plan, one summary');
    const summary = stream.at(-1)!;
    assert.equal(summary.command, 'traefik reboot');
    assert.equal(summary.ok, true);
    assert.equal(summary.exit_code, 0);
    const plan = stream[0]!.plan as { mode: string; target: string; steps: { id: string; host: string; batch: number }[] };
    assert.equal(plan.target, 'traefik');
    // each host in a batch of its own, host 1's first
    const batchOf = (host: string) => [...new Set(plan.steps.filter((st) => st.host === host).map((st) => st.batch))];
    assert.equal(batchOf(hosts[0]!).length, 1);
    assert.equal(batchOf(hosts[1]!).length, 1);
    assert.ok(batchOf(hosts[0]!)[0]! < batchOf(hosts[1]!)[0]!, `batches: ${JSON.stringify(plan.steps.map((st) => [st.host, st.batch]))}`);
    assert.deepEqual([...new Set(plan.steps.map((st) => st.host))].sort(), [...hosts].sort());
    // every planned step started and finished done, host 2's only after host 1's were all done
    const finished = stream.filter((e) => e.type === 'step_finished');
    assert.deepEqual(finished.map((e) => e.step).sort(), plan.steps.map((st) => st.id).sort());
    assert.ok(finished.every((e) => e.status === 'done'), JSON.stringify(finished.filter((e) => e.status !== 'done')));
    const lastOf1 = stream.findLastIndex((e) => e.type === 'step_finished' && e.host === hosts[0]);
    const firstOf2 = stream.findIndex((e) => e.type === 'step_started' && e.host === hosts[1]);
    assert.ok(lastOf1 >= 0 && lastOf1 < firstOf2, 'host 2 started before host 1 was done');
    assert.equal(stream[lastOf1]!.kind, 'traefik-wait-up', 'host 1 ends with Traefik routing the app again');
    assert.match(result.stderr, /Rebooted Traefik on 2 host\(s\)/, 'the human lines go to stderr');
    // the load: each host is out only while its own Traefik restarts, one after the other
    const out = hosts.map((h) => answers.filter((a) => a.host === h && a.status !== 200));
    const window = (list: Answer[]) => (list.length ? `${list[0]!.at}-${list.at(-1)!.at}ms` : 'none');
    console.log(`traefik reboot under load: ${answers.length} requests; not served: host 1 ${out[0]!.length} (${window(out[0]!)}), host 2 ${out[1]!.length} (${window(out[1]!)})`);
    if (out[0]!.length && out[1]!.length) assert.ok(out[0]!.at(-1)!.at < out[1]![0]!.at, `both hosts were out at once: host 1 ${window(out[0]!)}, host 2 ${window(out[1]!)}`);
    for (const h of hosts) assert.ok(answers.filter((a) => a.host === h).at(-1)!.status === 200, `${h} does not serve after the reboot`);
    assert.deepEqual(await servedThroughTraefik(), ['v2', 'v2']);
  });

  test('app stop under load drains each web container before stopping it (every answer 200 or 404, none lost); app start serves again at once', async () => {
    assert.ok(ready, 'the set-up (deploy v1 then v2) failed: see the before hook');
    assert.deepEqual(await servedThroughTraefik(), ['v2', 'v2']);
    const hostnames = await Promise.all(hosts.map(async (_h, i) => (await sshOk(i + 1, `docker inspect -f '{{.Config.Hostname}}' ${SERVICE}-web-v2`)).trim()));
    const servedByApp = (a: Answer) => a.status === 200 && a.body === `v2 ${hostnames[hosts.indexOf(a.host)]}`;
    const traffic = loadByHost(hosts);
    let started = false;
    try {
      await until('both hosts serve the load', () => hosts.every((h) => traffic.answers.filter((a) => a.host === h && servedByApp(a)).length >= 5));
      const stop = await mrsk(['app', 'stop', '--json']);
      const stoppedAt = traffic.answers.length;
      // keep asking a little longer: the stopped app must stay unrouted, without errors
      await until('answers after the stop', () => hosts.every((h) => traffic.answers.slice(stoppedAt).filter((a) => a.host === h).length >= 5));
      const answers = await traffic.stop();
      assertOk(stop, 'app stop --json');
      const stream = events(stop);
      const plan = stream[0]!.plan as { mode: string; target: string };
      assert.deepEqual([plan.mode, plan.target], ['stop', 'app']);
      // each web container: drained from Traefik (quickly: its service goes with its last server), then stopped
      for (const host of hosts) {
        const address = `${host}/container/${SERVICE}-web-v2`;
        const drained = stream.findIndex((e) => e.type === 'step_finished' && e.address === address && e.kind === 'container-drain' && e.status === 'done');
        const stopping = stream.findIndex((e) => e.type === 'step_started' && e.address === address && e.kind === 'container-stop');
        assert.ok(drained >= 0 && drained < stopping, `${host}: ${SERVICE}-web-v2 was stopped before Traefik stopped routing to it`);
        assert.ok(stream[drained]!.duration_ms < 20_000, `${host}: the drain took ${stream[drained]!.duration_ms} ms (waited for its deadline)`);
      }
      assert.equal(stream.at(-1)!.ok, true);
      // In-flight requests are the ones a stop before the drain would cut: they would come back as
      // 502 from Traefik or no answer at all. A stopped app is not routed: 404 from Traefik.
      const bad = answers.filter((a) => a.status !== 200 && a.status !== 404);
      console.log(`app stop under load: ${answers.length} requests, ${answers.filter(servedByApp).length} served by the app, ${answers.filter((a) => a.status === 404).length} not routed (404), ${bad.length} otherwise`);
      assert.deepEqual(bad, [], 'answers other than 200 and 404 while the app stopped');
      for (const host of hosts) {
        const mine = answers.filter((a) => a.host === host);
        const firstOut = mine.findIndex((a) => !servedByApp(a));
        assert.ok(firstOut > 0, `${host}: never stopped serving, or never served`);
        assert.ok(mine.slice(firstOut).every((a) => !servedByApp(a)), `${host}: served again after it stopped serving`);
      }
      const version = await mrsk(['app', 'version']);
      assert.deepEqual(hosts.map((h) => section(version.stdout, h).trim()), ['not running', 'not running']);

      const start = await mrsk(['app', 'start']);
      started = true;
      assertOk(start, 'app start');
      // app start waited until Traefik routes each container: the very first request is served, no polling
      const first = await Promise.all(hosts.map((h) => getWithHost(h, `${SERVICE}.test`)));
      assert.deepEqual(first.map((a) => [a.status, a.body]), hosts.map((_h, i) => [200, `v2 ${hostnames[i]}`]));
      assert.match(start.stdout, /^Started opsdemo on 2 host\(s\) in [\d.]+s$/m);
    } finally {
      await traffic.stop();
      // the later tests need the app serving, whatever failed here
      if (!started) await mrsk(['app', 'start']);
    }
  });

  test('remove -y of another app on the same hosts: its containers, images and ~/.mrsk folder go; Traefik, the network and this app stay, serving throughout', async () => {
    assert.ok(ready, 'the set-up (deploy v1 then v2) failed: see the before hook');
    const OTHER = 'opsgone';
    // its own image repository, so that "its images go" can be checked apart from this app's
    const dockerEnv = { DOCKER_HOST: bed.env.MRSK_TESTBED_BUILDER_DOCKER_HOST ?? '', DOCKER_CONFIG: bed.env.MRSK_TESTBED_BUILDER_DOCKER_CONFIG ?? '' };
    const image = `${bed.registry}/ops-gone-app`;
    await runOk('docker', ['pull', '-q', `${bed.registry}/demo-app:v2`], { env: dockerEnv, timeoutMs: 120_000 });
    await runOk('docker', ['tag', `${bed.registry}/demo-app:v2`, `${image}:v1`], { env: dockerEnv });
    await runOk('docker', ['push', '-q', `${image}:v1`], { env: dockerEnv, timeoutMs: 120_000 });
    const config = parse(await readFile(deployConfig, 'utf8')) as Record<string, any>;
    config.service = OTHER;
    config.image = image;
    config.servers = { web: { hosts, traefik: { labels: { [`traefik.http.routers.${OTHER}-web.rule`]: `Host(\`${OTHER}.test\`)` } } } };
    config.builder.context = join(repoRoot, 'fixtures', 'app');
    await mkdir(join(workDir, OTHER, 'config'), { recursive: true });
    const otherConfig = join(workDir, OTHER, 'config', 'deploy.yml');
    await writeFile(otherConfig, stringify(config));
    const other = (args: string[]) => bed.mrsk(['-c', otherConfig, ...args], { timeoutMs: 300_000 });
    try {
      assertOk(await other(['deploy', '--skip-push', '--version', 'v1']), `deploy ${OTHER}`);
      await until(`${OTHER} serves through Traefik`, async () => (await Promise.all(hosts.map((h) => getWithHost(h, `${OTHER}.test`)))).every((a) => a.status === 200));
      const traefikBefore = await traefikIds();
      const traffic = loadByHost(hosts);
      const removed = await other(['remove', '-y']);
      const answers = await traffic.stop();
      assertOk(removed, `remove ${OTHER}`);
      assert.match(removed.stdout, new RegExp(`^mrsk will remove ${OTHER} from the hosts:$`, 'm'));
      assert.doesNotMatch(removed.stdout, /^  -\s+traefik\b|network\/mrsk/m, 'the plan removes Traefik or the network another app uses');
      assert.match(removed.stdout, new RegExp(`^Removed ${OTHER} from 2 host\\(s\\)\\.$`, 'm'));
      const failed = answers.filter((a) => a.status !== 200);
      console.log(`remove of ${OTHER} under load on ${SERVICE}: ${answers.length} requests, ${failed.length} failed`);
      assert.deepEqual(failed, [], `${SERVICE} did not serve every request while ${OTHER} was removed`);
      assert.deepEqual(await traefikIds(), traefikBefore, 'Traefik was replaced or removed');
      for (let i = 1; i <= hosts.length; i += 1) {
        const left = await sshOk(i, `docker ps -aq --filter label=mrsk.service=${OTHER}; docker images --format '{{.Repository}}:{{.Tag}}' | grep -F ops-gone-app; ls -d ~/.mrsk/${OTHER} 2>/dev/null; true`);
        assert.equal(left.trim(), '', `host ${i} still has some of ${OTHER}:\n${left}`);
        assert.equal((await sshOk(i, "docker inspect -f '{{.State.Running}}' traefik; docker network inspect -f '{{.Name}}' mrsk")).trim(), 'true\nmrsk');
        // the image both apps ran (one id, two repositories) keeps this app's tag, and the host its registry login
        await sshOk(i, `docker image inspect -f '{{.Id}}' ${bed.registry}/demo-app:v2`);
        assert.ok((await sshOk(i, 'cat ~/.docker/config.json')).includes(`"${bed.registry}"`), `host ${i} was logged out of the registry ${SERVICE} pulls from`);
      }
      assert.deepEqual(await servedThroughTraefik(), ['v2', 'v2']);
      assert.ok((await Promise.all(hosts.map((h) => getWithHost(h, `${OTHER}.test`)))).every((a) => a.status === 404), `${OTHER} is still routed`);
    } finally {
      for (let i = 1; i <= hosts.length; i += 1) {
        await bed.ssh(i, `ids=$(docker ps -aq --filter label=mrsk.service=${OTHER}); [ -z "$ids" ] || docker rm -f $ids >/dev/null; rm -rf ~/.mrsk/${OTHER}`, { timeoutMs: 60_000 });
      }
    }
  });

  test('an alias from the config runs its mrsk command line', async (t) => {
    assert.ok(ready, 'the set-up (deploy v1 then v2) failed: see the before hook');
    const greet = await mrsk(['alias', 'greet']);
    assertOk(greet, 'alias greet');
    assert.equal(section(greet.stdout, hosts[0]!).trim(), 'hello from the test bed');
    assert.ok(!greet.stdout.includes(`App Host: ${hosts[1]}`), 'greet is --primary');
    // as in Kamal, `mrsk NAME` runs the alias too, and a typo gets a suggestion
    const direct = await mrsk(['greet']);
    assertOk(direct, 'mrsk greet');
    assert.equal(section(direct.stdout, hosts[0]!).trim(), 'hello from the test bed');
    const typo = await mrsk(['gret']);
    assert.equal(typo.code, 64);
    assert.match(typo.stderr, /unknown command 'gret'\. Did you mean greet\?/);
    const missing = await mrsk(['alias', 'nope']);
    assert.equal(missing.code, 64);
    assert.match(missing.stderr, /no alias nope in the config \(aliases: console, greet\)/);
  });

  test('prune shows its plan and removes only stopped containers beyond retain_containers and unused images, never the running or the newest retained one', async () => {
    assert.ok(ready, 'the set-up (deploy v1 then v2) failed: see the before hook');
    assertOk(await mrsk(['deploy', '--skip-push', '--version', 'v4'], { timeoutMs: 300_000 }), 'deploy v4');
    const listing = async (i: number) => (await sshOk(i, `docker ps -a --filter label=mrsk.service=${SERVICE} --format '{{.Names}} {{.State}}' | sort`)).trim().split('\n');
    assert.deepEqual(await listing(1), [`${SERVICE}-web-v1 exited`, `${SERVICE}-web-v2 exited`, `${SERVICE}-web-v4 running`]);
    // the same app keeping one stopped container per role
    const config = parse(await readFile(configFile, 'utf8')) as Record<string, any>;
    config.retain_containers = 1;
    await mkdir(join(workDir, 'prune', 'config'), { recursive: true });
    const pruneConfig = join(workDir, 'prune', 'config', 'deploy.yml');
    await writeFile(pruneConfig, stringify(config));
    const prune = await bed.mrsk(['-c', pruneConfig, 'prune'], { timeoutMs: 180_000 });
    assertOk(prune, 'prune');
    assert.match(prune.stdout, new RegExp(`^mrsk will prune ${SERVICE} \\(keeping version v4 and the retained ones\\):$`, 'm'));
    assert.deepEqual(planHosts(prune.stdout), hosts);
    for (const name of [`${SERVICE}-web-v1`, `${SERVICE}-job-v1`]) assert.match(prune.stdout, new RegExp(`^  -\\s+container/${name}\\s+older than the 1 retained stopped container of role`, 'm'));
    assert.equal(prune.stdout.match(/^  -\s+container\/\S+/gm)?.length, 3, 'web v1 on both hosts, job v1 on host 2');
    assert.doesNotMatch(prune.stdout, new RegExp(`container/${SERVICE}-\\w+-v[24]\\b`), 'the plan touches the running or the retained version');
    assert.match(prune.stdout, /^Pruned on 2 host\(s\)\.$/m);
    assert.deepEqual(await listing(1), [`${SERVICE}-web-v2 exited`, `${SERVICE}-web-v4 running`]);
    assert.deepEqual(await listing(2), [`${SERVICE}-job-v2 exited`, `${SERVICE}-job-v4 running`, `${SERVICE}-web-v2 exited`, `${SERVICE}-web-v4 running`]);
    for (let i = 1; i <= hosts.length; i += 1) {
      const tags = (await sshOk(i, `docker images --format '{{.Tag}}' ${bed.registry}/demo-app | sort`)).trim().split('\n');
      assert.deepEqual(tags, ['v2', 'v4'], `host ${i}: the image of v1 goes, the retained and running ones stay`);
    }
    assert.deepEqual(await servedThroughTraefik(), ['v4', 'v4']);
    const audit = JSON.parse((await mrsk(['audit', '--json', '-n', '1'])).stdout) as { hosts: Record<string, { entries: { message: string }[] }> };
    for (const host of hosts) assert.match(audit.hosts[host]!.entries[0]!.message, /^prune all: applied \d+ steps, version v4$/);
    // again: nothing left to prune, nothing run
    const again = await bed.mrsk(['-c', pruneConfig, 'prune'], { timeoutMs: 180_000 });
    assertOk(again, 'prune (again)');
    assert.match(again.stdout, /^Nothing to prune\.$/m);
    assert.deepEqual(progressLines(again.stdout), []);
  });
});
