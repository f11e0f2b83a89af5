/**
 * A flat copy of a string that keeps no other string alive. Strings a miner keeps for long (template
 * slots and texts, cache keys) are often a slice of the line they came from, which keeps the whole
 * line in memory, or the end of a `+=` chain, which keeps one small object per link: at a few thousand
 * templates that was most of the miner's memory. JSON.parse of a JSON string builds a new flat
 * string from the text, so the round trip is one (exact: lone surrogates are escaped and restored).
 *
 * (It was a property key read back from an object, an internalised copy; but each new key gave the
 * empty object's hidden class one more transition, kept for the run: ~2× the cost per call, ~100k
 * calls on the generated 1M-line corpus.)
 */
export function ownedString(s: string): string {
  // (shorter strings are never slices or chains in V8: it copies them)
  if (s.length < 13) return s;
  return JSON.parse(JSON.stringify(s)) as string;
}
