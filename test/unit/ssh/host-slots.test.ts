// The host slot rules (src/ssh/host-slots.ts) with fake clients and a fake clock: one connection
// per host, concurrent first uses share one open, the least recently used idle connection gives
// way when every slot is taken, a busy one never does, and close() fails whoever still waits.
// The same rules against a real sshd: test/integration/ssh/network.test.ts (maxConcurrentHosts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HostError } from '../../../src/errors.ts';
import { HostSlots, runnerClosedError } from '../../../src/ssh/host-slots.ts';
import type { HostConnection } from '../../../src/ssh/host-slots.ts';

class FakeClient {
  ended = 0;
  waitedFor = 0;
  constructor(readonly host: string) {}
  end(): void {
    this.ended++;
  }
}

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: Error): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Slots over fake clients; `opened` lists every open() in order, `down` each host's onDown. */
function fakeSlots(maxHosts: number, settings: { manualOpen?: boolean; maxChannels?: number } = {}) {
  let clock = 1_000;
  const opened: string[] = [];
  const clients: FakeClient[] = [];
  const pending = new Map<string, Deferred<FakeClient>>();
  const down = new Map<string, (client: FakeClient) => void>();
  const slots = new HostSlots<FakeClient>({
    maxHosts,
    maxChannels: settings.maxChannels ?? 8,
    now: () => clock,
    open: (host, onDown) => {
      opened.push(host);
      down.set(host, onDown);
      if (settings.manualOpen) {
        const wait = deferred<FakeClient>();
        pending.set(host, wait);
        return wait.promise;
      }
      const client = new FakeClient(host);
      clients.push(client);
      return Promise.resolve(client);
    },
    endAndWait: async (client) => {
      client.waitedFor++;
    },
  });
  return {
    slots,
    opened,
    clients,
    down,
    /** Resolves a manual open with a new client. */
    finishOpen(host: string): FakeClient {
      const client = new FakeClient(host);
      clients.push(client);
      pending.get(host)!.resolve(client);
      return client;
    },
    failOpen(host: string, error: Error): void {
      pending.get(host)!.reject(error);
    },
    tick(ms: number): void {
      clock += ms;
    },
    /** Runs one command-like use of `host` at the current time and returns its connection. */
    async touch(host: string): Promise<HostConnection<FakeClient>> {
      return slots.use(host, async (connection) => {
        await connection.ready;
        return connection;
      });
    },
  };
}

/** A use of `host` that stays busy until release() is called. */
function holdBusy(slots: HostSlots<FakeClient>, host: string) {
  const gate = deferred<void>();
  let connection: HostConnection<FakeClient> | undefined;
  const started = deferred<void>();
  const done = slots.use(host, async (held) => {
    connection = held;
    await held.ready;
    started.resolve();
    await gate.promise;
    return held;
  });
  done.catch(() => {}); // the tests that expect a rejection await `done` themselves
  return { done, started: started.promise, release: () => gate.resolve(), connection: () => connection };
}

