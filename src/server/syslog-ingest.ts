/**
 * `vigil serve`'s opt-in syslog listener (VIGIL_SYSLOG_PORT): records are ingested under the
 * project of VIGIL_SYSLOG_API_KEY, one batch per datagram or chunk and source, the source being
 * `syslog-<app name>` (or `syslog-<host>` when the message names no app).
 */
import { randomUUID } from 'node:crypto';
import { SyslogListener, type SyslogListenerAddress } from '../adapters/syslog/listener.js';
import type { VigilStore } from '../adapters/store/vigil-store.js';
import type { IngestQueue } from '../worker/queue.js';
import { hashApiKey } from './credentials.js';
import { publishAndWait, recordsBySource, sourceName } from './publish.js';

export interface SyslogIngestOptions {
  store: VigilStore;
  queue: IngestQueue;
  port: number;
  host: string;
  apiKey: string;
  maxMessageBytes?: number;
  ingestTimeoutMs?: number;
  now?: () => number;
  onError?: (err: Error) => void;
}

export class SyslogIngestError extends Error {
  readonly code = 'VIGIL_CONFIG_INVALID';
}

/** Starts the listener; rejects (SyslogIngestError) when the API key is not a project's, or when the port cannot be bound. */
export async function startSyslogIngest(o: SyslogIngestOptions): Promise<{ listener: SyslogListener; address: SyslogListenerAddress }> {
  const key = await o.store.apiKeyByHash(hashApiKey(o.apiKey.trim()));
  if (!key) throw new SyslogIngestError('VIGIL_SYSLOG_API_KEY is not the API key of any project (revoked or mistyped?)');
  const projectId = key.projectId;
  const now = o.now ?? Date.now;
  const timeoutMs = o.ingestTimeoutMs ?? 30_000;
  const listener = new SyslogListener({
    port: o.port,
    host: o.host,
    ...(o.maxMessageBytes !== undefined ? { maxMessageBytes: o.maxMessageBytes } : {}),
    onRecords: async (records) => {
      const receivedAtMs = now();
      const batches = recordsBySource(records, (r) => sourceName(r.service ?? r.host, 'unknown', 'syslog-'));
      await Promise.all([...batches].map(([source, recs]) => publishAndWait(o.queue, { id: randomUUID(), fresh: true, projectId, source, receivedAtMs, records: recs }, timeoutMs)));
    },
    ...(o.onError ? { onError: (err: Error) => o.onError!(err) } : {}),
  });
  try {
    const address = await listener.start();
    return { listener, address };
  } catch (err) {
    await listener.stop();
    throw new SyslogIngestError(`cannot start the syslog listener on ${o.host}:${o.port}: ${(err as Error).message}`);
  }
}
