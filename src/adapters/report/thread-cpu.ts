/**
 * For VIGIL_ANALYZE_TIMINGS: the calling thread's CPU time and heap.
 */
import { readFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';

const TICK_MS = 10;

/**
 * CPU time the calling thread has used, in ms, from /proc/thread-self/stat (Linux; `undefined`
 * elsewhere). Unlike wall-clock spans it is not inflated when the machine is busy with other
 * work. Resolution: one clock tick (10 ms).
 */
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

/** `12 MB used of 34 MB`: this thread's V8 heap. */
export function heapMB(): string {
  const h = getHeapStatistics();
  return `${Math.round(h.used_heap_size / 2 ** 20)} MB used of ${Math.round(h.total_heap_size / 2 ** 20)} MB`;
}
