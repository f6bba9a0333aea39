/** A hand-driven clock for metrics tests: `now()` returns ms, `at(seconds)` / `advance(ms)` move it. */
export interface ManualClock {
  now: () => number;
  set(ms: number): void;
  advance(ms: number): void;
  /** Moves to a whole second (ms = seconds × 1000 + offsetMs). */
  at(seconds: number, offsetMs?: number): void;
}

export function manualClock(startMs = 0): ManualClock {
  let t = startMs;
  return {
    now: () => t,
    set: (ms) => {
      t = ms;
    },
    advance: (ms) => {
      t += ms;
    },
    at: (seconds, offsetMs = 0) => {
      t = seconds * 1000 + offsetMs;
    },
  };
}

/** Sorts readings or deltas by a stable key so tests can compare lists. */
export function byDimensions<T extends { name: string; dimensions: Readonly<Record<string, string>> }>(items: T[]): T[] {
  const key = (x: T): string => `${x.name}|${Object.entries(x.dimensions).map(([k, v]) => `${k}=${v}`).join(',')}`;
  return [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
