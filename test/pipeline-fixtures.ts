/** Lines and batches the pipeline tests share (src/worker, src/adapters/stream): a quiet service and an error burst. */
import { randomUUID } from 'node:crypto';
import type { VigilStore } from '../src/adapters/store/vigil-store.js';
import type { IngestBatch } from '../src/worker/queue.js';

export const T0 = Date.UTC(2026, 0, 15, 10, 0, 0);
export const stamp = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
/** n ordinary request lines, one a second from `from`. */
export const quiet = (n: number, from = T0): string[] => Array.from({ length: n }, (_, i) => `${stamp(from + i * 1000)} INFO [api] GET /items/${i % 97} 200 ${i % 40}ms`);
/** n lines of one error, one a second from `from`. */
export const burst = (n: number, from = T0 + 400_000): string[] => Array.from({ length: n }, (_, i) => `${stamp(from + i * 1000)} ERROR [db] connection refused to 10.0.0.${i % 9}:5432`);

/** A batch of text lines for a project, received an hour after T0. */
export function lineBatch(projectId: string, texts: string[], id: string = randomUUID(), source = 'app'): IngestBatch {
  return { id, projectId, source, receivedAtMs: T0 + 3_600_000, records: texts.map((text) => ({ kind: 'line', text })) };
}

/** A new project in the store; its id. */
export async function newProject(store: VigilStore): Promise<string> {
  return (await store.createProject({ name: `p-${randomUUID()}`, passwordHash: 'x', notifications: {} }, { hash: randomUUID(), prefix: 'vgl_x' })).id;
}
