// runContainerIfNameFree (src/runtime/container.ts), the one command of a container-run, run by
// real shells (dash, busybox sh) against a stand-in `docker` first on PATH that logs its calls:
// `inspect` succeeds when a file named after the container is there (the name is taken), `run`
// prints an id. Checked: a free name runs the steps before the run, then the run, and prints the
// id; a taken name prints the marker and runs nothing else; a failed step stops the run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runContainerIfNameFree } from '../../../src/runtime/index.ts';
import { deriveDesired } from '../../../src/desired/desired.ts';
import { makeConfig } from '../../unit/helpers/config.ts';
import { SHELLS, runInShell } from '../health/shells.ts';

const TAKEN = 'mrsk: name taken';
const spec = deriveDesired(makeConfig(), 'v3').hosts['h1.example.com']!.containers.find((s) => s.role === 'web')!;

function setUp(): { dir: string; calls: () => string[]; env: NodeJS.ProcessEnv } {
  const dir = mkdtempSync(join(tmpdir(), 'mrsk-run-if-free-'));
  writeFileSync(
    join(dir, 'docker'),
    [
      '#!/bin/sh',
      `echo "docker $1" >> ${dir}/calls`,
      `case "$1" in inspect) for last; do :; done; [ -e "${dir}/taken-$last" ] && { echo "id-of-$last"; exit 0; }; echo "Error: No such object: $last" >&2; exit 1 ;;`,
      `  run) echo ${'f'.repeat(64)} ;; esac`,
    ].join('\n'),
  );
  chmodSync(join(dir, 'docker'), 0o755);
  return {
    dir,
    calls: () => (existsSync(join(dir, 'calls')) ? readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n') : []),
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
  };
}

for (const shell of SHELLS) {
  const name = shell.join(' ');

  test(`${name}: a free name: the cord is made, then the run, whose id is printed`, () => {
    const { dir, calls, env } = setUp();
    try {
      const cord = join(dir, 'cord dir');
      const script = runContainerIfNameFree('docker', spec, { envFile: '/e', cordHostDir: cord }, [`mkdir -p '${cord}' && touch '${cord}/ok'`], TAKEN);
      const result = runInShell(shell, script, env);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `${'f'.repeat(64)}\n`);
      assert.ok(existsSync(join(cord, 'ok')), 'the cord is there');
      assert.deepEqual(calls(), ['docker inspect', 'docker run']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${name}: a taken name: only the marker is printed, nothing is made or run`, () => {
    const { dir, calls, env } = setUp();
    try {
      writeFileSync(join(dir, `taken-${spec.name}`), '');
      const cord = join(dir, 'cord');
      const result = runInShell(shell, runContainerIfNameFree('docker', spec, { envFile: '/e', cordHostDir: cord }, [`mkdir -p '${cord}'`], TAKEN), env);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `${TAKEN}\n`);
      assert.ok(!existsSync(cord));
      assert.deepEqual(calls(), ['docker inspect']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${name}: a step before the run fails: no run, its error and a non-zero exit`, () => {
    const { dir, calls, env } = setUp();
    try {
      writeFileSync(join(dir, 'file'), '');
      const result = runInShell(shell, runContainerIfNameFree('docker', spec, { envFile: '/e', cordHostDir: '/c' }, [`mkdir -p '${dir}/file/cord'`], TAKEN), env);
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /mkdir/);
      assert.deepEqual(calls(), ['docker inspect']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
