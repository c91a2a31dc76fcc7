// One connection per host, and a bound on how many hosts are connected at once.
//
// Policies (why they are what they are):
// - One connection per host for a whole run, opened on first use; concurrent first calls share
//   one connect. A no-op `mrsk plan` therefore costs one TCP+SSH handshake per host.
// - A host holds one of maxHosts slots while its connection is open or opening. When every slot
//   is taken and another host needs one, the least recently used *idle* connection (no command in
//   flight) is closed to make room; otherwise the host waits for one to go idle. So with
//   ≤ maxHosts hosts nothing is ever reconnected.
// - Each connection carries a channel semaphore (maxChannels): OpenSSH refuses more than
//   MaxSessions (10) channels and the refusal sticks until reconnect.
// Nothing here speaks SSH: a connection is whatever `open` resolves to, so the slot and eviction
// rules run in unit tests with a fake client and a fake clock.
import { HostError } from '../errors.ts';
import { Semaphore } from './semaphore.ts';

/** What the slots need of a client: a way to close it without waiting. */
export interface SlotClient {
  end(): void;
}

export interface HostConnection<C extends SlotClient> {
  readonly host: string;
  ready: Promise<C>;
  client?: C;
  readonly channels: Semaphore;
  /** Commands in flight or waiting for a channel. */
  busy: number;
  lastUsed: number;
  closed: boolean;
  /** Rejects the in-flight commands when the connection drops. */
  readonly inFlight: Set<(error: Error) => void>;
}

export interface HostSlotsOptions<C extends SlotClient> {
  /** Hosts connected (or connecting) at once; at least 1. */
  readonly maxHosts: number;
  /** Channels in flight per connection. */
  readonly maxChannels: number;
  /** Opens a host's connection once it holds a slot. `onDown(client)` must run once the ready connection closes. */
  open(host: string, onDown: (client: C) => void): Promise<C>;
  /** Ends a client and resolves once it is gone (used by close()). */
  endAndWait(client: C): Promise<void>;
  /** The clock behind least-recently-used (default Date.now). */
  readonly now?: () => number;
}

/** The error for any use of the runner after close(). */
export function runnerClosedError(host: string): HostError {
  return new HostError(host, 'the SSH runner is closed', { kind: 'error' });
}

export class HostSlots<C extends SlotClient> {
  readonly #options: HostSlotsOptions<C>;
  readonly #now: () => number;
  readonly #connections = new Map<string, HostConnection<C>>();
  /** Connections holding a host slot (open or opening). */
  readonly #slotHolders = new Set<HostConnection<C>>();
  readonly #slotWaiters: Array<() => void> = [];
  #closing = false;

  constructor(options: HostSlotsOptions<C>) {
    if (options.maxHosts < 1) throw new RangeError('maxConcurrentHosts must be at least 1');
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Runs `work` with the host's connection (opening it if needed) counted as busy, so it is never
   * evicted meanwhile; afterwards the connection may give its slot to a waiting host.
   */
  async use<T>(host: string, work: (connection: HostConnection<C>) => Promise<T>): Promise<T> {
    const connection = this.#connectionFor(host);
    connection.busy++;
    try {
      return await work(connection);
    } finally {
      connection.busy--;
      connection.lastUsed = this.#now();
      if (connection.busy === 0) this.#maybeYieldSlot(connection);
    }
  }

  /** Hosts holding a slot right now. */
  get held(): number {
    return this.#slotHolders.size;
  }

  /** Hosts waiting for a slot right now. */
  get waiting(): number {
    return this.#slotWaiters.length;
  }

  /** Refuses new work, wakes the waiters (they fail) and ends every connection. */
  async close(): Promise<void> {
    this.#closing = true;
    for (const waiter of this.#slotWaiters.splice(0)) waiter();
    const connections = [...this.#connections.values(), ...this.#slotHolders];
    const waits: Array<Promise<void>> = [];
    for (const connection of new Set(connections)) {
      connection.closed = true;
      waits.push(connection.ready.then((client) => this.#options.endAndWait(client), () => {}));
    }
    await Promise.all(waits);
    for (const connection of connections) this.#markConnectionDown(connection);
  }

  #connectionFor(host: string): HostConnection<C> {
    if (this.#closing) throw runnerClosedError(host);
    const existing = this.#connections.get(host);
    if (existing && !existing.closed) return existing;
    const connection: HostConnection<C> = {
      host,
      ready: Promise.resolve() as unknown as Promise<C>,
      channels: new Semaphore(this.#options.maxChannels),
      busy: 0,
      lastUsed: this.#now(),
      closed: false,
      inFlight: new Set(),
    };
    this.#connections.set(host, connection);
    connection.ready = this.#open(connection);
    connection.ready.catch(() => {}); // the caller of use() sees the error; avoid an unhandled rejection here
    return connection;
  }

  async #open(connection: HostConnection<C>): Promise<C> {
    await this.#acquireSlot(connection);
    try {
      if (this.#closing) throw runnerClosedError(connection.host);
      const client = await this.#options.open(connection.host, (client) => this.#onConnectionDown(connection, client));
      connection.client = client;
      if (connection.closed) {
        client.end(); // close() or a drop happened while connecting
        throw runnerClosedError(connection.host);
      }
      return client;
    } catch (error) {
      this.#markConnectionDown(connection);
      throw error;
    }
  }

  #onConnectionDown(connection: HostConnection<C>, client: C): void {
    if (connection.client !== undefined && connection.client !== client) return;
    const lost = new HostError(connection.host, 'the SSH connection was closed', { kind: 'unreachable' });
    for (const reject of connection.inFlight) reject(lost);
    this.#markConnectionDown(connection);
  }

  #markConnectionDown(connection: HostConnection<C>): void {
    if (connection.closed && !this.#slotHolders.has(connection)) return;
    connection.closed = true;
    if (this.#connections.get(connection.host) === connection) this.#connections.delete(connection.host);
    if (this.#slotHolders.delete(connection)) this.#slotWaiters.shift()?.();
  }

  async #acquireSlot(connection: HostConnection<C>): Promise<void> {
    for (;;) {
      if (this.#closing) throw runnerClosedError(connection.host);
      if (this.#slotHolders.size < this.#options.maxHosts) {
        this.#slotHolders.add(connection);
        return;
      }
      const idle = this.#leastRecentlyUsedIdle();
      if (idle) {
        idle.client?.end();
        this.#markConnectionDown(idle);
        continue;
      }
      await new Promise<void>((resolve) => this.#slotWaiters.push(resolve));
    }
  }

  #leastRecentlyUsedIdle(): HostConnection<C> | undefined {
    let best: HostConnection<C> | undefined;
    for (const holder of this.#slotHolders) {
      if (holder.busy > 0 || holder.client === undefined || holder.closed) continue;
      if (!best || holder.lastUsed < best.lastUsed) best = holder;
    }
    return best;
  }

  // Runs after a host's last command finished. setImmediate lets the same host's next command
  // (awaited right after this one) keep the connection before it is given away.
  #maybeYieldSlot(connection: HostConnection<C>): void {
    if (this.#slotWaiters.length === 0) return;
    setImmediate(() => {
      if (connection.busy > 0 || connection.closed || this.#slotWaiters.length === 0) return;
      connection.client?.end();
      this.#markConnectionDown(connection);
    });
  }
}
