// The scripts that wait on the host (for a container to be done starting, for Traefik to route to
// a server or to drop it), run by real shells (dash, busybox sh) against a stand-in `docker` (and,
// for Traefik's API read through the host's loopback, `curl`) first on PATH: they answer each look
// from a list, one line per call, and log the calls. Checked:
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
  /** The calls the stand-ins got (`docker …`, `curl …`), one line of words each. */
  readonly calls: string[];
}

/**
 * How Traefik's API is reached: `exec` (no port on the host's loopback: every look is an exec),
 * or `loopback` (`docker port` says 127.0.0.1:18080; a stand-in curl answers the looks, and an
 * exec, the fallback, fails with `exec failed` unless LOOKS is read through it too).
 */
type Path = 'exec' | 'loopback';

/**
 * Runs SCRIPT with a stand-in docker (and curl) whose answers to looks (inspect --format, exec …
 * wget, curl) are LOOKS in order (the last one repeats); a look answered `FAIL` exits 1 (curl: 22)
 * with a message on stderr. A full `inspect` (no --format) prints `[{"final":true}]`.
 */
function runWith(shell: Shell, script: string, looks: readonly string[], path: Path = 'exec'): Outcome {
  const dir = mkdtempSync(join(tmpdir(), 'mrsk-wait-'));
  try {
    writeFileSync(join(dir, 'looks'), looks.join('\n') + '\n');
    writeFileSync(join(dir, 'n'), '0');
    const look = (failCode: number) => [
      `n=$(( $(cat ${dir}/n) + 1 )); echo $n > ${dir}/n`,
      `total=$(wc -l < ${dir}/looks); [ $n -gt $total ] && n=$total`,
      `line=$(sed -n "\${n}p" ${dir}/looks)`,
      `[ "$line" = FAIL ] && { echo 'wget: server returned error: HTTP/1.1 404 Not Found' >&2; exit ${failCode}; }`,
      'printf "%s\\n" "$line"',
    ];
    writeFileSync(
      join(dir, 'docker'),
      [
        '#!/bin/sh',
        `echo "docker $*" >> ${dir}/calls`,
        `case "$*" in port*) ${path === 'loopback' ? "echo '0.0.0.0:18080'; echo '127.0.0.1:18080'" : ':'}; exit 0 ;; esac`,
        ...(path === 'loopback' ? [`case "$*" in exec*) echo 'exec failed' >&2; exit 126 ;; esac`] : []),
        `case "$*" in *--format*|exec*) ;; *) echo '[{"final":true}]'; exit 0 ;; esac`,
        ...look(1),
      ].join('\n'),
    );
    writeFileSync(join(dir, 'curl'), ['#!/bin/sh', `echo "curl $*" >> ${dir}/calls`, ...look(22)].join('\n'));
    for (const name of ['docker', 'curl']) chmodSync(join(dir, name), 0o755);
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
    assert.equal(outcome.calls.at(-1), 'docker inspect --type container app-web-v2');
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

  for (const path of ['exec', 'loopback'] as const) {
    // the reads a wait made: through the container, or with the host's curl on the published port
    const reads = (outcome: Outcome) => outcome.calls.filter((c) => (path === 'exec' ? c.startsWith('docker exec') : c.startsWith('curl')));
    const READ = path === 'exec' ? `docker exec traefik wget -q -O - http://127.0.0.1:8080${SERVICE}` : `curl -fsS --max-time 5 http://127.0.0.1:18080${SERVICE}`;

    test(`${name}, ${path}: a Traefik wait for a server to go ends at the first answer without it, and prints that answer`, () => {
      const script = traefikApiUntil('docker', SERVICE, { lacks: `"${OLD}":` }, { seconds: 10, pauseSeconds: 0.05 }).script;
      const both = status({ [OLD]: 'UP', [NEW]: 'UP' });
      const newOnly = status({ [NEW]: 'UP' });
      const outcome = runWith(shell, script, [both, both, newOnly], path);
      assert.equal(outcome.code, 0, outcome.stderr);
      assert.equal(outcome.stdout, `${newOnly}\n`);
      assert.deepEqual(reads(outcome), [READ, READ, READ], outcome.calls.join('\n'));
      // the port is asked once; on the loopback path nothing runs in Traefik's container
      assert.deepEqual(outcome.calls.filter((c) => c.startsWith('docker port')), ['docker port traefik 8080/tcp']);
      assert.equal(outcome.calls.filter((c) => c.startsWith('docker exec')).length, path === 'exec' ? 3 : 0);
    });

    test(`${name}, ${path}: a Traefik wait for a server to be UP ignores it while DOWN or only listed`, () => {
      const script = traefikApiUntil('docker', SERVICE, { contains: `"${NEW}":"UP"` }, { seconds: 10, pauseSeconds: 0.05 }).script;
      const listedOnly = JSON.stringify({ loadBalancer: { servers: [{ url: NEW }] }, serverStatus: { [OLD]: 'UP' } });
      const down = status({ [OLD]: 'UP', [NEW]: 'DOWN' });
      const up = status({ [OLD]: 'UP', [NEW]: 'UP' });
      const outcome = runWith(shell, script, [listedOnly, down, up], path);
      assert.equal(outcome.stdout, `${up}\n`);
      assert.equal(reads(outcome).length, 3);
    });

    test(`${name}, ${path}: a Traefik wait ends on a failed read with the exec's exit code and stderr, and after its seconds otherwise`, () => {
      const failed = runWith(shell, traefikApiUntil('docker', SERVICE, { lacks: `"${OLD}":` }, { seconds: 10, pauseSeconds: 0.05 }).script, [status({ [OLD]: 'UP' }), 'FAIL'], path);
      // loopback: the failed read is tried again through the container, whose answer counts
      assert.equal(failed.code, path === 'exec' ? 1 : 126);
      assert.match(failed.stderr, path === 'exec' ? /404 Not Found/ : /^exec failed$/m);
      assert.equal(failed.stdout, '');
      assert.equal(reads(failed).length, 2);
      const started = Date.now();
      const still = runWith(shell, traefikApiUntil('docker', SERVICE, { lacks: `"${OLD}":` }, { seconds: 2, pauseSeconds: 0.05 }).script, [status({ [OLD]: 'UP' })], path);
      const ms = Date.now() - started;
      assert.equal(still.code, 0);
      assert.ok(ms >= 1000 && ms < 4000, `read for ${ms} ms`);
      assert.ok(reads(still).length >= 5, still.calls.join(' | '));
      assert.equal(still.stdout, `${status({ [OLD]: 'UP' })}\n`);
    });

    test(`${name}, ${path}: the command run before each look (Podman's health check) runs every time, its output kept out`, () => {
      const script = traefikApiUntil('docker', SERVICE, { lacks: `"${OLD}":` }, { seconds: 10, pauseSeconds: 0.05, before: ['docker', 'healthcheck', 'run', 'app-web-v2'] }).script;
      const outcome = runWith(shell, script, [status({ [OLD]: 'UP' }), status({})], path);
      const look = path === 'exec' ? 'docker exec' : 'curl';
      assert.deepEqual(outcome.calls.filter((c) => !c.startsWith('docker port')).map((c) => (c.startsWith(look) ? look : c.split(' ').slice(0, 2).join(' '))), ['docker healthcheck', look, 'docker healthcheck', look]);
      assert.equal(outcome.stdout, `${status({})}\n`);
    });

    test(`${name}, ${path}: the command run between looks (Podman's check, again while Traefik does not route) runs only after a look that did not end the wait`, () => {
      const script = traefikApiUntil('docker', SERVICE, { contains: `"${NEW}":"UP"` }, { seconds: 10, pauseSeconds: 0.05, between: ['docker', 'healthcheck', 'run', 'app-web-v3'] }).script;
      const up = status({ [NEW]: 'UP' });
      const outcome = runWith(shell, script, [status({}), status({ [NEW]: 'DOWN' }), up], path);
      const look = path === 'exec' ? 'docker exec' : 'curl';
      assert.deepEqual(outcome.calls.filter((c) => !c.startsWith('docker port')).map((c) => (c.startsWith(look) ? look : c)), [look, 'docker healthcheck run app-web-v3', look, 'docker healthcheck run app-web-v3', look]);
      assert.equal(outcome.stdout, `${up}\n`);
      // routed at the first look: no check at all
      const first = runWith(shell, script, [up], path);
      assert.deepEqual(first.calls.filter((c) => !c.startsWith('docker port')).map((c) => (c.startsWith(look) ? look : c)), [look]);
      // every third look only
      const sparse = traefikApiUntil('docker', SERVICE, { contains: `"${NEW}":"UP"` }, { seconds: 10, pauseSeconds: 0.05, between: ['docker', 'healthcheck', 'run', 'app-web-v3'], betweenEvery: 3 }).script;
      const notYet = status({});
      const seven = runWith(shell, sparse, [notYet, notYet, notYet, notYet, notYet, notYet, up], path);
      const check = 'docker healthcheck run app-web-v3';
      assert.deepEqual(seven.calls.filter((c) => !c.startsWith('docker port')).map((c) => (c.startsWith(look) ? look : c)), [look, look, look, check, look, look, look, check, look]);
    });
  }

  test(`${name}: a loopback read that fails is read again through the container for that look, and the wait goes on`, () => {
    // curl FAILs once; the exec then answers (the stand-in docker takes the next look), the wait goes on with curl
    const both = status({ [OLD]: 'UP', [NEW]: 'UP' });
    const newOnly = status({ [NEW]: 'UP' });
    const script = traefikApiUntil('docker', SERVICE, { lacks: `"${OLD}":` }, { seconds: 10, pauseSeconds: 0.05 }).script;
    // with the exec path's stand-in, `docker port` says nothing: give the script a port by hand
    const outcome = runWith(shell, script.replace(/^api=\$\([^;]*\);/, 'api=18080;'), ['FAIL', both, newOnly]);
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.deepEqual(outcome.calls.map((c) => c.split(' ')[0] + (c.startsWith('docker') ? ` ${c.split(' ')[1]}` : '')), ['curl', 'docker exec', 'curl']);
    assert.equal(outcome.stdout, `${newOnly}\n`);
  });
}
