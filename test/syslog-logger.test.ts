/**
 * A real syslog client: util-linux `logger` sends to Vigil's syslog listener on a free port, over
 * UDP and TCP (LF-terminated and octet-counted), in RFC 5424 and RFC 3164. The message, app name,
 * severity, facility and host must arrive.
 *
 * Skipped when `logger` is not installed (apt-get install bsdutils), unless
 * VIGIL_REQUIRE_SERVICES=1 (CI), where that fails.
 */
import { execFile, execFileSync } from 'node:child_process';
import { hostname } from 'node:os';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SyslogListener, type SyslogPeer } from '../src/adapters/syslog/listener.js';
import type { IngestRecord } from '../src/core/ingest-protocols/ingest-record.js';

const run = promisify(execFile);

function findLogger(): string | undefined {
  for (const path of ['/usr/bin/logger', '/bin/logger']) {
    try {
      const out = execFileSync(path, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      if (out.includes('util-linux')) return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

const LOGGER = findLogger();
if (!LOGGER) {
  const msg = 'syslog-logger: util-linux logger not found (apt-get install -y bsdutils)';
  if (process.env.VIGIL_REQUIRE_SERVICES === '1') throw new Error(`${msg}; required because VIGIL_REQUIRE_SERVICES=1`);
  console.warn(`${msg}: skipping the real-client syslog tests`);
}

describe.skipIf(!LOGGER)('syslog from util-linux logger', () => {
  const got: { record: IngestRecord; peer: SyslogPeer }[] = [];
  let listener: SyslogListener;
  let port: number;

  beforeAll(async () => {
    listener = new SyslogListener({
      port: 0,
      maxMessageBytes: 2048,
      onRecords: (records, peer) => { for (const record of records) got.push({ record, peer }); },
    });
    const address = await listener.start();
    port = address.tcpPort!;
  });

  afterAll(async () => {
    await listener?.stop();
  });

  async function send(args: string[], message: string): Promise<{ record: IngestRecord; peer: SyslogPeer }> {
    await run(LOGGER!, ['--server', '127.0.0.1', '--port', String(port), ...args, message], { timeout: 10_000 });
    const end = Date.now() + 5000;
    for (;;) {
      const hit = got.find((g) => g.record.message === message);
      if (hit) return hit;
      if (Date.now() > end) throw new Error(`"${message}" did not arrive (got: ${JSON.stringify(got.map((g) => g.record.message))})`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  const host = hostname();
  const shortHost = host.split('.')[0];

  it.each([
    ['udp', 'rfc5424', ['--udp', '--rfc5424']],
    ['tcp (LF)', 'rfc5424', ['--tcp', '--rfc5424']],
    ['tcp (octet-counted)', 'rfc5424', ['--tcp', '--octet-count', '--rfc5424']],
  ] as const)('RFC 5424 over %s', async (transport, _format, flags) => {
    const before = Date.now();
    const message = `payment service: connection refused to db-1:5432 via ${transport} ☕`;
    const { record, peer } = await send([...flags, '-t', 'app', '-p', 'user.err'], message);
    expect(peer.transport).toBe(transport.startsWith('udp') ? 'udp' : 'tcp');
    expect(record).toMatchObject({
      message,
      service: 'app',
      level: 'error',
      attributes: { 'syslog.facility': 'user', 'syslog.severity': 'err', 'timeQuality.tzKnown': '1' },
    });
    // logger writes the host name, made fully qualified when the resolver knows a canonical name
    expect([host, shortHost].includes(record.host!) || record.host!.startsWith(`${shortHost}.`)).toBe(true);
    expect(record.timestamp).toBeGreaterThanOrEqual(before - 2000);
    expect(record.timestamp).toBeLessThanOrEqual(Date.now() + 2000);
  });

  it.each([
    ['udp', ['--udp', '--rfc3164']],
    ['tcp', ['--tcp', '--rfc3164']],
  ] as const)('RFC 3164 over %s', async (transport, flags) => {
    const message = `disk /dev/sda1 is 97% full (${transport})`;
    const { record } = await send([...flags, '-t', 'cron', '-p', 'local3.warning'], message);
    expect(record).toMatchObject({
      message,
      service: 'cron',
      level: 'warn',
      host: shortHost,
      attributes: { 'syslog.facility': 'local3', 'syslog.severity': 'warning' },
    });
    // 3164 carries no year or zone: the listener's clock gives the year
    expect(new Date(record.timestamp!).getUTCFullYear()).toBe(new Date().getUTCFullYear());
  });

  it('carries the pid, msgid and structured data of RFC 5424', async () => {
    const message = 'order A-1009 charged';
    const { record } = await send(['--tcp', '--octet-count', '--rfc5424', '-i', '--msgid', 'PAY42', '--sd-id', 'order@32473', '--sd-param', 'id="A-1009"', '--sd-param', 'amount="12.50"', '-t', 'billing', '-p', 'local0.notice'], message);
    expect(record).toMatchObject({
      message,
      service: 'billing',
      level: 'notice',
      attributes: { 'syslog.facility': 'local0', 'syslog.msgid': 'PAY42', 'order@32473.id': 'A-1009', 'order@32473.amount': '12.50' },
    });
    expect(record.attributes!['syslog.procid']).toMatch(/^\d+$/);
  });

  it('drops a message over the size limit, counts it, and keeps receiving', async () => {
    const before = listener.stats().rejected.too_large;
    await run(LOGGER!, ['--server', '127.0.0.1', '--port', String(port), '--tcp', '--octet-count', '--rfc5424', '--size', '8192', '-t', 'big', 'x'.repeat(4000)], { timeout: 10_000 });
    await run(LOGGER!, ['--server', '127.0.0.1', '--port', String(port), '--udp', '--rfc5424', '--size', '8192', '-t', 'big', 'y'.repeat(4000)], { timeout: 10_000 });
    const end = Date.now() + 5000;
    while (listener.stats().rejected.too_large < before + 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    expect(listener.stats().rejected.too_large).toBe(before + 2);
    const { record } = await send(['--udp', '--rfc5424', '-t', 'after'], 'still listening');
    expect(record.service).toBe('after');
  });
});
