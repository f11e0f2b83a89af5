/**
 * CPU time the calling thread has used, in ms, from /proc/thread-self/stat (Linux; `undefined`
 * elsewhere). For VIGIL_ANALYZE_TIMINGS: unlike wall-clock spans it is not inflated when the
 * machine is busy with other work. Resolution: one clock tick (10 ms).
 */
import { readFileSync } from 'node:fs';

const TICK_MS = 10;

export function threadCpuMs(): number | undefined {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'latin1');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * TICK_MS;
  } catch {
    return undefined;
  }
}

/** `cpu 1234 ms` or '' where unknown. */
export function threadCpu(): string {
  const ms = threadCpuMs();
  return ms === undefined ? '' : `, cpu ${ms} ms`;
}
