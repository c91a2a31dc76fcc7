// The scripts that wait on the host (for a container to be done starting, for Traefik to route to
// a server or to drop it), run by real shells (dash, busybox sh) against a stand-in `docker` first
// on PATH: it answers each look from a list, one line per call, and counts the calls. Checked:
// the wait ends at the first look that shows the awaited state, after its seconds at most, and
// at once on a failed read (with that read's exit code and stderr); the output is the last
// answer, in the one-look command's form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectContainerWhenStarted, traefikApiUntil } from '../../../src/runtime/index.ts';
import { SHELLS, runInShell, type Shell } from './shells.ts';

interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The calls the stand-in docker got, one line of words each. */
  readonly calls: string[];
}

/**
 * Runs SCRIPT with a stand-in docker whose answers to looks (inspect --format, exec … wget) are
 * LOOKS in order (the last one repeats); a look answered `FAIL` exits 1 with a message on stderr.
 * A full `inspect` (no --format) prints `[{"final":true}]`.
 */
function runWith(shell: Shell, script: string, looks: readonly string[]): Outcome {
  const dir = mkdtempSync(join(tmpdir(), 'mrsk-wait-'));
  try {
    writeFileSync(join(dir, 'looks'), looks.join('\n') + '\n');
    writeFileSync(join(dir, 'n'), '0');
    writeFileSync(
      join(dir, 'docker'),
      [
        '#!/bin/sh',
        `echo "$*" >> ${dir}/calls`,
        `case "$*" in *--format*|exec*) ;; *) echo '[{"final":true}]'; exit 0 ;; esac`,
        `n=$(( $(cat ${dir}/n) + 1 )); echo $n > ${dir}/n`,
        `total=$(wc -l < ${dir}/looks); [ $n -gt $total ] && n=$total`,
        `line=$(sed -n "\${n}p" ${dir}/looks)`,
        `[ "$line" = FAIL ] && { echo 'wget: server returned error: HTTP/1.1 404 Not Found' >&2; exit 1; }`,
        'printf "%s\\n" "$line"',
      ].join('\n'),
    );
    chmodSync(join(dir, 'docker'), 0o755);
    const result = runInShell(shell, script, { ...process.env, PATH: `${dir}:${process.env.PATH}` });
    let calls: string[] = [];
    try {
      calls = readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n');
    } catch {
      calls = [];
    }
    return { code: result.code, stdout: result.stdout, stderr: result.stderr, calls };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const SERVICE = '/api/http/services/app-web@docker';
const OLD = 'http://172.18.0.2:3000';
const NEW = 'http://172.18.0.3:3000';
const status = (servers: Record<string, string>) => JSON.stringify({ loadBalancer: { servers: Object.keys(servers).map((url) => ({ url })) }, serverStatus: servers });

for (const shell of SHELLS) {
  const name = shell.join(' ');

  test(`${name}: a container wait ends at the first look past 'starting' and prints the full inspect`, () => {
    const script = inspectContainerWhenStarted('docker', 'app-web-v2', { seconds: 10, pauseSeconds: 0.05 }).script;
    const outcome = runWith(shell, script, ['true starting', 'true starting', 'true healthy']);
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.equal(outcome.stdout, '[{"final":true}]\n');
    assert.equal(outcome.calls.filter((c) => c.includes('--format')).length, 3, outcome.calls.join('\n'));
    assert.equal(outcome.calls.at(-1), 'inspect --type container app-web-v2');
  });

  test(`${name}: a container wait stops at once for an exited container, one without a healthcheck, and a failed look`, () => {
    for (const look of ['false starting', 'true ', 'true unhealthy', 'FAIL']) {
      const outcome = runWith(shell, inspectContainerWhenStarted('docker', 'app-web-v2', { seconds: 10, pauseSeconds: 0.05 }).script, [look]);
      assert.equal(outcome.code, 0, `${look}: ${outcome.stderr}`);
      assert.equal(outcome.calls.filter((c) => c.includes('--format')).length, 1, `${look}: ${outcome.calls.join(' | ')}`);
      assert.equal(outcome.stdout, '[{"final":true}]\n');
    }
  });

  test(`${name}: a container wait gives up after its seconds (whole seconds of the clock), then prints the inspect (the caller decides)`, () => {
    const started = Date.now();
    const outcome = runWith(shell, inspectContainerWhenStarted('docker', 'app-web-v2', { seconds: 2, pauseSeconds: 0.05 }).script, ['true starting']);
    const ms = Date.now() - started;
    assert.equal(outcome.code, 0);
    assert.ok(ms >= 1000 && ms < 4000, `looked for ${ms} ms`);
    assert.ok(outcome.calls.filter((c) => c.includes('--format')).length >= 5, outcome.calls.join(' | '));
    assert.equal(outcome.stdout, '[{"final":true}]\n');
  });

  test(`${name}: a Traefik wait for a server to go ends at the first answer without it, and prints that answer`, () => {
    const script = traefikApiUntil('docker', SERVICE, { lacks: `"${OLD}":` }, { seconds: 10, pauseSeconds: 0.05 }).script;
    const both = status({ [OLD]: 'UP', [NEW]: 'UP' });
    const newOnly = status({ [NEW]: 'UP' });
    const outcome = runWith(shell, script, [both, both, newOnly]);
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.equal(outcome.stdout, `${newOnly}\n`);
    assert.equal(outcome.calls.length, 3);
    assert.ok(outcome.calls.every((c) => c === `exec traefik wget -q -O - http://127.0.0.1:8080${SERVICE}`), outcome.calls.join('\n'));
  });

  test(`${name}: a Traefik wait for a server to be UP ignores it while DOWN or only listed`, () => {
    const script = traefikApiUntil('docker', SERVICE, { contains: `"${NEW}":"UP"` }, { seconds: 10, pauseSeconds: 0.05 }).script;
    const listedOnly = JSON.stringify({ loadBalancer: { servers: [{ url: NEW }] }, serverStatus: { [OLD]: 'UP' } });
    const down = status({ [OLD]: 'UP', [NEW]: 'DOWN' });
    const up = status({ [OLD]: 'UP', [NEW]: 'UP' });
    const outcome = runWith(shell, script, [listedOnly, down, up]);
    assert.equal(outcome.stdout, `${up}\n`);
    assert.equal(outcome.calls.length, 3);
  });

  test(`${name}: a Traefik wait ends on a failed read with its exit code and stderr, and after its seconds otherwise`, () => {
    const failed = runWith(shell, traefikApiUntil('docker', SERVICE, { lacks: `"${OLD}":` }, { seconds: 10, pauseSeconds: 0.05 }).script, [status({ [OLD]: 'UP' }), 'FAIL']);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /404 Not Found/);
    assert.equal(failed.stdout, '');
    assert.equal(failed.calls.length, 2);
    const started = Date.now();
    const still = runWith(shell, traefikApiUntil('docker', SERVICE, { lacks: `"${OLD}":` }, { seconds: 2, pauseSeconds: 0.05 }).script, [status({ [OLD]: 'UP' })]);
    const ms = Date.now() - started;
    assert.equal(still.code, 0);
    assert.ok(ms >= 1000 && ms < 4000, `read for ${ms} ms`);
    assert.ok(still.calls.length >= 5, still.calls.join(' | '));
    assert.equal(still.stdout, `${status({ [OLD]: 'UP' })}\n`);
  });

  test(`${name}: the command run before each look (Podman's health check) runs every time, its output kept out`, () => {
    const script = traefikApiUntil('docker', SERVICE, { lacks: `"${OLD}":` }, { seconds: 10, pauseSeconds: 0.05, before: ['docker', 'healthcheck', 'run', 'app-web-v2'] }).script;
    const outcome = runWith(shell, script, [status({ [OLD]: 'UP' }), status({})]);
    assert.deepEqual(outcome.calls.map((c) => c.split(' ')[0]), ['healthcheck', 'exec', 'healthcheck', 'exec']);
    assert.equal(outcome.stdout, `${status({})}\n`);
  });
}
