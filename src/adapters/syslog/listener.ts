/**
 * An opt-in syslog listener: RFC 5424 and RFC 3164 messages over UDP (one datagram, one message)
 * and TCP (octet-counted or LF-terminated frames, RFC 6587), turned into IngestRecords and handed
 * to `onRecords` in batches (one batch per datagram, or per chunk read from a connection).
 *
 * It never crashes on input: oversized messages are dropped and counted (a TCP frame over the
 * limit is skipped without being held in memory), malformed ones are counted, a failing
 * `onRecords` is counted and reported to `onError`. Backpressure: when `onRecords` returns a
 * promise, the TCP connection that produced the batch is paused until it settles (the sender is
 * slowed by TCP itself); UDP cannot be slowed, so datagrams arriving while `maxPendingBatches`
 * deliveries are still pending are dropped and counted as `overloaded`.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import type { IngestLimits, IngestRecord } from '../../core/ingest-protocols/ingest-record.js';
import {
  decodeSyslogFrame,
  parseSyslogMessages,
  SyslogFrameDecoder,
  type FrameEvent,
  type SyslogClock,
} from '../../core/ingest-protocols/syslog.js';

export type SyslogTransport = 'udp' | 'tcp';

export interface SyslogPeer {
  transport: SyslogTransport;
  address: string;
  port: number;
}

export const SYSLOG_DROP_REASONS = ['too_large', 'incomplete_frame', 'invalid_message', 'overloaded', 'connection_limit', 'delivery_error'] as const;
export type SyslogDropReason = (typeof SYSLOG_DROP_REASONS)[number];

export interface SyslogListenerStats {
  received: {
    /** Messages read: datagrams and TCP frames, including those later dropped. */
    messages: number;
    bytes: number;
    datagrams: number;
    connections: number;
  };
  /** Records handed to `onRecords` that it accepted (returned, or resolved). */
  accepted: number;
  /** Accepted records with a value cut to the limits. */
  truncated: number;
  /** Messages (or connections, for `connection_limit`) dropped, by reason. */
  rejected: Record<SyslogDropReason, number>;
  activeConnections: number;
  pendingBatches: number;
}

export interface SyslogListenerOptions {
  /** Port for both transports; 0 picks a free one (the same number for UDP and TCP). */
  port: number;
  /** Address to bind. Default 127.0.0.1: use 0.0.0.0 (or ::) to receive from other machines. */
  host?: string;
  /** Default both. */
  transports?: readonly SyslogTransport[];
  /** Bytes of one message (datagram or frame); larger ones are dropped. Default 64 KiB. */
  maxMessageBytes?: number;
  /** Concurrent TCP connections; more are refused and counted. Default 1,000. */
  maxConnections?: number;
  /** Deliveries still pending past which UDP datagrams are dropped. Default 64. */
  maxPendingBatches?: number;
  /** Close TCP connections idle this long (ms); 0 keeps them. Default 0, as rsyslog does. */
  idleTimeoutMs?: number;
  /** Use the sender's address as host when the message names none. Default true. */
  hostFromPeer?: boolean;
  /** Gives RFC 3164 timestamps their year. Default: the system clock. */
  clock?: SyslogClock;
  /** Limits on message length and attributes (see DEFAULT_INGEST_LIMITS). */
  limits?: Partial<IngestLimits>;
  onRecords(records: IngestRecord[], peer: SyslogPeer): void | Promise<void>;
  onError?(error: Error, peer?: SyslogPeer): void;
}

export interface SyslogListenerAddress {
  host: string;
  udpPort?: number;
  tcpPort?: number;
}

const systemClock: SyslogClock = { now: () => Date.now() };

/** An IPv4 peer of a dual-stack socket as plain IPv4 (`::ffff:10.0.0.5` → `10.0.0.5`). */
function peerAddress(address: string): string {
  return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}

function isPromiseLike(v: unknown): v is PromiseLike<void> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

