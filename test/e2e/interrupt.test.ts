// Ctrl-C on a terminal: `mrsk deploy` runs in a real TTY (tmux), with its listr2 progress, and
// gets a Ctrl-C (tmux send-keys C-c) at three moments — during the pull, during the health
// wait, during the drain — under HTTP load. After each: exit 130, an "interrupted" message on
// the screen, no deploy lock left, the audit line written, `mrsk plan` explaining the state,
// and a plain re-run converging (`plan --detailed-exitcode` = 0), with zero failed requests.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { assertNoFailures, bringUp, deployConfig, repoRoot, run, runOk, underLoad, type Bed } from './harness.ts';

let bed: Bed;
let dir: string;
let config: string;
const socket = `mrsk-e2e-interrupt-${process.pid}`;
const tmux = (...args: string[]) => run('tmux', ['-L', socket, ...args], { timeoutMs: 30_000 });
const urls = () => bed.hosts.map((h) => `http://${h}/`);

/** Polls check every 100 ms until it returns a value, or fails naming what it waited for. */
async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** The screen of a tmux session, wrapped lines joined, with its scrollback. */
async function screen(session: string): Promise<string> {
  return (await tmux('capture-pane', '-p', '-J', '-S', '-', '-t', session)).stdout;
}

/** Whether the screen shows LINE done (✔) in the progress block of HOST. */
function doneOn(text: string, host: string, line: string): boolean {
  const block = text.split(/^[❯✔✖⚠↓] /m).find((part) => part.startsWith(`${host}\n`)) ?? '';
  return block.includes(`✔ ${line}`);
}

/** A mrsk command running in a terminal: its screen, Ctrl-C, and its exit code once it ends. */
interface TerminalRun {
  screen(): Promise<string>;
  interrupt(): Promise<void>;
  exitCode(timeoutMs?: number): Promise<number>;
}

/** Starts `mrsk ARGS -c CONFIG` (the suite's config by default) in a new tmux session (a real TTY, no CI variable: listr2 progress). */
async function inTerminal(name: string, args: readonly string[], configFile = config): Promise<TerminalRun> {
  const exitFile = join(dir, `${name}.exit`);
  const envFile = join(dir, 'env.sh');
  const mrsk = [process.execPath, join(repoRoot, 'bin', 'mrsk.js'), ...args, '-c', configFile].map(shellQuote).join(' ');
  // bash waits for mrsk and ignores the Ctrl-C itself (a trap, so mrsk keeps the default disposition)
  const script = `. ${shellQuote(envFile)}; cd ${shellQuote(repoRoot)}; trap : INT; ${mrsk}; echo $? > ${shellQuote(exitFile)}; exec sleep 3600`;
  const started = await tmux('new-session', '-d', '-s', name, '-x', '150', '-y', '60', 'bash', '-c', script);
  assert.equal(started.code, 0, `tmux new-session: ${started.stderr}`);
  return {
    screen: () => screen(name),
    async interrupt() {
      assert.equal((await tmux('send-keys', '-t', name, 'C-c')).code, 0);
    },
    async exitCode(timeoutMs = 120_000) {
      const text = await waitFor(`${args.join(' ')} to end after Ctrl-C`, timeoutMs, async () => existsSync(exitFile) && (await readFile(exitFile, 'utf8')).trim());
      return Number(text);
    },
  };
}

