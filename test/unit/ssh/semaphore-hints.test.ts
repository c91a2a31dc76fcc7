import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Semaphore } from '../../../src/ssh/semaphore.ts';
import { dockerPermissionHint } from '../../../src/ssh/hints.ts';

describe('Semaphore', () => {
  it('never lets more than the limit hold at once, and serves waiters in order', async () => {
    const semaphore = new Semaphore(3);
    let holding = 0;
    let most = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, async (_, index) => {
        await semaphore.acquire();
        order.push(index);
        holding++;
        most = Math.max(most, holding);
        await new Promise((resolve) => setTimeout(resolve, 2));
        holding--;
        semaphore.release();
      }),
    );
    assert.equal(most, 3);
    assert.deepEqual(order, Array.from({ length: 20 }, (_, index) => index));
    assert.equal(semaphore.held, 0);
  });

  it('rejects a limit below 1', () => {
    assert.throws(() => new Semaphore(0), RangeError);
  });
});

describe('dockerPermissionHint', () => {
  it('recognises the docker socket permission error (old and new wording) and names the user', () => {
    const old = 'permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: Get "http://%2Fvar%2Frun%2Fdocker.sock/v1.24/containers/json": dial unix /var/run/docker.sock: connect: permission denied';
    const current = 'permission denied while trying to connect to the docker API at unix:///var/run/docker.sock';
    assert.match(dockerPermissionHint(old, 'deploy') ?? '', /add deploy to the docker group.*usermod -aG docker deploy/);
    assert.match(dockerPermissionHint(current) ?? '', /docker group/);
  });

  it('says nothing about other errors', () => {
    assert.equal(dockerPermissionHint('Error response from daemon: No such container: web'), undefined);
    assert.equal(dockerPermissionHint('sh: 1: docker: Permission denied'), undefined);
  });
});
