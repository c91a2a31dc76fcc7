// Golden argv of the docker builders the operations commands added or rely on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PS_ENTRY_FORMAT, containerLogs, execInContainer, listContainers, restartContainer, runOnce } from '../../../src/runtime/index.ts';

test('restartContainer gives docker restart with the stop timeout', () => {
  assert.deepEqual(restartContainer('docker', 'traefik', 10), ['docker', 'restart', '-t', '10', 'traefik']);
});

test('runOnce passes clear env as sorted --env flags before the secret env file', () => {
  assert.deepEqual(
    runOnce('docker', 'reg/app:v2', ['sh', '-c', 'echo $B'], { network: 'mrsk', env: { B: 'two words', A: '1' }, envFile: '/root/.mrsk/demo/env/demo-web-v2.env' }),
    ['docker', 'run', '--rm', '--network', 'mrsk', '--env', 'A=1', '--env', 'B=two words', '--env-file', '/root/.mrsk/demo/env/demo-web-v2.env', 'reg/app:v2', 'sh', '-c', 'echo $B'],
  );
});

test('runOnce interactive asks for stdin and a terminal', () => {
  assert.deepEqual(runOnce('docker', 'reg/app:v2', ['bin/rails', 'console'], { interactive: true }), ['docker', 'run', '--rm', '-i', '-t', 'reg/app:v2', 'bin/rails', 'console']);
});

test('runOnce without env leaves no --env flag', () => {
  assert.deepEqual(runOnce('docker', 'img', ['true']), ['docker', 'run', '--rm', 'img', 'true']);
});

test('containerLogs follow with tail and since', () => {
  assert.deepEqual(containerLogs('docker', 'demo-web-v2', { lines: 100, since: '10m', follow: true }), ['docker', 'logs', '--tail', '100', '--since', '10m', '--follow', 'demo-web-v2']);
});

test('execInContainer with a terminal', () => {
  assert.deepEqual(execInContainer('docker', 'demo-web-v2', ['sh'], { interactive: true, tty: true }), ['docker', 'exec', '-i', '-t', 'demo-web-v2', 'sh']);
});

test('listContainers filters by several labels, all containers', () => {
  assert.deepEqual(listContainers('docker', { label: ['mrsk.service=demo', 'mrsk.destination=staging'] }, { all: true }), [
    'docker', 'ps', '-a', '--no-trunc', '--filter', 'label=mrsk.service=demo', '--filter', 'label=mrsk.destination=staging', '--format', PS_ENTRY_FORMAT,
  ]);
});