function assertOk(result: { code: number; stdout: string; stderr: string }, what: string): void {
  assert.equal(result.code, 0, `${what} exited ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
}

const mrsk = (args: readonly string[]) => bed.mrsk([...args, '-c', config]);

/** Runs iptables in host I's network namespace. */
async function iptables(hostIndex: number, ...args: string[]): Promise<void> {
  await runOk('ip', ['netns', 'exec', `${bed.env.MRSK_TESTBED_PREFIX ?? 'mrsk'}-h${hostIndex}`, 'iptables', ...args]);
}
const registryPort = () => (bed.registry.split(':')[1] ?? '5000');
/**
 * Drops the hosts' request for the v4 manifest (the bed's registry is plain HTTP): the registry
 * login gets through, and the pull of v4 hangs there.
 */
const manifestRule = () => ['OUTPUT', '-p', 'tcp', '--dport', registryPort(), '-m', 'string', '--string', 'demo-app/manifests/v4', '--algo', 'bm', '-j', 'DROP'];

/** What every interrupted deploy must leave: no lock, the audit line, a plan that explains, a re-run that converges. */
async function assertCleanInterrupt(terminal: TerminalRun, version: string, interruptedStep: RegExp): Promise<{ plan: string }> {
  const code = await terminal.exitCode();
  const text = await terminal.screen();
  assert.equal(code, 130, `exit code after Ctrl-C\n${text}`);
  assert.match(text, interruptedStep, 'the step that was running is shown as interrupted');
  assert.match(text, /interrupted \(SIGINT\): stopping the running steps and cleaning up/);
  assert.match(text, /The deploy lock was released on /);
  assert.match(text, /step\(s\) were not started/);
  assert.match(text, /Interrupted \(SIGINT\)\. `mrsk plan` shows where the hosts stand; running the same command again converges from there\./);
  assert.doesNotMatch(text, /✔ record release/, 'the release must not be recorded by an interrupted run');
  assert.ok(!text.includes(bed.appSecret), 'the screen shows a secret value');

  const status = await mrsk(['lock', 'status']);
  assertOk(status, 'lock status');
  for (const host of bed.hosts) assert.match(status.stdout, new RegExp(`^${host.replaceAll('.', '\\.')}: unlocked$`, 'm'), status.stdout);
  for (const index of bed.hosts.keys()) {
    const audit = await bed.ssh(index + 1, 'tail -1 .mrsk/demo/audit.log');
    assert.match(audit.stdout, new RegExp(`\\] deploy ${version}: FAILED \\(interrupted`), `audit log of host ${index + 1}`);
  }
  const plan = await mrsk(['plan', '--detailed-exitcode']);
  assert.notEqual(plan.code, 1, `plan failed:\n${plan.stdout}\n${plan.stderr}`);
  return { plan: plan.stdout };
}

async function rerunConverges(version: string): Promise<void> {
  const rerun = await mrsk(['deploy', '--skip-push', '--version', version]);
  assertOk(rerun, `deploy ${version} after Ctrl-C`);
  assert.doesNotMatch(rerun.stderr, /took over/, 'the interrupted run released its lock: nothing to take over');
  const plan = await mrsk(['plan', '--detailed-exitcode']);
  assert.equal(plan.code, 0, `plan after the re-run:\n${plan.stdout}\n${plan.stderr}`);
  for (const index of bed.hosts.keys()) {
    const web = await bed.ssh(index + 1, "docker ps --filter label=mrsk.role=web --filter label=mrsk.service=demo --format '{{.Names}}'");
    assert.equal(web.stdout.trim(), `demo-web-${version}`, `host ${index + 1} serves exactly the new version`);
  }
}

describe('Ctrl-C on a terminal during a deploy (tmux)', { timeout: 1_800_000 }, () => {
  before(async () => {
    bed = await bringUp(2);
    for (const version of ['v4', 'v5', 'v6', 'v7']) await runOk('bash', [join(repoRoot, 'test', 'bed', 'build-app.sh'), version]);
    dir = await mkdtemp(join(tmpdir(), 'mrsk-e2e-interrupt-'));
    // a longer readiness delay and health interval keep the health wait and the drain (the old
    // container turns unhealthy after max_attempts × interval) open long enough to press Ctrl-C in them
    config = join(dir, 'deploy.yml');
    const text = await readFile(deployConfig, 'utf8');
    assert.ok(text.includes('readiness_delay: 1') && text.includes('  interval: 1\n'));
    await writeFile(config, text.replace('readiness_delay: 1', 'readiness_delay: 4').replace('  interval: 1\n', '  interval: 3\n'));
    const env: Record<string, string> = {
      ...bed.env,
      APP_SECRET: bed.appSecret,
      MRSK_APP_CONTEXT: join(repoRoot, 'fixtures', 'app'),
      DOCKER_HOST: bed.env.MRSK_TESTBED_BUILDER_DOCKER_HOST ?? '',
      DOCKER_CONFIG: bed.env.MRSK_TESTBED_BUILDER_DOCKER_CONFIG ?? '',
      DOCKER_BUILDKIT: '0',
      NO_COLOR: '1',
    };
    // the terminal gets the bed's environment from a file only this user can read (it holds secrets)
    const lines = Object.entries(env).map(([name, value]) => `export ${name}=${shellQuote(value)}`);
    await writeFile(join(dir, 'env.sh'), `${lines.join('\n')}\nunset CI\n`, { mode: 0o600 });
    // a clean slate even when an earlier run was interrupted, then v1 everywhere
    await mrsk(['remove', '-y']);
    assertOk(await mrsk(['setup', '--version', 'v1', '--skip-push']), 'setup v1');
  });
  after(async () => {
    await tmux('kill-server');
    for (const index of [1, 2]) await iptables(index, '-D', ...manifestRule()).catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
    await bed?.tearDown();
  });

  test('1. during the pull: nothing changed, so plan shows no changes; the re-run converges', async () => {
    const { traffic } = await underLoad(urls(), async () => {
      for (const index of [1, 2]) await iptables(index, '-I', ...manifestRule());
      try {
        const terminal = await inTerminal('pull', ['deploy', '--skip-push', '--version', 'v4']);
        await waitFor('both hosts trying to pull', 120_000, async () => {
          const counts = await Promise.all([1, 2].map(async (index) => {
            const rules = await run('ip', ['netns', 'exec', `${bed.env.MRSK_TESTBED_PREFIX ?? 'mrsk'}-h${index}`, 'iptables', '-L', 'OUTPUT', '-v', '-x', '-n']);
            return Number(/^\s*(\d+)\s+\d+\s+DROP/m.exec(rules.stdout)?.[1] ?? 0);
          }));
          return counts.every((n) => n > 0);
        });
        await terminal.interrupt();
        const { plan } = await assertCleanInterrupt(terminal, 'v4', /pull \S+demo-app:v4 \(interrupted\)/);
        assert.match(plan, /No changes\. Hosts match the configuration\./, 'an interrupted pull changes nothing');
      } finally {
        for (const index of [1, 2]) await iptables(index, '-D', ...manifestRule());
      }
      for (const index of [1, 2]) {
        const v4 = await bed.ssh(index, "docker ps -a --filter name=demo-web-v4 --format '{{.Names}}'");
        assert.equal(v4.stdout.trim(), '', `host ${index}: no v4 container was started`);
      }
      await rerunConverges('v4');
    });
    assertNoFailures('Ctrl-C during the pull, re-run', traffic, 100);
  });

  test('2. during the health wait: the new version may serve beside the old one, plan says so, the re-run converges', async () => {
    const { traffic } = await underLoad(urls(), async () => {
      const terminal = await inTerminal('health', ['deploy', '--skip-push', '--version', 'v5']);
      await waitFor('the health wait of demo-web-v5', 120_000, async () => /✔ start demo-web-v5/.test(await terminal.screen()));
      await terminal.interrupt();
      const { plan } = await assertCleanInterrupt(terminal, 'v5', /wait until demo-web-v5 is healthy \(interrupted\)/);
      // the deployed version is still v4; the started v5 is shown as what the next plan stops
      assert.match(plan, /container\/demo-web-v5\s+another running container of role web \(version v5\)/, plan);
      await rerunConverges('v5');
    });
    assertNoFailures('Ctrl-C during the health wait, re-run', traffic, 100);
  });

  test('3. during the drain: the old version is left running, plan says so, the re-run converges', async () => {
    const { traffic } = await underLoad(urls(), async () => {
      const terminal = await inTerminal('drain', ['deploy', '--skip-push', '--version', 'v6']);
      // on the first host: once Traefik routes to v6 there, the drain of v5 runs
      await waitFor('the drain of demo-web-v5', 120_000, async () => doneOn(await terminal.screen(), bed.hosts[0]!, 'wait until Traefik routes to demo-web-v6'));
      await terminal.interrupt();
      const { plan } = await assertCleanInterrupt(terminal, 'v6', /drain demo-web-v5 from Traefik \(interrupted\)/);
      console.log(`plan after Ctrl-C during the drain:\n${plan}`);
      // v5 is still the deployed version: v6, started by the interrupted run, is planned out
      assert.match(plan, /container\/demo-web-v6\s+another running container of role web \(version v6\)/, plan);
      await rerunConverges('v6');
    });
    assertNoFailures('Ctrl-C during the drain, re-run', traffic, 100);
  });

  test("4. Ctrl-C twice quits at once: the lock stays, and the next run from this machine takes it over with a warning", async () => {
    const { traffic } = await underLoad(urls(), async () => {
      const terminal = await inTerminal('twice', ['deploy', '--skip-push', '--version', 'v7']);
      await waitFor('the health wait of demo-web-v7', 120_000, async () => /✔ start demo-web-v7/.test(await terminal.screen()));
      await terminal.interrupt();
      await terminal.interrupt();
      const code = await terminal.exitCode();
      const text = await terminal.screen();
      assert.equal(code, 130, text);
      assert.match(text, /SIGINT again: quitting at once, without clean-up/);
      const status = await mrsk(['lock', 'status']);
      assertOk(status, 'lock status');
      assert.match(status.stdout, /locked — held by .* for `deploy v7`.*STALE: its process \d+ on this machine is gone — the next run from this machine takes it over/, status.stdout);
      const rerun = await mrsk(['deploy', '--skip-push', '--version', 'v7']);
      assertOk(rerun, 'deploy v7 after quitting at once');
      assert.match(rerun.stderr, /warning: \S+: took over the deploy lock of .*'s `deploy v7` \(since .*\): its process \d+ on this machine is gone/);
      const plan = await mrsk(['plan', '--detailed-exitcode']);
      assert.equal(plan.code, 0, `plan after the re-run:\n${plan.stdout}\n${plan.stderr}`);
    });
    assertNoFailures('Ctrl-C twice, re-run', traffic, 100);
  });

  test('5. Ctrl-C at the confirmation prompt of apply: nothing changed, no lock left, exit 130', async () => {
    const changed = join(dir, 'changed.yml');
    const text = await readFile(config, 'utf8');
    assert.ok(text.includes('APP_GREETING: hello from the test bed'));
    await writeFile(changed, text.replace('APP_GREETING: hello from the test bed', 'APP_GREETING: hello after Ctrl-C'));
    const before = await bed.mrsk(['plan', '--detailed-exitcode', '-c', changed]);
    assert.equal(before.code, 2, before.stdout + before.stderr);
    const prompt = await inTerminal('prompt', ['apply'], changed);
    await waitFor('the confirmation prompt', 120_000, async () => /Only 'yes' will be accepted: /.test(await prompt.screen()));
    await prompt.interrupt();
    const code = await prompt.exitCode();
    const screenText = await prompt.screen();
    assert.equal(code, 130, screenText);
    assert.match(screenText, /cancelled \(Ctrl-C at the prompt\): nothing was changed/);
    assert.doesNotMatch(screenText, /Aborted with Ctrl\+C|--verbose/);
    const status = await mrsk(['lock', 'status']);
    for (const host of bed.hosts) assert.match(status.stdout, new RegExp(`^${host.replaceAll('.', '\\.')}: unlocked$`, 'm'), status.stdout);
    const after = await bed.mrsk(['plan', '--detailed-exitcode', '-c', changed]);
    assert.equal(after.code, 2, 'the change is still to be made');
    assert.equal((await mrsk(['plan', '--detailed-exitcode'])).code, 0, 'the hosts are as before');
  });
});
