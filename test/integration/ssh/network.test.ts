// Reaching hosts: closed ports, silent ports, a bastion, and the limit on hosts connected at once.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { freePort, startSshd } from '../../helpers/sshd.ts';
import type { TestSshd } from '../../helpers/sshd.ts';
import { createSshRunner } from '../../../src/ssh/runner.ts';
import { describeError, HostError } from '../../../src/errors.ts';
import { clientPortOf, optionsFor, tempHome } from './setup.ts';

let home: ReturnType<typeof tempHome>;
before(() => {
  home = tempHome();
});
after(() => home?.remove());

describe('unreachable hosts', () => {
  it('reports a closed port as unreachable with the socket error', async () => {
    const port = await freePort();
    const runner = createSshRunner({ home: home.path, agentSocket: null, port, keys: [] });
    try {
      const started = Date.now();
      await assert.rejects(runner.exec('127.0.0.1', ['true']), (error: unknown) => {
        assert.ok(error instanceof HostError);
        assert.equal(error.kind, 'unreachable');
        assert.equal(describeError(error), `127.0.0.1: unreachable (connect ECONNREFUSED 127.0.0.1:${port})`);
        return true;
      });
      assert.ok(Date.now() - started < 2_000);
    } finally {
      await runner.close();
    }
  });

  it('times out on a port that accepts TCP but never speaks SSH', async () => {
    const sockets: Socket[] = [];
    const blackhole: Server = createServer((socket) => sockets.push(socket)); // accepts, never answers
    await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
    const port = (blackhole.address() as { port: number }).port;
    const runner = createSshRunner({ home: home.path, agentSocket: null, port, keys: [], connectTimeoutMs: 700 });
    try {
      const started = Date.now();
      await assert.rejects(runner.exec('127.0.0.1', ['true']), (error: unknown) => {
        assert.ok(error instanceof HostError);
        assert.equal(error.kind, 'timeout');
        assert.equal(describeError(error), `127.0.0.1: connect timeout: no SSH session with 127.0.0.1:${port} within 0.7s`);
        return true;
      });
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 650 && elapsed < 3_000, `took ${elapsed} ms`);
      assert.equal(sockets.length, 1, 'the TCP connection was made');
    } finally {
      await runner.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => blackhole.close(resolve));
    }
  });

  it('reports an unknown host name as unreachable', async () => {
    const runner = createSshRunner({ home: home.path, agentSocket: null, keys: [] });
    try {
      await assert.rejects(runner.exec('no-such-host.invalid', ['true']), (error: unknown) => {
        assert.ok(error instanceof HostError);
        assert.equal(error.kind, 'unreachable');
        assert.match(describeError(error), /^no-such-host\.invalid: unreachable \(getaddrinfo (ENOTFOUND|EAI_AGAIN) no-such-host\.invalid\)$/);
        return true;
      });
    } finally {
      await runner.close();
    }
  });
});

