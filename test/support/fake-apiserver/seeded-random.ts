/**
 * A small deterministic pseudo-random generator (mulberry32): the same seed gives the same sequence on
 * every machine, so fault plans and benchmark workloads can be replayed.
 *
 * @param seed any 32-bit integer.
 * @returns a function returning values in [0, 1), like `Math.random`.
 * @example
 * const random = seededRandom(42);
 * random(); // always the same first value for seed 42
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
