/**
 * `vigil serve` in fleet mode (REDIS_URL with DATABASE_URL): ingestion publishes into the Redis
 * streams and returns once Redis has the entry; `vigil worker`s process them. This process runs no
 * pipeline, so:
 *
 * - A person's status change (close, ignore, reopen) is sent through the project's stream too,
 *   rather than written to the incident row. The worker owning the project applies it in order
 *   with the logs, to the incident it holds in memory, and stores it with its next flush. Writing
 *   the row directly (even with a version check) would leave the worker's copy stale: its next
 *   flush would put the old status back, or, told to keep the person's status, it would still
 *   count a closed incident's recurrence without reopening it. Through the stream there is one
 *   writer per incident, the change survives a worker's crash like any entry, and a replay after a
 *   takeover applies it at the same point. The request waits (polling `processed_batches`) until
 *   the change is stored, so the reply shows it; without a running worker it answers 503
 *   VIGIL_STATUS_PENDING (the change is queued and still applies later). The change's
 *   `status` event reaches the live feed from the worker, once it is stored, whether or not the
 *   request was still waiting.
 * - /healthz pings Redis; /metrics reads the queue's lag from the streams (every 5 s).
 * - Back-pressure: past VIGIL_FLEET_MAX_PENDING_RECORDS records waiting for the workers (that
 *   read, plus what this server published since), batches are refused with 503
 *   VIGIL_INGEST_QUEUE_FULL, as the embedded queue does past VIGIL_QUEUE_MAX_RECORDS.
 * - The live incident feed relays what the workers publish (Redis pub/sub).
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Incident, IncidentStatus } from '../core/incidents/incident.js';
import type { VigilStore } from '../adapters/store/vigil-store.js';
import { connectRedis, prepareStreams, RedisIngestPublisher, StreamNames } from '../adapters/stream/redis-streams.js';
import type { FleetConfig } from '../config.js';
import type { HealthReport, IncidentCommands } from './app.js';
import { ApiError } from './errors.js';
import { RedisIncidentFeed } from './redis-incident-feed.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Status changes through the stream (see above). */
export class StreamedIncidentCommands implements IncidentCommands {
  /** The worker that applies a change publishes its `status` event, even after this request gave up waiting. */
  readonly announcesStatus = true;

  constructor(
    private readonly store: VigilStore,
    private readonly publisher: RedisIngestPublisher,
    private readonly opts: { timeoutMs?: number; pollMs?: number; newId?: () => string } = {},
  ) {}

  async setIncidentStatus(projectId: string, id: string, status: IncidentStatus, by?: 'session' | 'api_key'): Promise<Incident | undefined> {
    const incident = await this.store.getIncident(projectId, id);
    if (!incident) return undefined;
    const command = { id: `status:${(this.opts.newId ?? randomUUID)()}`, projectId, source: incident.source, incidentId: id, status, ...(by ? { by } : {}), atMs: Date.now() };
    await this.publisher.publishCommand(command);
    const timeoutMs = this.opts.timeoutMs ?? 10_000;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      await sleep(this.opts.pollMs ?? 50);
      if (await this.store.isBatchProcessed(projectId, command.id)) return this.store.getIncident(projectId, id);
    }
    throw new ApiError(503, 'VIGIL_STATUS_PENDING', `the change is queued and will be applied when a worker reaches it, but none did within ${timeoutMs / 1000} s (are \`vigil worker\`s running?); check the incident again later`);
  }
}

export interface FleetIngest {
  redis: Redis;
  publisher: RedisIngestPublisher;
  commands: StreamedIncidentCommands;
  feed: RedisIncidentFeed;
  health(): Promise<HealthReport>;
  close(): Promise<void>;
}

/** Connects to Redis, checks the shard count with the fleet, creates the streams. */
export async function openFleetIngest(store: VigilStore, fleet: FleetConfig, onFeedError: (err: Error) => void): Promise<FleetIngest> {
  const redis = await connectRedis(fleet.redisUrl, 'vigil-serve');
  try {
    const names = new StreamNames(fleet.prefix, fleet.shards);
    await prepareStreams(redis, names);
    const publisher = new RedisIngestPublisher(redis, names, { maxPendingRecords: fleet.maxPendingRecords });
    publisher.startStats();
    const feed = await RedisIncidentFeed.connect({ url: fleet.redisUrl, keyPrefix: `${fleet.prefix}:`, relay: true, onError: onFeedError });
    return {
      redis,
      publisher,
      commands: new StreamedIncidentCommands(store, publisher),
      feed,
      async health() {
        const stats = publisher.stats();
        try {
          await publisher.ping();
          return { ok: true, mode: 'fleet', redis: { ok: true }, stream: { shards: names.shards, ...stats } };
        } catch (err) {
          return { ok: false, mode: 'fleet', redis: { ok: false, error: (err as Error).message }, stream: { shards: names.shards, ...stats } };
        }
      },
      async close() {
        publisher.close();
        await feed.close();
        await redis.quit().catch(() => redis.disconnect());
      },
    };
  } catch (err) {
    redis.disconnect();
    throw err;
  }
}