describe('bastion', () => {
  let bastion: TestSshd;
  let target: TestSshd;
  before(async () => {
    [bastion, target] = await Promise.all([startSshd({ logLevel: 'DEBUG1' }), startSshd()]);
    // One client key for both, as with a real bastion.
    target.authorize(readFileSync(`${bastion.clientKeyPath}.pub`, 'utf8'));
  });
  after(async () => {
    await Promise.all([bastion?.stop(), target?.stop()]);
  });

  it('reaches every host through one shared bastion connection (forwardOut)', async () => {
    const runner = createSshRunner(
      optionsFor(target, home.path, { keys: [bastion.clientKeyPath], proxy: `root@127.0.0.1:${bastion.port}`, knownHostsFile: `${home.path}/bastion_known_hosts` }),
    );
    try {
      // Two names for the target, so the runner opens two target connections.
      const [first, second] = await Promise.all([
        runner.exec('127.0.0.1', { script: 'echo $SSH_CONNECTION' }),
        runner.exec('localhost', { script: 'echo $SSH_CONNECTION' }),
      ]);
      for (const result of [first, second]) assert.match(result.stdout, new RegExp(` 127\\.0\\.0\\.1 ${target.port}\\n$`));
      // The bastion forwarded both: its log shows direct-tcpip requests to the target's port.
      const bastionLog = await bastion.waitForLog(new RegExp(`direct-tcpip.*port ${target.port}|target 127\\.0\\.0\\.1 port ${target.port}`));
      const forwards = bastionLog.split('\n').filter((line) => /server_request_direct_tcpip: originator/.test(line) && line.includes(`port ${target.port}`));
      assert.equal(forwards.length, 2, bastionLog);
      assert.equal((bastionLog.match(/Accepted publickey/g) ?? []).length, 1, 'one bastion connection for all hosts');
      // The target saw connections from the bastion, not from this process's own TCP connect.
      assert.equal((target.log().match(/Accepted publickey/g) ?? []).length, 2);
      assert.deepEqual(runner.stats(), { '127.0.0.1': { connections: 1, commands: 1 }, localhost: { connections: 1, commands: 1 } });
      // Both host keys were checked and recorded: the bastion's and the target's.
      const known = readFileSync(`${home.path}/bastion_known_hosts`, 'utf8');
      assert.ok(known.includes(`[127.0.0.1]:${bastion.port} `) && known.includes(`[127.0.0.1]:${target.port} `), known);
      const clientPort = clientPortOf(first.stdout);
      assert.ok(clientPort > 0);
    } finally {
      await runner.close();
    }
    await bastion.waitForLog(/(Disconnected from|Connection closed by|Received disconnect from) .*127\.0\.0\.1/);
  });

  it('names the bastion when the bastion cannot be reached', async () => {
    const closedPort = await freePort();
    const runner = createSshRunner(optionsFor(target, home.path, { proxy: `root@127.0.0.1:${closedPort}` }));
    try {
      await assert.rejects(runner.exec('127.0.0.1', ['true']), (error: unknown) => {
        assert.ok(error instanceof HostError);
        assert.equal(error.kind, 'unreachable');
        assert.equal(describeError(error), `127.0.0.1: bastion failed: 127.0.0.1: unreachable (connect ECONNREFUSED 127.0.0.1:${closedPort})`);
        return true;
      });
    } finally {
      await runner.close();
    }
  });
});

describe('hosts connected at once', () => {
  let sshd: TestSshd;
  before(async () => {
    sshd = await startSshd();
  });
  after(async () => {
    await sshd?.stop();
  });

  it('with maxConcurrentHosts 1, works on one host at a time and closes idle connections for waiting hosts', async () => {
    const runner = createSshRunner(optionsFor(sshd, home.path, { maxConcurrentHosts: 1 }));
    try {
      const started = Date.now();
      const results = await Promise.all(
        ['127.0.0.1', 'localhost'].map((host) => runner.exec(host, { script: 'echo "$(date +%s%N) start"; sleep 0.5; echo "$(date +%s%N) end"' })),
      );
      const [a, b] = results.map((result) => result.stdout.trim().split('\n').map((line) => BigInt(line.split(' ')[0]!)));
      const [aStart, aEnd] = a!;
      const [bStart, bEnd] = b!;
      assert.ok(aEnd! <= bStart! || bEnd! <= aStart!, 'both hosts ran at the same time');
      assert.ok(Date.now() - started >= 1_000);
      // The first host's connection was closed to make room; using it again reconnects.
      await runner.exec('127.0.0.1', ['true']);
      assert.deepEqual(runner.stats(), { '127.0.0.1': { connections: 2, commands: 2 }, localhost: { connections: 1, commands: 1 } });
    } finally {
      await runner.close();
    }
  });

  it('keeps every connection open while the hosts fit under the limit', async () => {
    const runner = createSshRunner(optionsFor(sshd, home.path, { maxConcurrentHosts: 2 }));
    try {
      for (let round = 0; round < 3; round++) {
        await Promise.all(['127.0.0.1', 'localhost'].map((host) => runner.exec(host, ['true'])));
      }
      assert.deepEqual(runner.stats(), { '127.0.0.1': { connections: 1, commands: 3 }, localhost: { connections: 1, commands: 3 } });
    } finally {
      await runner.close();
    }
  });
});