export class SyslogListener {
  private readonly opts: Required<Omit<SyslogListenerOptions, 'onError' | 'limits'>> & Pick<SyslogListenerOptions, 'onError' | 'limits'>;
  private udp: dgram.Socket | undefined;
  private tcp: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private pending = 0;
  private state: 'new' | 'starting' | 'running' | 'stopped' = 'new';
  private bound: SyslogListenerAddress | undefined;
  private starting: Promise<SyslogListenerAddress> | undefined;
  private readonly counts: Omit<SyslogListenerStats, 'activeConnections' | 'pendingBatches'> = {
    received: { messages: 0, bytes: 0, datagrams: 0, connections: 0 },
    accepted: 0,
    truncated: 0,
    rejected: { too_large: 0, incomplete_frame: 0, invalid_message: 0, overloaded: 0, connection_limit: 0, delivery_error: 0 },
  };

  constructor(options: SyslogListenerOptions) {
    if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) throw new RangeError(`syslog port must be 0–65535, got ${options.port}`);
    this.opts = {
      host: '127.0.0.1',
      transports: ['udp', 'tcp'],
      maxMessageBytes: 64 * 1024,
      maxConnections: 1000,
      maxPendingBatches: 64,
      idleTimeoutMs: 0,
      hostFromPeer: true,
      clock: systemClock,
      ...options,
    };
    if (this.opts.transports.length === 0) throw new RangeError('syslog listener needs at least one transport (udp, tcp)');
  }

  /** Binds the transports; resolves with the ports bound. Rejects (and binds nothing) on failure. */
  start(): Promise<SyslogListenerAddress> {
    if (this.state !== 'new') return Promise.reject(new Error(`syslog listener cannot start: it is ${this.state}`));
    this.state = 'starting';
    this.starting = this.bindAll();
    return this.starting;
  }

  private async bindAll(): Promise<SyslogListenerAddress> {
    const wantTcp = this.opts.transports.includes('tcp');
    const wantUdp = this.opts.transports.includes('udp');
    // with port 0 both transports should share one number: retry when UDP finds it taken
    const attempts = this.opts.port === 0 && wantTcp && wantUdp ? 5 : 1;
    let lastError: unknown;
    for (let attempt = 0; attempt < attempts; attempt++) {
      try {
        let port = this.opts.port;
        const address: SyslogListenerAddress = { host: this.opts.host };
        if (wantTcp) {
          port = await this.listenTcp(port);
          address.tcpPort = port;
        }
        if (wantUdp) address.udpPort = await this.bindUdp(port);
        if (this.state !== 'starting') {
          await this.closeTransports();
          throw new Error('syslog listener was stopped while starting');
        }
        this.bound = address;
        this.state = 'running';
        return address;
      } catch (err) {
        lastError = err;
        await this.closeTransports();
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || this.state !== 'starting') break;
      }
    }
    if (this.state === 'starting') this.state = 'stopped';
    throw lastError;
  }

  /** Stops listening and closes every connection. Safe to call more than once. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    const wasStarting = this.state === 'starting';
    this.state = 'stopped';
    // binding cannot be interrupted: let it finish (it then sees the stop and unbinds), then close
    if (wasStarting) await this.starting?.catch(() => undefined);
    await this.closeTransports();
  }

  address(): SyslogListenerAddress | undefined {
    return this.bound;
  }

  stats(): SyslogListenerStats {
    return {
      received: { ...this.counts.received },
      accepted: this.counts.accepted,
      truncated: this.counts.truncated,
      rejected: { ...this.counts.rejected },
      activeConnections: this.sockets.size,
      pendingBatches: this.pending,
    };
  }

  private async closeTransports(): Promise<void> {
    const udp = this.udp;
    const tcp = this.tcp;
    this.udp = undefined;
    this.tcp = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await Promise.all([
      udp ? new Promise<void>((resolve) => { try { udp.close(() => resolve()); } catch { resolve(); } }) : undefined,
      tcp ? new Promise<void>((resolve) => tcp.close(() => resolve())) : undefined,
    ]);
  }

  private listenTcp(port: number): Promise<number> {
    const server = net.createServer({ pauseOnConnect: false }, (socket) => this.onConnection(socket));
    server.maxConnections = this.opts.maxConnections;
    server.on('drop', () => { this.counts.rejected.connection_limit++; });
    this.tcp = server;
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      server.once('error', onError);
      server.listen(port, this.opts.host, () => {
        server.off('error', onError);
        server.on('error', (err) => this.reportError(err));
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  }

  private bindUdp(port: number): Promise<number> {
    const socket = dgram.createSocket({ type: net.isIPv6(this.opts.host) ? 'udp6' : 'udp4' });
    this.udp = socket;
    socket.on('message', (msg, rinfo) => this.onDatagram(msg, { transport: 'udp', address: peerAddress(rinfo.address), port: rinfo.port }));
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      socket.once('error', onError);
      socket.bind(port, this.opts.host, () => {
        socket.off('error', onError);
        socket.on('error', (err) => this.reportError(err));
        resolve(socket.address().port);
      });
    });
  }

  private onDatagram(msg: Buffer, peer: SyslogPeer): void {
    const c = this.counts;
    c.received.datagrams++;
    c.received.messages++;
    c.received.bytes += msg.length;
    if (msg.length > this.opts.maxMessageBytes) {
      c.rejected.too_large++;
      return;
    }
    if (this.pending >= this.opts.maxPendingBatches) {
      c.rejected.overloaded++;
      return;
    }
    this.deliverFrames([decodeSyslogFrame(msg)], peer);
  }

  private onConnection(socket: net.Socket): void {
    if (this.state !== 'running' && this.state !== 'starting') {
      socket.destroy();
      return;
    }
    this.counts.received.connections++;
    this.sockets.add(socket);
    const peer: SyslogPeer = { transport: 'tcp', address: peerAddress(socket.remoteAddress ?? ''), port: socket.remotePort ?? 0 };
    const decoder = new SyslogFrameDecoder(this.opts.maxMessageBytes);
    if (this.opts.idleTimeoutMs > 0) socket.setTimeout(this.opts.idleTimeoutMs, () => socket.destroy());
    const handle = (events: FrameEvent[]): void => {
      const texts: string[] = [];
      for (const e of events) {
        this.counts.received.messages++;
        if ('frame' in e) texts.push(decodeSyslogFrame(e.frame));
        else if (e.dropped === 'too_large') this.counts.rejected.too_large++;
        else this.counts.rejected.incomplete_frame++;
      }
      if (texts.length === 0) return;
      const pending = this.deliverFrames(texts, peer);
      if (pending) {
        socket.pause();
        pending.then(() => { if (!socket.destroyed) socket.resume(); }, () => { if (!socket.destroyed) socket.resume(); });
      }
    };
    socket.on('data', (chunk: Buffer) => {
      this.counts.received.bytes += chunk.length;
      handle(decoder.push(chunk));
    });
    socket.on('end', () => handle(decoder.end()));
    socket.on('error', () => { /* resets and timeouts end the connection; 'close' cleans up */ });
    socket.on('close', () => {
      this.sockets.delete(socket);
      if (decoder.pendingBytes > 0) this.counts.rejected.incomplete_frame++;
    });
  }

  /** Tells `onError`, which must not take the listener down by throwing. */
  private reportError(err: Error, peer?: SyslogPeer): void {
    try {
      this.opts.onError?.(err, peer);
    } catch {
      // the listener outlives a faulty error handler
    }
  }

  /** Parses and delivers one batch; returns a promise when delivery is asynchronous. */
  private deliverFrames(texts: string[], peer: SyslogPeer): Promise<void> | undefined {
    const result = parseSyslogMessages(texts, { clock: this.opts.clock, limits: this.opts.limits });
    this.counts.rejected.invalid_message += result.rejectedCount;
    if (result.records.length === 0) return undefined;
    const records = result.records;
    if (this.opts.hostFromPeer) for (const r of records) r.host ??= peer.address;
    const truncated = result.truncated;
    const failed = (err: unknown): void => {
      this.counts.rejected.delivery_error += records.length;
      this.reportError(err instanceof Error ? err : new Error(String(err)), peer);
    };
    const succeeded = (): void => {
      this.counts.accepted += records.length;
      this.counts.truncated += truncated;
    };
    let ret: unknown;
    try {
      ret = this.opts.onRecords(records, peer);
    } catch (err) {
      failed(err);
      return undefined;
    }
    if (!isPromiseLike(ret)) {
      succeeded();
      return undefined;
    }
    this.pending++;
    return Promise.resolve(ret).then(succeeded, failed).finally(() => { this.pending--; });
  }
}
