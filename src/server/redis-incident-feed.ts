/**
 * The fleet's incident feed over Redis pub/sub: `vigil worker` processes publish, every
 * `vigil serve` relays to the browsers connected to it.
 *
 * Publishing runs one Lua script, atomically: the project's counter is incremented
 * (`HINCRBY <prefix>incident-feed:seq <project> 1`) and the event is published on
 * `<prefix>incident-feed` as `<epoch>-<seq>\n<project>\n<json>`. So ids are the same on every
 * server and, per project, published in order, whichever worker published them; a client may
 * resume on another server than the one it lost. The epoch (`<prefix>incident-feed:epoch`) names
 * the counter: if Redis loses its data, the counter restarts under a new epoch and clients
 * holding old ids get a reset instead of the wrong events.
 *
 * A relaying server keeps the rings (FeedRings) for every project from the moment it subscribed.
 * Pub/sub does not keep what a disconnected subscriber missed, so on every (re)connection the
 * server subscribes, then reads every project's counter: a project that moved on meanwhile gets
 * its ring dropped and its subscribers a reset. A seq skipped in the stream (say, the
 * subscription came back a moment after the read) is caught when the next event arrives.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { FeedRings, newEpoch, type FeedListener, type FeedRingOptions, type IncidentFeed, type IncidentFeedEvent, type SubscribeOptions } from './incident-feed.js';

const PUBLISH_SCRIPT = `
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  epoch = ARGV[1]
  redis.call('SET', KEYS[1], epoch)
end
local seq = redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
redis.call('PUBLISH', ARGV[3], epoch .. '-' .. seq .. '\\n' .. ARGV[2] .. '\\n' .. ARGV[4])
return seq
`;

export interface RedisFeedOptions extends Partial<FeedRingOptions> {
  /** redis://… (default redis://127.0.0.1:6379). */
  url?: string;
  /** Prefix of the keys and the channel (default `vigil:`). */
  keyPrefix?: string;
  /**
   * true (`vigil serve`): subscribe, keep the rings, serve `subscribe()`. false (`vigil worker`):
   * publish only; `subscribe()` throws.
   */
  relay: boolean;
  /** Connection problems and failed publishes (the feed keeps going; ioredis reconnects). */
  onError?: (err: Error) => void;
  redisOptions?: RedisOptions;
}

export class RedisIncidentFeed implements IncidentFeed {
  private readonly epochKey: string;
  private readonly seqKey: string;
  private readonly channel: string;
  private readonly rings: FeedRings | undefined;
  private subscriber: Redis | undefined;
  private closed = false;
  /** Every (re)connection of the subscriber runs one resync; this is the latest. */
  private syncing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly commands: Redis,
    private readonly opts: RedisFeedOptions,
  ) {
    const prefix = opts.keyPrefix ?? 'vigil:';
    this.epochKey = `${prefix}incident-feed:epoch`;
    this.seqKey = `${prefix}incident-feed:seq`;
    this.channel = `${prefix}incident-feed`;
    if (opts.relay) this.rings = new FeedRings('', opts);
  }

  /** Connects (and, relaying, subscribes and reads the counters); rejects when Redis cannot be reached. */
  static async connect(opts: RedisFeedOptions): Promise<RedisIncidentFeed> {
    const url = opts.url ?? 'redis://127.0.0.1:6379';
    const base: RedisOptions = { lazyConnect: true, ...opts.redisOptions };
    const commands = new Redis(url, { ...base, connectionName: base.connectionName ?? 'vigil-feed' });
    const feed = new RedisIncidentFeed(commands, opts);
    commands.on('error', (err: Error) => feed.opts.onError?.(err));
    try {
      await commands.connect();
      if (opts.relay) await feed.startRelay(url, base);
    } catch (err) {
      await feed.close();
      throw err;
    }
    return feed;
  }

  private async startRelay(url: string, base: RedisOptions): Promise<void> {
    const sub = new Redis(url, { ...base, connectionName: `${base.connectionName ?? 'vigil-feed'}-relay`, autoResubscribe: false });
    this.subscriber = sub;
    sub.on('error', (err: Error) => this.opts.onError?.(err));
    sub.on('message', (channel: string, message: string) => {
      if (channel === this.channel) this.receive(message);
    });
    // every connection after the first: subscribe again, then catch up on what was missed
    let first = true;
    sub.on('ready', () => {
      if (first || this.closed) return;
      this.syncing = this.sync(sub).catch((err: unknown) => this.opts.onError?.(err as Error));
    });
    await sub.connect();
    first = false;
    await this.sync(sub);
  }

  private async sync(sub: Redis): Promise<void> {
    await sub.subscribe(this.channel);
    await this.commands.set(this.epochKey, newEpoch(), 'NX');
    const [epoch, seqs] = await Promise.all([this.commands.get(this.epochKey), this.commands.hgetall(this.seqKey)]);
    const map = new Map<string, number>();
    for (const [projectId, seq] of Object.entries(seqs)) map.set(projectId, Number(seq));
    this.rings!.resync(epoch ?? '', map);
  }

  private receive(message: string): void {
    const a = message.indexOf('\n');
    const b = a < 0 ? -1 : message.indexOf('\n', a + 1);
    if (b < 0) return;
    const id = message.slice(0, a);
    const dash = id.lastIndexOf('-');
    const epoch = id.slice(0, dash);
    const seq = Number(id.slice(dash + 1));
    if (dash <= 0 || !Number.isSafeInteger(seq)) return;
    const rings = this.rings!;
    // an epoch this server does not know yet: the counter was reset (or this is the first event of all)
    if (epoch !== rings.epoch) rings.resync(epoch, new Map());
    rings.append(message.slice(a + 1, b), seq, message.slice(b + 1));
  }

  async publish(projectId: string, event: IncidentFeedEvent): Promise<void> {
    if (this.closed) return;
    await this.commands.eval(PUBLISH_SCRIPT, 2, this.epochKey, this.seqKey, newEpoch(), projectId, this.channel, JSON.stringify(event));
  }

  subscribe(projectId: string, listener: FeedListener, opts?: SubscribeOptions): () => void {
    if (!this.rings) throw new Error('this feed only publishes (connect it with relay: true to subscribe)');
    return this.rings.subscribe(projectId, listener, opts);
  }

  subscribers(projectId?: string): number {
    return this.rings?.subscribers(projectId) ?? 0;
  }

  /** Resolves once the latest resync after a reconnection is done (tests). */
  synced(): Promise<void> {
    return this.syncing;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.rings?.clearListeners();
    const quit = async (r: Redis | undefined): Promise<void> => {
      if (!r) return;
      try {
        if (r.status === 'ready') await r.quit();
        else r.disconnect();
      } catch {
        r.disconnect();
      }
    };
    await Promise.all([quit(this.commands), quit(this.subscriber)]);
  }
}
