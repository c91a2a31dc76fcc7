// The day-two commands on the test bed, run as a user runs them (the real bin, real sshd,
// dockerd, registry and Traefik): app exec on all hosts / the primary / reusing the running
// container / with a failing host, an interactive exec through a pseudo-terminal (tmux), logs
// followed until Ctrl-C, lock contention between two concurrent deploys, and the audit log.
//
// It deploys its own service (`opsdemo`, routed only for Host(`opsdemo.test`)) from a copy of
// the e2e config, so the other suites' `demo` containers and traffic are never touched. The bed
// is shared: this file never takes it down. Set MRSK_E2E_TRAEFIK_REBOOT=1 to also run the Traefik
// lifecycle (rolling reboot, stop, start, restart, remove, boot): it restarts the Traefik other
// suites route through, so run it on a bed of your own (TESTBED_DIR/PREFIX/NET/REGISTRY_PORT).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { bringUp, deployConfig, mrskHasCommand, registryHas, repoRoot, run, runOk, type Bed, type ProcessResult } from './harness.ts';

process.env.MRSK_E2E_KEEP_BED = '1'; // shared bed: never taken down from here
const SERVICE = 'opsdemo';

let bed: Bed;
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
      bed.hosts.map(async (host) => {
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
    if (!(await registryHas(bed.env, 'demo-app', 'v2'))) await runOk('bash', [join(repoRoot, 'test', 'bed', 'build-app.sh'), 'v2'], { timeoutMs: 300_000 });
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
    const [h1, h2] = bed.hosts as [string, string];
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
      assert.match(result.stdout, new RegExp(`^App Host: ${bed.hosts[0]!.replaceAll('.', '\\.')}\nv2\n`, 'm'));
      assert.ok(!result.stdout.includes(`App Host: ${bed.hosts[1]}`), `${flag} ran on another host`);
    }
  });

  test('app exec --reuse runs inside the running container', async (t) => {
    assert.ok(ready, 'the set-up (deploy v1 then v2) failed: see the before hook');
    const result = await mrsk(['app', 'exec', '--reuse', 'hostname']);
    assertOk(result, 'app exec --reuse');
    for (let i = 1; i <= 2; i += 1) {
      const hostname = (await sshOk(i, `docker inspect -f '{{.Config.Hostname}}' ${SERVICE}-web-v2`)).trim();
      assert.equal(section(result.stdout, bed.hosts[i - 1]!).trim(), hostname);
    }
  });

  test('a failing command: exit code of the single host; several hosts give 1 and a per-host summary', async (t) => {
    assert.ok(ready, 'the set-up (deploy v1 then v2) failed: see the before hook');
    const single = await mrsk(['app', 'exec', '--primary', 'echo before; exit 3']);
    assert.equal(single.code, 3, single.stdout + single.stderr);
    assert.match(section(single.stdout, bed.hosts[0]!), /before\nerror: exit 3/);

    // Stop the app on host 2: exec --reuse then fails there only, and the others still report.
    assertOk(await mrsk(['app', 'stop', '--hosts', bed.hosts[1]!]), 'app stop');
    try {
      const partial = await mrsk(['app', 'exec', '--reuse', 'cat /version']);
      assert.equal(partial.code, 1, partial.stdout + partial.stderr);
      assert.equal(section(partial.stdout, bed.hosts[0]!).trim(), 'v2');
      assert.match(section(partial.stdout, bed.hosts[1]!), /error: no running web container/);
      assert.match(partial.stdout, new RegExp(`Summary: 2 host\\(s\\), 1 failed\\n  ${bed.hosts[0]!.replaceAll('.', '\\.')}\\s+ok\\n  ${bed.hosts[1]!.replaceAll('.', '\\.')}\\s+FAILED`));
      const version = await mrsk(['app', 'version']);
      assert.equal(section(version.stdout, bed.hosts[1]!).trim(), 'not running');
    } finally {
      const start = await mrsk(['app', 'start', '--hosts', bed.hosts[1]!]);
      assertOk(start, 'app start');
      assert.match(start.stdout, new RegExp(`started ${SERVICE}-web-v2`));
    }
    const version = await mrsk(['app', 'version']);
    assert.deepEqual(bed.hosts.map((h) => section(version.stdout, h).trim()), ['v2', 'v2']);
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
    assert.match(section(grouped.stdout, bed.hosts[1]!), /^job v2 working$/m);
    assert.ok(!grouped.stdout.includes(`App Host: ${bed.hosts[0]}`), 'host 1 has no job role');
    const recent = await mrsk(['app', 'logs', '--roles', 'job', '--since', '1m']);
    assert.match(section(recent.stdout, bed.hosts[1]!), /^job v2 working$/m);
    const future = await mrsk(['app', 'logs', '--roles', 'job', '--since', '2099-01-01T00:00:00']);
    assertOk(future, 'app logs --since (future)');
    assert.equal(section(future.stdout, bed.hosts[1]!).trim(), '(no log lines)');
    const grepped = await mrsk(['app', 'logs', '--grep', 'nothing-like-this', '--lines', '50']);
    assert.deepEqual(bed.hosts.map((h) => section(grepped.stdout, h).includes('job v2 working')), [false, false]);

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
    const prefix = `${bed.hosts[1]} | `;
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
    assert.match(section(text.stdout, bed.hosts[0]!), new RegExp(`${SERVICE}-web-v2\\s+web\\s+v2\\s+running \\(healthy\\).*current`));
    assert.match(section(text.stdout, bed.hosts[0]!), new RegExp(`${SERVICE}-web-v1\\s+web\\s+v1\\s+exited.*rollback target`));
    assert.match(text.stdout, /Rollback targets on every selected host: v1/);
    const json = await mrsk(['app', 'containers', '--json']);
    assertOk(json, 'app containers --json');
    const doc = JSON.parse(json.stdout) as { version: string; rollbackTargets: string[]; hosts: Record<string, { containers: { name: string; mark: string }[] }> };
    assert.equal(doc.version, 'v2');
    assert.deepEqual(doc.rollbackTargets, ['v1']);
    assert.deepEqual(
      doc.hosts[bed.hosts[1]!]!.containers.map((c) => [c.name, c.mark]).sort(),
      [[`${SERVICE}-job-v1`, 'rollback target'], [`${SERVICE}-job-v2`, 'current'], [`${SERVICE}-web-v1`, 'rollback target'], [`${SERVICE}-web-v2`, 'current']],
    );

    const details = await mrsk(['details', '--json']);
    assertOk(details, 'details --json');
    const d = JSON.parse(details.stdout) as { hosts: Record<string, { traefik: { names: string; state: string }[]; app: { names: string }[] }> };
    for (const host of bed.hosts) {
      assert.deepEqual(d.hosts[host]!.traefik.map((c) => [c.names, c.state]), [['traefik', 'running']]);
    }
    assert.deepEqual(d.hosts[bed.hosts[1]!]!.app.map((c) => c.names).sort(), [`${SERVICE}-job-v2`, `${SERVICE}-web-v2`]);
    const plain = await mrsk(['details']);
    assert.match(plain.stdout, new RegExp(`Traefik Host: ${bed.hosts[0]!.replaceAll('.', '\\.')}\\nCONTAINER ID\\s+IMAGE\\s+STATUS`));
    const images = await mrsk(['app', 'images']);
    assertOk(images, 'app images');
    assert.match(section(images.stdout, bed.hosts[0]!), /demo-app\s+v2\s+[0-9a-f]{12}/);
  });

  test('two concurrent deploys: one rolls out, the other fails with the holder’s details and changes nothing', async (t) => {
    assert.ok(ready, 'the set-up (deploy v1 then v2) failed: see the before hook');
    const before = await mrsk(['audit', '--json']);
    const countBefore = (JSON.parse(before.stdout) as { hosts: Record<string, { entries: unknown[] }> }).hosts[bed.hosts[0]!]!.entries.length;
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
    assert.deepEqual(bed.hosts.map((h) => section(version.stdout, h).trim()), ['v1', 'v1']);
    const running = await sshOk(2, `docker ps --filter label=mrsk.service=${SERVICE} --format '{{.Names}}' | sort`);
    assert.deepEqual(running.trim().split('\n'), [`${SERVICE}-job-v1`, `${SERVICE}-web-v1`]);
    const status = JSON.parse((await mrsk(['lock', 'status', '--json'])).stdout) as { hosts: Record<string, { state: string }> };
    assert.deepEqual(Object.values(status.hosts).map((s) => s.state), ['unlocked', 'unlocked']);
    const audit = JSON.parse((await mrsk(['audit', '--json'])).stdout) as { hosts: Record<string, { entries: { message?: string }[] }> };
    const added = audit.hosts[bed.hosts[0]!]!.entries.slice(countBefore).map((e) => e.message ?? '');
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
    assert.deepEqual(bed.hosts.map((h) => section(after.stdout, h).trim()), ['v2', 'v2']);
  });

  test('lock acquire blocks deploys and traefik reboot with its message; release frees them', async (t) => {
    assert.ok(ready, 'the set-up (deploy v1 then v2) failed: see the before hook');
    assertOk(await mrsk(['lock', 'acquire', '-m', 'migrating the database']), 'lock acquire');
    try {
      const status = await mrsk(['lock', 'status', '--json']);
      const doc = JSON.parse(status.stdout) as { hosts: Record<string, { state: string; message: string; command: string; stale: boolean }> };
      for (const host of bed.hosts) {
        assert.equal(doc.hosts[host]!.state, 'locked');
        assert.equal(doc.hosts[host]!.message, 'migrating the database');
        assert.equal(doc.hosts[host]!.stale, false);
      }
      // someone else (another user) cannot deploy, nor reboot Traefik; nothing changes
      const other = { MRSK_USER: 'someone-else' };
      const deploy = await mrsk(['deploy', '--skip-push', '--version', 'v1'], { env: other });
      assert.equal(deploy.code, 75, deploy.stdout + deploy.stderr);
      assert.match(deploy.stderr, /for `lock acquire` \("migrating the database"\)/);
      const reboot = await mrsk(['traefik', 'reboot'], { env: other });
      assert.equal(reboot.code, 75, reboot.stdout + reboot.stderr);
      assert.doesNotMatch(reboot.stdout, /rebooted/);
      const release = await mrsk(['lock', 'release'], { env: other });
      assert.equal(release.code, 75, 'someone else releases only with --force');
      const version = await mrsk(['app', 'version']);
      assert.deepEqual(bed.hosts.map((h) => section(version.stdout, h).trim()), ['v2', 'v2']);
    } finally {
      assertOk(await mrsk(['lock', 'release']), 'lock release');
    }
    const status = await mrsk(['lock', 'status']);
    assert.match(status.stdout, new RegExp(`^${bed.hosts[0]!.replaceAll('.', '\\.')}: unlocked$`, 'm'));
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
    for (const host of bed.hosts) {
      const log = section(text.stdout, host, 'Audit');
      assert.match(log, /^\[\d{4}-\d\d-\d\dT[\d:.]+Z\] \[[^\]]+@[^\]]+\] deploy v2: applied \d+ steps, version v2$/m);
    }
    assert.match(section(text.stdout, bed.hosts[0]!, 'Audit'), /app exec echo "version=\$\(cat \/version\).*version v2$/m);
    assert.match(section(text.stdout, bed.hosts[0]!, 'Audit'), /\] lock acquire: migrating the database$/m);
    assert.match(section(text.stdout, bed.hosts[1]!, 'Audit'), /app stop v2$/m);
    const json = JSON.parse((await mrsk(['audit', '--json', '-n', '3'])).stdout) as { hosts: Record<string, { entries: { time: string; performer: string; message: string }[] }> };
    for (const host of bed.hosts) {
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
    for (const host of bed.hosts) assert.equal(section(login.stdout, host, 'Registry').trim(), `logged in to ${bed.registry} as mrsk`);
    const logout = await mrsk(['registry', 'logout', '--skip-local', '--hosts', bed.hosts[1]!]);
    assertOk(logout, 'registry logout');
    const auth = await bed.ssh(2, 'cat ~/.docker/config.json');
    assert.ok(!auth.stdout.includes(`"${bed.registry}"`), `still logged in on host 2:\n${auth.stdout}`);
    assertOk(await mrsk(['registry', 'login', '--skip-local', '--hosts', bed.hosts[1]!]), 'registry login again');
  });

  test('traefik details and logs; with MRSK_E2E_TRAEFIK_REBOOT=1 also reboot (rolling), stop, start, restart, remove and boot, checked through Traefik', async (t) => {
    assert.ok(ready, 'the set-up (deploy v1 then v2) failed: see the before hook');
    const details = await mrsk(['traefik', 'details']);
    assertOk(details, 'traefik details');
    for (const host of bed.hosts) assert.match(section(details.stdout, host, 'Traefik'), /traefik:v3\.6\s+Up /);
    const logs = await mrsk(['traefik', 'logs', '--lines', '5']);
    assertOk(logs, 'traefik logs');
    if (process.env.MRSK_E2E_TRAEFIK_REBOOT !== '1') return t.skip('set MRSK_E2E_TRAEFIK_REBOOT=1 to restart the shared Traefik');
    const reboot = await mrsk(['traefik', 'reboot']);
    assertOk(reboot, 'traefik reboot');
    assert.ok(reboot.stdout.indexOf(`Traefik Host: ${bed.hosts[0]}`) < reboot.stdout.indexOf(`Traefik Host: ${bed.hosts[1]}`));
    for (const host of bed.hosts) assert.match(section(reboot.stdout, host, 'Traefik'), new RegExp(`rebooted: answering after [\\d.]+s, routing ${SERVICE}-web@docker`));
    assert.deepEqual(await servedThroughTraefik(), ['v2', 'v2']);

    assertOk(await mrsk(['traefik', 'stop']), 'traefik stop');
    assert.deepEqual(await servedThroughTraefik(false), ['none', 'none']);
    assertOk(await mrsk(['traefik', 'start']), 'traefik start');
    assertOk(await mrsk(['traefik', 'restart']), 'traefik restart');
    assert.deepEqual(await servedThroughTraefik(), ['v2', 'v2']);

    assert.equal((await mrsk(['traefik', 'remove'])).code, 64, 'remove asks first; without a terminal it refuses (exit 64: add -y)');
    assertOk(await mrsk(['traefik', 'remove', '-y']), 'traefik remove');
    const gone = await mrsk(['traefik', 'details']);
    for (const host of bed.hosts) assert.equal(section(gone.stdout, host, 'Traefik').trim(), 'no containers');
    const boot = await mrsk(['traefik', 'boot']);
    assertOk(boot, 'traefik boot');
    for (const host of bed.hosts) assert.match(section(boot.stdout, host, 'Traefik'), /^started .*traefik:v3\.6$/m);
    const again = await mrsk(['traefik', 'boot']);
    for (const host of bed.hosts) assert.equal(section(again.stdout, host, 'Traefik').trim(), 'already running');
    assert.deepEqual(await servedThroughTraefik(), ['v2', 'v2']);
  });

  test('an alias from the config runs its mrsk command line', async (t) => {
    assert.ok(ready, 'the set-up (deploy v1 then v2) failed: see the before hook');
    const greet = await mrsk(['alias', 'greet']);
    assertOk(greet, 'alias greet');
    assert.equal(section(greet.stdout, bed.hosts[0]!).trim(), 'hello from the test bed');
    assert.ok(!greet.stdout.includes(`App Host: ${bed.hosts[1]}`), 'greet is --primary');
    // as in Kamal, `mrsk NAME` runs the alias too, and a typo gets a suggestion
    const direct = await mrsk(['greet']);
    assertOk(direct, 'mrsk greet');
    assert.equal(section(direct.stdout, bed.hosts[0]!).trim(), 'hello from the test bed');
    const typo = await mrsk(['gret']);
    assert.equal(typo.code, 64);
    assert.match(typo.stderr, /unknown command 'gret'\. Did you mean greet\?/);
    const missing = await mrsk(['alias', 'nope']);
    assert.equal(missing.code, 64);
    assert.match(missing.stderr, /no alias nope in the config \(aliases: console, greet\)/);
  });
});
