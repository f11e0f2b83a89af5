/**
 * A flat copy of a string that keeps no other string alive. Strings a miner keeps for long (template
 * slots and texts, cache keys) are often a slice of the line they came from, which keeps the whole
 * line in memory, or the end of a `+=` chain, which keeps one small object per link: at a few thousand
 * templates that was most of the miner's memory. A property key is a flat, internalised copy, so the
 * key read back from an object is one.
 */
export function ownedString(s: string): string {
  // (shorter strings are never slices or chains in V8: it copies them)
  if (s.length < 13) return s;
  const holder: Record<string, true> = {};
  holder[s] = true;
  for (const k in holder) return k;
  return s;
}
