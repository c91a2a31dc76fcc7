// A deploy from a CI pipeline, on the test bed: no terminal (stdin is a closed pipe), CI=true,
// GITHUB_ACTIONS=true with a temp $GITHUB_STEP_SUMMARY, and the SSH key given only through
// ssh.key_data (the bed key's text in an environment variable; no key file in the config, an
// empty HOME, no agent) with known hosts from ssh.known_hosts. It deploys, saves a plan and
// applies it, checks drift, and proves that no secret (key text, registry password, APP_SECRET)
// appears in any output or file and that every --json line validates against
// schemas/events.schema.json. Bad input (a malformed key, a missing secret, a saved plan from
// another config) fails before any connection (under `unshare -n`) with a clear message.
// Its own service (`cidemo`, routed under /mrsk-ci-e2e) keeps it apart from the other suites.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { bringUp, deployConfig, repoRoot, run, type Bed, type ProcessResult } from './harness.ts';

const SERVICE = 'cidemo';
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
let bed: Bed;
let dir: string;
let config: string;
let keyText: string;
let knownHosts: string;
let summaryFile: string;
/** Every output of every run, and every file written, checked for secrets at the end. */
const seen: { label: string; text: string }[] = [];

function show(result: ProcessResult): string {
  return `exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
}

/** The pipeline's environment: CI, GitHub Actions, the key and known hosts as variables only. */
function pipelineEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_STEP_SUMMARY: summaryFile,
    HOME: join(dir, 'home'),
    SSH_AUTH_SOCK: '',
    // the bed's key file and known_hosts file are not for this config: only the variables below are
    MRSK_TESTBED_KEY: '',
    MRSK_TESTBED_KNOWN_HOSTS: '',
    CI_SSH_KEY: keyText,
    CI_KNOWN_HOSTS: knownHosts,
    ...extra,
  };
}

async function mrsk(label: string, args: readonly string[], extra: Record<string, string> = {}): Promise<ProcessResult> {
  const result = await bed.mrsk([...args, ...(args.includes('-c') ? [] : ['-c', config])], { env: pipelineEnv(extra), timeoutMs: 240_000 });
  seen.push({ label: `${label} stdout`, text: result.stdout }, { label: `${label} stderr`, text: result.stderr });
  return result;
}

/** mrsk with no network at all: for refusals that must happen before any connection. */
async function offline(label: string, args: readonly string[], extra: Record<string, string> = {}): Promise<ProcessResult> {
  const env = { ...bed.env, APP_SECRET: bed.appSecret, NO_COLOR: '1', ...pipelineEnv(extra) };
  const result = await run('unshare', ['-n', process.execPath, join(repoRoot, 'bin', 'mrsk.js'), ...args], { env, timeoutMs: 60_000 });
  seen.push({ label: `${label} stdout`, text: result.stdout }, { label: `${label} stderr`, text: result.stderr });
  return result;
}

/** Parses NDJSON stdout and validates every line against the events schema; returns the events. */
function events(result: ProcessResult): Record<string, any>[] {
  const schema = JSON.parse(readFileSync(join(repoRoot, 'schemas', 'events.schema.json'), 'utf8'));
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  const validate = ajv.compile(schema);
  const lines = result.stdout.split('\n').filter((line) => line !== '');
  assert.ok(lines.length >= 1, `expected NDJSON events: ${show(result)}`);
  return lines.map((line, index) => {
    let event: Record<string, any>;
    try {
      event = JSON.parse(line) as Record<string, any>;
    } catch {
      assert.fail(`line ${index + 1} of stdout is not JSON: ${line}`);
    }
    assert.ok(validate(event), `line ${index + 1} (${String(event.type)}) does not match the schema: ${JSON.stringify(validate.errors)}\n${line}`);
    return event;
  });
}

describe('a deploy from a CI pipeline', () => {
  before(async () => {
    bed = await bringUp(2);
    dir = await mkdtemp(join(tmpdir(), 'mrsk-pipeline-e2e-'));
    await mkdir(join(dir, 'home'), { mode: 0o700 });
    summaryFile = join(dir, 'step-summary.md');
    await writeFile(summaryFile, '');
    keyText = await readFile(bed.env.MRSK_TESTBED_KEY!, 'utf8');
    knownHosts = await readFile(bed.env.MRSK_TESTBED_KNOWN_HOSTS!, 'utf8');
    const text = await readFile(deployConfig, 'utf8');
    const servers = /servers:\n[\s\S]*?\n\nregistry:/;
    const ssh = /\nssh:\n[\s\S]*?\n\n/;
    assert.match(text, servers);
    assert.match(text, ssh);
    const own = text
      .replace(/^service: demo$/m, `service: ${SERVICE}`)
      .replace(
        servers,
        [
          'servers:',
          '  web:',
          '    hosts:',
          ...bed.hosts.map((h) => `      - ${h}`),
          '    traefik:',
          '      labels:',
          `        traefik.http.routers.${SERVICE}-web.rule: "PathPrefix(\`/mrsk-ci-e2e\`)"`,
          '',
          'registry:',
        ].join('\n'),
      )
      // credentials from the pipeline's secrets only: no key file, no known_hosts file
      .replace(ssh, '\nssh:\n  user: root\n  key_data: [CI_SSH_KEY]\n  known_hosts: CI_KNOWN_HOSTS\n  connect_timeout: 5\n\n');
    assert.ok(!/keys:|known_hosts_file/.test(own.split('\nssh:')[1]!.split('\n\n')[0]!));
    config = join(dir, 'deploy.yml');
    await writeFile(config, own);
    // a clean slate even when an earlier run was interrupted
    for (let i = 1; i <= bed.hosts.length; i++) await bed.ssh(i, `rm -rf .mrsk/${SERVICE}/lock; true`);
    await bed.mrsk(['remove', '-y', '-c', config], { env: pipelineEnv() });
    await writeFile(summaryFile, '');
  });

  after(async () => {
    if (bed && config) await bed.mrsk(['remove', '-y', '-c', config], { env: pipelineEnv() });
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('deploy --json: NDJSON events that match the schema, a summary last, the plan in the step summary, no animation', async () => {
    const result = await mrsk('deploy', ['deploy', '--version', 'v1', '--skip-push', '--json']);
    assert.equal(result.code, 0, show(result));
    const stream = events(result);
    assert.equal(stream[0]!.type, 'plan');
    assert.equal(stream[0]!.plan.service, SERVICE);
    const summary = stream.at(-1)!;
    assert.equal(summary.type, 'summary');
    assert.equal(stream.filter((e) => e.type === 'summary').length, 1);
    assert.equal(summary.ok, true);
    assert.equal(summary.exit_code, 0);
    assert.equal(summary.version, 'v1');
    assert.deepEqual([...summary.hosts].sort(), [...bed.hosts].sort());
    const finished = stream.filter((e) => e.type === 'step_finished');
    assert.equal(finished.length, stream[0]!.plan.steps.length);
    assert.ok(finished.every((e) => e.status === 'done' && bed.hosts.includes(e.host) && e.duration_ms >= 0));
    assert.equal(summary.steps.done, finished.length);
    // the human lines are on stderr: one per step, no escape codes (CI=true, no terminal)
    assert.ok(!/\u001b\[/.test(result.stderr), 'no colour or cursor codes in CI');
    assert.match(result.stderr, new RegExp(`  ${bed.hosts[0]!.replaceAll('.', '\\.')}  .* ok \\(\\d+\\.\\ds\\)`));
    const markdown = await readFile(summaryFile, 'utf8');
    assert.match(markdown, /### mrsk deploy: Plan\n\ncidemo, version `v1`: \*\*\d+ to add/);
    assert.match(markdown, /### mrsk deploy: done/);
    for (const host of bed.hosts) assert.ok(markdown.includes(`| ${host} |`), `the step summary names ${host}`);
  });

  test('plan --out, then apply of that saved plan: without -y it stops (exit 64) and asks nothing; with -y it runs', async () => {
    const changed = join(dir, 'deploy-changed.yml');
    await writeFile(changed, (await readFile(config, 'utf8')).replace('APP_GREETING: hello from the test bed', 'APP_GREETING: hello from the pipeline'));
    const planFile = join(dir, 'plan.mrsk');
    const plan = await mrsk('plan --out', ['plan', '--out', planFile, '-c', changed]);
    assert.equal(plan.code, 0, show(plan));
    assert.match(plan.stdout, /Plan: 0 to add, \d+ to change, \d+ to replace, 0 to destroy\./);
    seen.push({ label: 'saved plan file', text: await readFile(planFile, 'utf8') });

    const refused = await mrsk('apply without -y', ['apply', planFile, '-c', changed]);
    assert.equal(refused.code, 64, show(refused));
    assert.match(refused.stderr, /refusing to proceed without a terminal to confirm on; nothing was changed\. Add -y \(--auto-approve\)/);

    const applied = await mrsk('apply -y --json', ['apply', planFile, '-y', '--json', '-c', changed]);
    assert.equal(applied.code, 0, show(applied));
    const stream = events(applied);
    assert.deepEqual([stream[0]!.type, stream.at(-1)!.type], ['plan', 'summary']);
    assert.equal(stream.at(-1)!.command, 'apply');
    assert.equal(stream.at(-1)!.ok, true);
    assert.ok(stream.at(-1)!.steps.done > 0);
    assert.match(await readFile(summaryFile, 'utf8'), /### mrsk apply: saved plan\n/);
    for (let i = 1; i <= bed.hosts.length; i++) {
      const env = await bed.ssh(i, `docker inspect --format '{{range .Config.Env}}{{println .}}{{end}}' ${SERVICE}-web-v1`);
      assert.match(env.stdout, /^APP_GREETING=hello from the pipeline$/m, `host ${i} runs the applied plan`);
    }

    // the same file again: the hosts changed since it was made
    const stale = await mrsk('apply stale', ['apply', planFile, '-y', '-c', changed]);
    assert.equal(stale.code, 1, show(stale));
    assert.match(stale.stderr, /is stale: the hosts changed since it was made/);
  });

  test('drift: exit 0 when the hosts match; a container stopped by hand is exit 2, and drift --fix --json streams its steps then the report', async () => {
    const changed = join(dir, 'deploy-changed.yml');
    const result = await mrsk('drift', ['drift', '-c', changed]);
    assert.equal(result.code, 0, show(result));
    const report = await mrsk('drift --json', ['drift', '--json', '-c', changed]);
    assert.equal(report.code, 0, show(report));
    // without --fix: one line, drift's report, still one JSON document
    assert.equal((JSON.parse(report.stdout) as { exitCode: number }).exitCode, 0);
    assert.deepEqual(events(report).map((e) => e.type), ['summary']);

    const stopped = await bed.ssh(1, `docker stop -t 1 ${SERVICE}-web-v1`);
    assert.equal(stopped.code, 0, show(stopped));
    const found = await mrsk('drift found', ['drift', '-c', changed]);
    assert.equal(found.code, 2, show(found));
    // this run as GitLab would make it: a collapsible section for the host the fix changed (on stderr, stdout is NDJSON)
    const fixed = await mrsk('drift --fix --json', ['drift', '--fix', '--json', '-c', changed], { GITHUB_ACTIONS: 'false', GITLAB_CI: 'true' });
    assert.equal(fixed.code, 0, show(fixed));
    const host1 = bed.hosts[0]!.replaceAll('.', '\\.');
    assert.match(fixed.stderr, new RegExp(`\u001b\\[0Ksection_start:\\d+:mrsk_host_1\\[collapsed=true\\]\r\u001b\\[0K${host1}: \\d+ step\\(s\\)`));
    assert.match(fixed.stderr, /\u001b\[0Ksection_end:\d+:mrsk_host_1\r\u001b\[0K/);
    assert.ok(!fixed.stdout.includes('section_start'), 'stdout stays NDJSON');
    const stream = events(fixed);
    assert.equal(stream[0]!.type, 'plan');
    assert.ok(stream.some((e) => e.type === 'step_finished' && e.host === bed.hosts[0] && e.status === 'done'));
    const last = stream.at(-1)!;
    assert.deepEqual([last.type, last.command, last.exitCode, last.fix.stepsRun > 0], ['summary', 'drift', 0, true]);
    assert.equal(stream.filter((e) => e.type === 'summary').length, 1);
  });

  test('bad input fails before any connection, clearly: a malformed key, a missing secret, a saved plan from another config', async () => {
    const garbage = `-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-key-${Date.now()}-zzzz\n-----END OPENSSH PRIVATE KEY-----\n`;
    const malformed = await offline('malformed key', ['plan', '-c', config], { CI_SSH_KEY: garbage });
    assert.equal(malformed.code, 78, show(malformed));
    assert.match(malformed.stderr, /ssh\.key_data\[0\]: secret CI_SSH_KEY: it is not a private key ssh can use/);
    assert.ok(!malformed.stderr.includes('not-a-key-') && !malformed.stdout.includes('not-a-key-'), 'the value is never shown');
    assert.match(malformed.stdout, /^::error file=[^,]+,title=mrsk config%3A ssh\.key_data\[0\]::secret CI_SSH_KEY: it is not a private key/m);

    const withoutKey = { ...pipelineEnv() } as Record<string, string>;
    delete withoutKey.CI_SSH_KEY;
    const env = { ...bed.env, APP_SECRET: bed.appSecret, ...withoutKey };
    const missing = await run('unshare', ['-n', 'env', '-u', 'CI_SSH_KEY', process.execPath, join(repoRoot, 'bin', 'mrsk.js'), 'deploy', '--skip-push', '--version', 'v1', '-c', config], { env, timeoutMs: 60_000 });
    seen.push({ label: 'missing secret', text: missing.stdout + missing.stderr });
    assert.equal(missing.code, 78, show(missing));
    assert.match(missing.stderr, /deploy\.yml:\d+:\d+ ssh\.key_data\[0\]: secret CI_SSH_KEY is not set; looked in /);
    assert.match(missing.stdout, /^::error file=[^,]+deploy\.yml,line=\d+,col=\d+,title=mrsk config%3A ssh\.key_data\[0\]::secret CI_SSH_KEY is not set/m);

    const other = join(dir, 'other.yml');
    await writeFile(other, (await readFile(config, 'utf8')).replace(`service: ${SERVICE}`, 'service: otherapp'));
    const planFile = join(dir, 'plan-for-other.mrsk');
    const saved = await mrsk('plan for other', ['plan', '--out', planFile]);
    assert.equal(saved.code, 0, show(saved));
    const foreign = await offline('foreign plan', ['apply', planFile, '-y', '--json', '-c', other]);
    assert.equal(foreign.code, 1, show(foreign));
    assert.match(foreign.stderr, /the saved plan is for cidemo, not otherapp/);
    const stream = events(foreign);
    assert.deepEqual(stream.map((e) => e.type), ['summary']);
    assert.equal(stream[0]!.exit_code, 1);
  });

  test('no secret appears in any output or file; nothing was written under HOME', async () => {
    const secrets: [string, string][] = [
      ['the SSH key', keyText.split('\n').filter((line) => line.length > 20 && !line.startsWith('-----'))[0]!],
      ['the registry password', bed.env.MRSK_REGISTRY_PASSWORD!],
      ['APP_SECRET', bed.appSecret],
    ];
    for (const [, value] of secrets) assert.ok(value && value.length >= 8);
    seen.push({ label: 'step summary', text: await readFile(summaryFile, 'utf8') });
    for (const { label, text } of seen) {
      for (const [name, value] of secrets) assert.ok(!text.includes(value), `${name} appears in ${label}`);
    }
    assert.deepEqual(readdirSync(join(dir, 'home')), [], 'no key file, no known_hosts written');
  });
});