/** Lets setImmediate callbacks (the slot hand-over) and the promises they settle run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('HostSlots', () => {
  it('refuses fewer than one host slot', () => {
    assert.throws(() => fakeSlots(0), RangeError);
  });

  it('opens one connection per host for the run, shared by concurrent first uses', async () => {
    const { slots, opened } = fakeSlots(30);
    const [a1, a2, b] = await Promise.all([
      slots.use('a', async (connection) => connection.ready),
      slots.use('a', async (connection) => connection.ready),
      slots.use('b', async (connection) => connection.ready),
    ]);
    assert.equal(a1, a2);
    assert.notEqual(a1, b);
    await slots.use('a', async (connection) => connection.ready);
    assert.deepEqual(opened, ['a', 'b']);
    assert.equal(slots.held, 2);
  });

  it('gives each connection its own channel semaphore of maxChannels', async () => {
    const { touch } = fakeSlots(30, { maxChannels: 3 });
    const a = await touch('a');
    const b = await touch('b');
    assert.equal(a.channels.limit, 3);
    assert.notEqual(a.channels, b.channels);
  });

  it('closes the least recently used idle connection when every slot is taken', async () => {
    const fake = fakeSlots(2);
    await fake.touch('a');
    fake.tick(10);
    await fake.touch('b');
    fake.tick(10);
    await fake.touch('a'); // a is now the most recently used
    fake.tick(10);
    await fake.touch('c');
    const [a, b, c] = fake.clients;
    assert.deepEqual([a!.ended, b!.ended, c!.ended], [0, 1, 0], 'b, least recently used, gave way');
    assert.equal(fake.slots.held, 2);
    fake.tick(10);
    await fake.touch('b'); // reopened; a is now the least recently used
    assert.deepEqual(fake.opened, ['a', 'b', 'c', 'b']);
    assert.equal(a!.ended, 1);
    assert.equal(c!.ended, 0);
  });

  it('never reconnects anything while hosts ≤ slots', async () => {
    const fake = fakeSlots(3);
    for (let round = 0; round < 5; round++) {
      for (const host of ['a', 'b', 'c']) {
        fake.tick(1);
        await fake.touch(host);
      }
    }
    assert.deepEqual(fake.opened, ['a', 'b', 'c']);
    assert.ok(fake.clients.every((client) => client.ended === 0));
  });

  it('makes a host wait while every slot holder is busy, and hands the slot over when one goes idle', async () => {
    const fake = fakeSlots(1);
    const a = holdBusy(fake.slots, 'a');
    await a.started;
    const b = fake.touch('b');
    await settle();
    assert.equal(fake.slots.waiting, 1);
    assert.deepEqual(fake.opened, ['a'], 'a busy connection is never evicted');
    a.release();
    await a.done;
    const connection = await b;
    assert.equal(connection.host, 'b');
    assert.deepEqual(fake.opened, ['a', 'b']);
    assert.equal(fake.clients[0]!.ended, 1);
    assert.equal(fake.slots.waiting, 0);
  });

  it("lets the same host's next command keep the connection before a waiting host gets the slot", async () => {
    const fake = fakeSlots(1);
    const first = holdBusy(fake.slots, 'a');
    await first.started;
    const b = fake.touch('b');
    await settle();
    first.release();
    await first.done;
    // the next command of a, awaited right after the first one, before the hand-over runs
    const second = holdBusy(fake.slots, 'a');
    await second.started;
    await settle();
    assert.equal(second.connection(), first.connection(), 'a kept its connection');
    assert.equal(fake.clients[0]!.ended, 0);
    assert.equal(fake.slots.waiting, 1);
    second.release();
    await second.done;
    assert.equal((await b).host, 'b');
    assert.equal(fake.clients[0]!.ended, 1);
  });

  it('does not evict a connection that is still opening', async () => {
    const fake = fakeSlots(1, { manualOpen: true });
    const a = fake.slots.use('a', async (connection) => connection.ready);
    await settle();
    const b = fake.slots.use('b', async (connection) => connection.ready);
    await settle();
    assert.deepEqual(fake.opened, ['a']);
    assert.equal(fake.slots.waiting, 1);
    const clientA = fake.finishOpen('a');
    assert.equal(await a, clientA);
    await settle();
    assert.deepEqual(fake.opened, ['a', 'b'], 'b got the slot once a went idle');
    assert.equal(clientA.ended, 1);
    const clientB = fake.finishOpen('b');
    assert.equal(await b, clientB);
  });

  it('rejects the commands in flight when a connection drops, frees its slot and reopens on next use', async () => {
    const fake = fakeSlots(1);
    const a = holdBusy(fake.slots, 'a');
    await a.started;
    const connection = a.connection()!;
    const seen: Error[] = [];
    connection.inFlight.add((error) => seen.push(error));
    fake.down.get('a')!(fake.clients[0]!);
    assert.equal(seen.length, 1);
    assert.ok(seen[0] instanceof HostError);
    assert.equal((seen[0] as HostError).kind, 'unreachable');
    assert.equal(seen[0]!.message, new HostError('a', 'the SSH connection was closed').message);
    assert.equal(connection.closed, true);
    assert.equal(fake.slots.held, 0);
    a.release();
    await a.done;
    await fake.touch('a');
    assert.deepEqual(fake.opened, ['a', 'a']);
  });

  it('ignores the drop of a client the connection no longer uses', async () => {
    const fake = fakeSlots(2);
    const connection = await fake.touch('a');
    const seen: Error[] = [];
    connection.inFlight.add((error) => seen.push(error));
    fake.down.get('a')!(new FakeClient('a'));
    assert.deepEqual(seen, []);
    assert.equal(connection.closed, false);
    assert.equal(fake.slots.held, 1);
  });

  it('passes an open failure to every use waiting on it, frees the slot, and tries again on the next use', async () => {
    const fake = fakeSlots(1, { manualOpen: true });
    const first = fake.slots.use('a', async (connection) => connection.ready);
    const second = fake.slots.use('a', async (connection) => connection.ready);
    await settle();
    const refused = new HostError('a', 'unreachable (connect ECONNREFUSED)', { kind: 'unreachable' });
    fake.failOpen('a', refused);
    assert.equal(await rejection(first), refused);
    assert.equal(await rejection(second), refused);
    assert.equal(fake.slots.held, 0);
    const retry = fake.slots.use('b', async (connection) => connection.ready);
    await settle();
    assert.deepEqual(fake.opened, ['a', 'b'], 'the failed host left its slot');
    fake.finishOpen('b');
    await retry;
  });

  it('close() ends every connection, fails the waiting hosts and refuses new uses, each with the same error', async () => {
    const fake = fakeSlots(1);
    const a = holdBusy(fake.slots, 'a');
    await a.started;
    const b = fake.touch('b');
    await settle();
    const closing = fake.slots.close();
    const bError = await rejection(b);
    assert.ok(bError instanceof HostError);
    assert.equal(bError.message, runnerClosedError('b').message);
    assert.equal(bError.host, 'b');
    assert.equal(bError.kind, 'error');
    await closing;
    assert.equal(fake.clients[0]!.waitedFor, 1);
    assert.equal(fake.slots.held, 0);
    const late = await rejection(fake.touch('c'));
    assert.equal(late.message, runnerClosedError('c').message);
    assert.deepEqual(fake.opened, ['a']);
    a.release();
    await a.done;
  });

  it('close() while a connection is opening ends the client once it arrives and fails its use', async () => {
    const fake = fakeSlots(2, { manualOpen: true });
    const a = fake.slots.use('a', async (connection) => connection.ready);
    await settle();
    const closing = fake.slots.close();
    const client = fake.finishOpen('a');
    const error = await rejection(a);
    assert.equal(error.message, new HostError('a', 'the SSH runner is closed').message);
    await closing;
    assert.equal(client.ended, 1);
    assert.equal(fake.slots.held, 0);
  });
});
