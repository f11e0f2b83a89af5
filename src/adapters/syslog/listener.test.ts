import dgram from 'node:dgram';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { IngestRecord } from '../../core/ingest-protocols/ingest-record.js';
import { encodeOctetCounted } from '../../core/ingest-protocols/syslog.js';
import { SyslogListener, type SyslogListenerOptions, type SyslogPeer } from './listener.js';

const clock = { now: () => Date.UTC(2024, 5, 20) };
const listeners: SyslogListener[] = [];

afterEach(async () => {
  await Promise.all(listeners.splice(0).map((l) => l.stop()));
});

async function startListener(opts: Partial<SyslogListenerOptions> = {}): Promise<{ listener: SyslogListener; got: { records: IngestRecord[]; peer: SyslogPeer }[]; port: number }> {
  const got: { records: IngestRecord[]; peer: SyslogPeer }[] = [];
  const listener = new SyslogListener({ port: 0, clock, onRecords: (records, peer) => { got.push({ records, peer }); }, ...opts });
  listeners.push(listener);
  const address = await listener.start();
  return { listener, got, port: address.tcpPort ?? address.udpPort! };
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function sendUdp(port: number, ...messages: (string | Buffer)[]): Promise<void> {
  const sock = dgram.createSocket('udp4');
  return new Promise((resolve, reject) => {
    let left = messages.length;
    for (const m of messages) {
      sock.send(typeof m === 'string' ? Buffer.from(m) : m, port, '127.0.0.1', (err) => {
        if (err) reject(err);
        if (--left === 0) {
          sock.close();
          resolve();
        }
      });
    }
  });
}

function connectTcp(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

async function sendTcp(port: number, ...chunks: (string | Uint8Array)[]): Promise<void> {
  const s = await connectTcp(port);
  for (const c of chunks) s.write(c);
  await new Promise<void>((resolve) => s.end(resolve));
}

const messages = (got: { records: IngestRecord[] }[]): string[] => got.flatMap((g) => g.records.map((r) => r.message));

describe('SyslogListener', () => {
  it('receives RFC 5424 and 3164 over UDP on the same port as TCP', async () => {
    const { listener, got, port } = await startListener();
    expect(listener.address()).toEqual({ host: '127.0.0.1', tcpPort: port, udpPort: port });
    await sendUdp(port, '<11>1 2024-06-20T10:00:00Z web-1 app 42 - - disk full\n', '<30>Jun 20 10:00:01 systemd[1]: Started Session 42 of User deploy.');
    await until(() => got.length === 2, 'two datagrams');
    const a = got.find((g) => g.records[0]!.service === 'systemd')!;
    const b = got.find((g) => g.records[0]!.service === 'app')!;
    expect(a.records[0]).toMatchObject({ message: 'Started Session 42 of User deploy.', service: 'systemd', level: 'info', host: '127.0.0.1' });
    expect(b.records[0]).toMatchObject({ message: 'disk full', service: 'app', level: 'error', host: 'web-1', timestamp: Date.UTC(2024, 5, 20, 10) });
    expect(b.peer).toMatchObject({ transport: 'udp', address: '127.0.0.1' });
    expect(listener.stats()).toMatchObject({ received: { datagrams: 2, messages: 2 }, accepted: 2 });
  });

  it('receives octet-counted and LF-framed messages over TCP, split anywhere', async () => {
    const { listener, got, port } = await startListener({ transports: ['tcp'] });
    const framed = Buffer.concat([
      encodeOctetCounted('<13>1 2024-06-20T10:00:00Z h app - - - counted one'),
      encodeOctetCounted('<13>1 2024-06-20T10:00:00Z h app - - - counted two ☕'),
      Buffer.from('<14>Jun 20 10:00:02 h cron[9]: lf one\n<14>Jun 20 10:00:03 h cron[9]: lf two\r\n<14>last without newline'),
    ]);
    const s = await connectTcp(port);
    for (let i = 0; i < framed.length; i += 7) {
      s.write(framed.subarray(i, i + 7));
      await new Promise((r) => setImmediate(r));
    }
    await new Promise<void>((resolve) => s.end(resolve));
    await until(() => messages(got).length === 5, 'five TCP messages');
    expect(messages(got)).toEqual(['counted one', 'counted two ☕', 'lf one', 'lf two', 'last without newline']);
    expect(got[0]!.peer.transport).toBe('tcp');
    expect(listener.stats()).toMatchObject({ received: { connections: 1, messages: 5 }, accepted: 5 });
  });

  it('drops oversized messages on both transports, counts them and goes on', async () => {
    const { listener, got, port } = await startListener({ maxMessageBytes: 100 });
    await sendUdp(port, `<13>${'u'.repeat(200)}`, '<13>small udp');
    await sendTcp(port, encodeOctetCounted(`<13>${'t'.repeat(5000)}`), encodeOctetCounted('<13>small counted'), `<13>${'l'.repeat(5000)}\n<13>small line\n`);
    await until(() => messages(got).length === 3, 'the three small messages');
    expect(messages(got).sort()).toEqual(['small counted', 'small line', 'small udp']);
    expect(listener.stats().rejected.too_large).toBe(3);
  });

  it('counts empty and cut messages', async () => {
    const { listener, got, port } = await startListener();
    await sendUdp(port, '<13>', '<13>fine');
    await sendTcp(port, '40 <13>this frame is cut short');
    await until(() => listener.stats().rejected.incomplete_frame === 1 && got.length === 1, 'the counts');
    expect(listener.stats().rejected.invalid_message).toBe(1);
  });

  it('pauses a TCP connection while onRecords is busy and loses nothing', async () => {
    let busy = 0;
    let maxBusy = 0;
    const seen: string[] = [];
    const { listener, port } = await startListener({
      transports: ['tcp'],
      onRecords: async (records) => {
        busy++;
        maxBusy = Math.max(maxBusy, busy);
        await new Promise((r) => setTimeout(r, 5));
        seen.push(...records.map((r) => r.message));
        busy--;
      },
    });
    const lines = Array.from({ length: 2000 }, (_, i) => `<13>1 - h app - - - line ${i} ${'p'.repeat(200)}\n`).join('');
    await sendTcp(port, lines);
    await until(() => seen.length === 2000, 'every line', 20_000);
    expect(maxBusy).toBe(1);
    expect(seen[0]).toMatch(/^line 0 /);
    expect(seen[1999]).toMatch(/^line 1999 /);
    expect(listener.stats().accepted).toBe(2000);
  });

  it('drops UDP datagrams while too many deliveries are pending', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const { listener, port } = await startListener({ transports: ['udp'], maxPendingBatches: 2, onRecords: () => gate });
    await sendUdp(port, '<13>a', '<13>b', '<13>c', '<13>d');
    await until(() => listener.stats().received.datagrams === 4, 'four datagrams');
    expect(listener.stats()).toMatchObject({ pendingBatches: 2, rejected: { overloaded: 2 } });
    release();
    await until(() => listener.stats().accepted === 2, 'the pending two');
  });

  it('survives an onRecords that throws or rejects, and reports it', async () => {
    const errors: string[] = [];
    let n = 0;
    const { listener, port } = await startListener({
      onRecords: () => {
        n++;
        if (n === 1) throw new Error('sync boom');
        if (n === 2) return Promise.reject(new Error('async boom'));
        return undefined;
      },
      onError: (err) => {
        errors.push(err.message);
        throw new Error('a faulty error handler');
      },
    });
    await sendUdp(port, '<13>one');
    await until(() => errors.length === 1, 'first error');
    await sendTcp(port, '<13>two\n');
    await until(() => errors.length === 2, 'second error');
    await sendUdp(port, '<13>three');
    await until(() => listener.stats().accepted === 1, 'third delivery');
    expect(errors).toEqual(['sync boom', 'async boom']);
    expect(listener.stats().rejected.delivery_error).toBe(2);
  });

  it('refuses connections over the limit and counts them', async () => {
    const { listener, port } = await startListener({ transports: ['tcp'], maxConnections: 1 });
    const first = await connectTcp(port);
    await until(() => listener.stats().activeConnections === 1, 'first connection');
    const second = net.connect(port, '127.0.0.1');
    second.on('error', () => {});
    await until(() => listener.stats().rejected.connection_limit === 1, 'the refused connection');
    first.destroy();
    second.destroy();
  });

  it('stops cleanly with open connections, frees the port, and cannot be restarted', async () => {
    const { listener, port } = await startListener();
    const open = await connectTcp(port);
    const closed = new Promise((r) => open.on('close', r));
    await listener.stop();
    await closed;
    await listener.stop();
    await expect(listener.start()).rejects.toThrow(/stopped/);
    const again = new SyslogListener({ port, onRecords: () => {} });
    listeners.push(again);
    await expect(again.start()).resolves.toMatchObject({ tcpPort: port, udpPort: port });
  });

  it('reports IPv4 peers of a dual-stack socket as IPv4', async () => {
    const { got, port } = await startListener({ host: '::', transports: ['tcp'] }).catch(() => ({ got: undefined, port: 0 }));
    if (!got) return; // no IPv6 on this machine
    await sendTcp(port, '<13>dual stack\n');
    await until(() => got.length === 1, 'the message');
    expect(got[0]!.records[0]!.host).toBe('127.0.0.1');
  });

  it('stops while starting without leaving anything bound', async () => {
    const l = new SyslogListener({ port: 0, onRecords: () => {} });
    const starting = l.start();
    const stopped = l.stop();
    await expect(starting).rejects.toThrow(/stopped while starting/);
    await stopped;
    expect(l.stats().activeConnections).toBe(0);
  });

  it('fails to start on a port in use and binds nothing', async () => {
    const { port } = await startListener({ transports: ['tcp'] });
    const clash = new SyslogListener({ port, transports: ['tcp'], onRecords: () => {} });
    await expect(clash.start()).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(() => new SyslogListener({ port: 70000, onRecords: () => {} })).toThrow(RangeError);
  });
});
