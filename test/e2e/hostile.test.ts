// A broken or hostile host on the test bed: `docker` on host 1 replaced by a wrapper that prints
// 50 MB, malformed JSON with escape sequences, endless output, or hangs; and garbage (with escape
// sequences) in host 1's ~/.mrsk/<service> files. `mrsk plan` must report host 1 unreadable with
// the reason, still plan host 2, exit 1 in bounded time with bounded memory, and never print an
// ESC character that came from the host.
//
// The wrapper is bind-mounted over host 1's `docker` inside host 1's own mount namespace
// (`testbed.sh enter 1`): /usr is shared by every node and the machine, so the file itself is
// never touched, and the mount goes away with the node. Its service (`hostiledemo`) is only
// read (plan, drift, lock status, audit), never deployed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bringUp, deployConfig, repoRoot, runOk, testbed, type Bed, type ProcessResult } from './harness.ts';

const SERVICE = 'hostiledemo';
/** ssh.command_timeout of this test's config: the probe of a hanging host gives up after it. */
const COMMAND_TIMEOUT_S = 20;
let bed: Bed;
let dir: string;
let config: string;
/** Host 1's folder as the root namespace and host 1 both see it (the bed binds $BASE back into each node). */
let wrapperDir: string;
let dockerPath: string;
let mounted = false;
/** Peak RSS of a plain `mrsk plan` of both hosts, measured first: the hostile cases may add at most RSS_MARGIN_MIB. */
let baselineMiB = 0;
const RSS_MARGIN_MIB = 64;
const rssBound = (): number => (baselineMiB || 150) + RSS_MARGIN_MIB;

const show = (result: ProcessResult): string => `exit ${result.code} in ${result.ms} ms\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
const quote = (text: string): string => `'${text.replaceAll("'", `'\\''`)}'`;
const escaped = (text: string): string => text.replaceAll('.', '\\.');

