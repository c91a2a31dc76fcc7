// A small seeded PRNG (mulberry32) for generated test data: the same seed gives the same cases,
// so a failing case can be replayed from the seed printed in the assertion message.

/** Random helpers over one seeded stream. */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [min, max]. */
  int(min: number, max: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** A random subset, in the original order. */
  subset<T>(items: readonly T[], p?: number): T[];
}

/** mulberry32: 32-bit state, good enough spread for test data, trivially reproducible. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const random: Random = {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    pick: (items) => {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[Math.floor(next() * items.length)]!;
    },
    subset: (items, p = 0.5) => items.filter(() => next() < p),
  };
  return random;
}
