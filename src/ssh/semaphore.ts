// A counting semaphore: bounds the SSH channels in flight on one connection (OpenSSH refuses
// more than MaxSessions = 10 per connection, and the refusal sticks until reconnect).

/** At most `limit` holders at once; waiters are served first come, first served. */
export class Semaphore {
  readonly limit: number;
  #held = 0;
  readonly #waiters: Array<() => void> = [];

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`semaphore limit must be a positive integer, got ${limit}`);
    this.limit = limit;
  }

  /** Holders right now. */
  get held(): number {
    return this.#held;
  }

  /** Resolves once a slot is held; call release() exactly once afterwards. */
  acquire(): Promise<void> {
    if (this.#held < this.limit) {
      this.#held++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Gives the slot to the next waiter, or frees it. */
  release(): void {
    const next = this.#waiters.shift();
    if (next) next(); // the slot passes on: #held stays the same
    else if (this.#held > 0) this.#held--;
  }
}