/** Runs a shell command inside host 1's namespaces (as its sshd and dockerd see the machine). */
async function onNode1(script: string): Promise<string> {
  const result = await testbed(['enter', '1', 'sh', '-c', script], { timeoutMs: 30_000 });
  assert.equal(result.code, 0, `inside host 1: ${script}\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

async function setMode(mode: 'off' | 'flood' | 'endless' | 'badjson' | 'hang'): Promise<void> {
  await writeFile(join(wrapperDir, 'mode'), `${mode}\n`);
}

/** What mrsk did: its result and its peak resident memory (VmHWM, read from /proc while it ran). */
interface Measured extends ProcessResult {
  readonly peakRssMiB: number;
}

/** `mrsk ARGS -c config` with the bed's environment, sampling the process's peak RSS. */
function mrsk(args: readonly string[], timeoutMs = 120_000): Promise<Measured> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'mrsk.js'), ...args, '-c', config], {
      cwd: repoRoot,
      env: { ...process.env, ...bed.env, APP_SECRET: bed.appSecret, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let peakKiB = 0;
    const sample = () => {
      try {
        const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (match) peakKiB = Math.max(peakKiB, Number(match[1]));
      } catch {
        // exited between samples: the last reading stands
      }
    };
    const sampler = setInterval(sample, 25);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(sampler);
      clearTimeout(timer);
      resolve({
        code: timedOut ? 124 : (code ?? 128),
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        ms: Math.round(performance.now() - started),
        peakRssMiB: Math.round(peakKiB / 1024),
      });
    });
  });
}

/** Nothing mrsk printed carries a control character other than \n and \t (NO_COLOR: mrsk's own colours are off). */
function assertNoControlCharacters(result: ProcessResult): void {
  const found = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.exec(`${result.stdout}${result.stderr}`);
  assert.equal(found, null, `a control character (${JSON.stringify(found?.[0])}) reached the terminal:\n${show(result)}`);
}

/** Host 1 is reported unreadable with a reason matching `reason`; host 2 is planned; exit 1. */
function assertHost1Unreadable(result: Measured, reason: RegExp): void {
  const [host1, host2] = bed.hosts;
  assert.equal(result.code, 1, show(result));
  // the plan wraps long lines at 80 columns: read it as one line
  const flat = result.stdout.replace(/\s+/g, ' ');
  assert.match(flat, new RegExp(`Cannot plan 1 host: ${escaped(host1!)}: unreadable: ${reason.source}`), show(result));
  assert.match(flat, new RegExp(`${escaped(host2!)} \\(batch 1\\)( [+~-]+ \\S+( [^+~-][^\\n]*?)?)*? \\+ container/${SERVICE}-web-v1 `), show(result));
  assert.doesNotMatch(flat, new RegExp(`${escaped(host1!)} \\(batch`), 'host 1 must not be planned');
  assertNoControlCharacters(result);
}

describe('a hostile host: mrsk plan reports it unreadable and plans the others', { timeout: 900_000 }, () => {
  before(async () => {
    bed = await bringUp(2);
    dir = await mkdtemp(join(tmpdir(), 'mrsk-hostile-e2e-'));
    config = join(dir, 'deploy.yml');
    const text = await readFile(deployConfig, 'utf8');
    assert.match(text, /^service: demo$/m);
    assert.match(text, /^ {2}connect_timeout: 5$/m);
    await writeFile(
      config,
      text
        .replace(/^service: demo$/m, `service: ${SERVICE}`)
        .replace(/^ {2}connect_timeout: 5$/m, `  connect_timeout: 5\n  command_timeout: ${COMMAND_TIMEOUT_S}`),
    );
    // the docker the SSH user runs on host 1, and a folder both sides see for the wrapper
    dockerPath = (await bed.ssh(1, 'command -v docker')).stdout.trim();
    assert.match(dockerPath, /^\/\S+\/docker$/, 'host 1 has no docker on the SSH user\'s PATH');
    const base = bed.env.MRSK_TESTBED_DIR;
    assert.ok(base, 'testbed.sh env did not export MRSK_TESTBED_DIR');
    wrapperDir = join(base, 'h1', 'hostile-docker');
    await runOk('mkdir', ['-p', wrapperDir]);
    await setMode('off');
    const real = join(wrapperDir, 'real-docker');
    const wrapper = [
      '#!/bin/sh',
      '# the hostile docker of the e2e test (test/e2e/hostile.test.ts); "off" runs the real one',
      `real=${quote(real)}`,
      `mode=$(cat ${quote(join(wrapperDir, 'mode'))} 2>/dev/null)`,
      'evil=$(printf \'\\033]0;pwned\\007\\033[2J\\033[31mEVIL\\033[0m\')',
      'case $mode:$1 in',
      // 50 MB straight to the probe's output (docker network ls prints to stdout)
      "  flood:network) head -c 50000000 /dev/zero | tr '\\0' x; exit 0 ;;",
      '  endless:network) exec yes "$evil" ;;',
      // a container id that docker inspect answers with broken JSON full of escape sequences: the
      // probe's one ps listing names it as the host's Traefik (tab-separated: id, 4 labels, name, image, state)
      "  badjson:ps) printf 'deadbeef\\t\\t\\t\\t\\ttraefik\\ttraefik:v3.6\\texited\\n'; exit 0 ;;",
      '  badjson:inspect) printf \'{"Id": "%s not json\\n\' "$evil"; exit 0 ;;',
      '  hang:*) exec sleep 3600 ;;',
      'esac',
      'exec "$real" "$@"',
      '',
    ].join('\n');
    await writeFile(join(wrapperDir, 'docker'), wrapper, { mode: 0o755 });
    // inside host 1 only: keep the real binary reachable, then put the wrapper in its place
    await onNode1(`touch ${quote(real)} && mount --bind ${quote(dockerPath)} ${quote(real)} && mount --bind ${quote(join(wrapperDir, 'docker'))} ${quote(dockerPath)}`);
    mounted = true;
    // the machine's own docker is untouched, and so is host 2's
    assert.doesNotMatch(await readFile(dockerPath, 'latin1').then((b) => b.slice(0, 200)), /hostile docker/);
    assert.doesNotMatch((await bed.ssh(2, `head -c 200 ${quote(dockerPath)} | tr -d '\\0'`)).stdout, /hostile docker/);
    assert.match((await bed.ssh(1, `head -c 200 ${quote(dockerPath)}`)).stdout, /hostile docker/);
    // a clean slate even when an earlier run was interrupted
    await bed.ssh(1, `rm -rf .mrsk/${SERVICE}`);
  });

  after(async () => {
    if (mounted) {
      await setMode('off').catch(() => {});
      await onNode1(`umount ${quote(dockerPath)}; umount ${quote(join(wrapperDir, 'real-docker'))}; true`).catch(() => {});
    }
    if (bed) await bed.ssh(1, `rm -rf .mrsk/${SERVICE}`).catch(() => {});
    if (wrapperDir) await rm(wrapperDir, { recursive: true, force: true }).catch(() => {});
    if (dir) await rm(dir, { recursive: true, force: true });
    await bed?.tearDown();
  });

  test('with the wrapper off, both hosts are planned (the set-up itself is sound)', async () => {
    await setMode('off');
    const result = await mrsk(['plan', '--version', 'v1']);
    console.log(`off: exit ${result.code} in ${result.ms} ms, peak RSS ${result.peakRssMiB} MiB`);
    assert.equal(result.code, 0, show(result));
    baselineMiB = result.peakRssMiB;
    for (const host of bed.hosts) assert.match(result.stdout, new RegExp(`${escaped(host)} {2}\\(batch`));
  });

  test('50 MB from docker: host 1 unreadable at the 16 MiB cap, host 2 planned, promptly, memory bounded', async () => {
    await setMode('flood');
    const result = await mrsk(['plan', '--version', 'v1']);
    console.log(`flood: exit ${result.code} in ${result.ms} ms, peak RSS ${result.peakRssMiB} MiB`);
    assertHost1Unreadable(result, /the probe printed more than 16 MiB \(mrsk's cap on what it reads from one host command\) and was stopped/);
    assert.ok(result.ms < 30_000, `took ${result.ms} ms`);
    assert.ok(result.peakRssMiB < rssBound(), `peak RSS ${result.peakRssMiB} MiB, a plain plan ${baselineMiB} MiB`);
  });

  test('endless output from docker: host 1 unreadable at the cap, host 2 planned, promptly, memory bounded', async () => {
    await setMode('endless');
    const result = await mrsk(['plan', '--version', 'v1']);
    console.log(`endless: exit ${result.code} in ${result.ms} ms, peak RSS ${result.peakRssMiB} MiB`);
    assertHost1Unreadable(result, /the probe printed more than 16 MiB/);
    assert.ok(result.ms < 30_000, `took ${result.ms} ms`);
    assert.ok(result.peakRssMiB < rssBound(), `peak RSS ${result.peakRssMiB} MiB, a plain plan ${baselineMiB} MiB`);
    // the endless docker was killed on host 1 (the runner kills the command by its tag)
    const deadline = Date.now() + 15_000;
    let left = '';
    while (Date.now() < deadline) {
      left = (await bed.ssh(1, "pgrep -f '^yes ' || true")).stdout.trim();
      if (left === '') break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal(left, '', 'the endless docker still runs on host 1');
  });

  test('malformed JSON with escape sequences from docker: host 1 unreadable, saying what was not JSON, no ESC printed', async () => {
    await setMode('badjson');
    const result = await mrsk(['plan', '--version', 'v1']);
    console.log(`badjson: exit ${result.code} in ${result.ms} ms`);
    assertHost1Unreadable(result, /could not read docker inspect \(containers\) output \(not JSON\): \{"Id": "EVIL not json/);
    assert.ok(result.ms < 30_000, `took ${result.ms} ms`);
    const json = await mrsk(['plan', '--json', '--version', 'v1']);
    assert.equal(json.code, 1, show(json));
    assertNoControlCharacters(json);
    const blocked = (JSON.parse(json.stdout) as { blocked_hosts: { host: string; status: string; message: string }[] }).blocked_hosts;
    assert.deepEqual(blocked.map((b) => [b.host, b.status]), [[bed.hosts[0], 'unreadable']]);
  });

  test(`a docker that hangs: host 1 unreadable after the command timeout (${COMMAND_TIMEOUT_S}s), host 2 planned`, async () => {
    await setMode('hang');
    const result = await mrsk(['plan', '--version', 'v1']);
    console.log(`hang: exit ${result.code} in ${result.ms} ms`);
    assertHost1Unreadable(result, new RegExp(`the probe did not finish within ${COMMAND_TIMEOUT_S}s and was stopped: does \`docker\` on this host hang\\?`));
    assert.ok(result.ms < (COMMAND_TIMEOUT_S + 20) * 1000, `took ${result.ms} ms`);
  });

  test('garbage with escape sequences in ~/.mrsk/<service>: a warning and an unknown release, the lock names how to clear it, nothing raw printed', async () => {
    await setMode('off');
    const evil = "\\033]0;pwned\\007\\033[2J\\033[31m";
    await bed.ssh(
      1,
      [
        `mkdir -p .mrsk/${SERVICE}/releases .mrsk/${SERVICE}/lock`,
        `printf '${evil}EVIL release{{{' > .mrsk/${SERVICE}/releases/current.json`,
        `printf '${evil}EVIL lock' > .mrsk/${SERVICE}/lock/holder.json`,
        `printf '${evil}EVIL audit line\\n' > .mrsk/${SERVICE}/audit.log`,
      ].join(' && '),
    );
    const [host1] = bed.hosts;
    const plan = await mrsk(['plan', '--version', 'v1']);
    assert.equal(plan.code, 0, show(plan));
    assertNoControlCharacters(plan);
    assert.match(plan.stderr, new RegExp(`warning: ${escaped(host1!)}: the release record ~/\\.mrsk/${SERVICE}/releases/current\\.json cannot be read \\(not JSON: EVIL release\\{\\{\\{\\); the deployed release counts as unknown`));
    assert.match(plan.stderr, new RegExp(`warning: ${escaped(host1!)}: the deploy lock's holder file ~/\\.mrsk/${SERVICE}/lock/holder\\.json is missing or unreadable.*mrsk lock release --force -h ${escaped(host1!)}`));
    assert.doesNotMatch(`${plan.stdout}${plan.stderr}`, /\/\//, 'no doubled slash in a path');
    // host 1 is planned, and its release is recorded again by the next apply
    assert.match(plan.stdout, new RegExp(`${escaped(host1!)} {2}\\(batch[\\s\\S]*?\\+\\s+release`));

    for (const args of [['drift'], ['lock', 'status'], ['audit']]) {
      const result = await mrsk(args);
      assertNoControlCharacters(result);
      assert.ok(!`${result.stdout}${result.stderr}`.includes(bed.appSecret), 'the secret never shows');
      if (args[0] === 'audit') assert.match(result.stdout, /EVIL audit line/);
      if (args[0] === 'drift') assert.match(`${result.stdout}${result.stderr}`, /mrsk lock release --force -h/);
    }
    await bed.ssh(1, `rm -rf .mrsk/${SERVICE}/lock`);
    const drift = await mrsk(['drift']);
    assertNoControlCharacters(drift);
    assert.match(drift.stdout, /the release record ~\/\.mrsk\/hostiledemo\/releases\/current\.json cannot be read/);
  });
});
