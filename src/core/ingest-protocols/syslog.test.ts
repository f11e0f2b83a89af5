import { describe, expect, it } from 'vitest';
import {
  decodeSyslogFrame,
  encodeOctetCounted,
  type FrameEvent,
  levelFromSyslogSeverity,
  parseSyslog,
  parseSyslogMessages,
  SyslogFrameDecoder,
} from './syslog.js';

const NOW = Date.UTC(2024, 5, 20, 12, 0, 0); // 2024-06-20
const clock = { now: () => NOW };

function ok(line: string): ReturnType<typeof parseSyslog> & { ok: true } {
  const r = parseSyslog(line, clock);
  if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
  return r;
}

describe('parseSyslog: RFC 5424', () => {
  it('reads the RFC examples', () => {
    expect(ok('<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \u{FEFF}\'su root\' failed for lonvick on /dev/pts/8')).toEqual({
      ok: true,
      format: 'rfc5424',
      record: {
        message: "'su root' failed for lonvick on /dev/pts/8",
        timestamp: Date.UTC(2003, 9, 11, 22, 14, 15, 3),
        level: 'fatal',
        service: 'su',
        host: 'mymachine.example.com',
        attributes: { 'syslog.facility': 'auth', 'syslog.severity': 'crit', 'syslog.msgid': 'ID47' },
      },
    });
    const r2 = ok('<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It\'s time to make the do-nuts.');
    expect(r2.record).toEqual({
      message: "%% It's time to make the do-nuts.",
      timestamp: Date.UTC(2003, 7, 24, 12, 14, 15, 0),
      level: 'notice',
      service: 'myproc',
      host: '192.0.2.1',
      attributes: { 'syslog.facility': 'local4', 'syslog.severity': 'notice', 'syslog.procid': '8710' },
    });
    const r3 = ok('<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] \u{FEFF}An application event log entry...');
    expect(r3.record.message).toBe('An application event log entry...');
    expect(r3.record.attributes).toMatchObject({ 'exampleSDID@32473.iut': '3', 'exampleSDID@32473.eventSource': 'Application', 'exampleSDID@32473.eventID': '1011' });
    // no MSG: the structured data is what happened
    const r4 = ok('<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]');
    expect(r4.record.message).toBe('[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]');
    expect(r4.record.attributes!['examplePriority@32473.class']).toBe('high');
  });

  it('reads what util-linux logger and rsyslog send', () => {
    expect(ok('<11>1 2024-06-20T11:56:26.100822+00:00 vm app - - [timeQuality tzKnown="1" isSynced="0"] disk /dev/sda1 is 97% full').record).toEqual({
      message: 'disk /dev/sda1 is 97% full',
      timestamp: Date.UTC(2024, 5, 20, 11, 56, 26, 100),
      level: 'error',
      service: 'app',
      host: 'vm',
      attributes: { 'syslog.facility': 'user', 'syslog.severity': 'err', 'timeQuality.tzKnown': '1', 'timeQuality.isSynced': '0' },
    });
    // RSYSLOG_SyslogProtocol23Format forwarding a message that arrived as 3164: MSG keeps a leading space
    expect(ok('<86>1 2024-06-14T15:16:01.512345+02:00 web-1 sshd 812 - -  Accepted publickey for deploy from 10.0.0.7 port 53122 ssh2').record).toMatchObject({
      message: 'Accepted publickey for deploy from 10.0.0.7 port 53122 ssh2',
      timestamp: Date.UTC(2024, 5, 14, 13, 16, 1, 512),
      service: 'sshd',
      attributes: { 'syslog.facility': 'authpriv', 'syslog.severity': 'info', 'syslog.procid': '812' },
    });
    // rsyslog's origin element, with escaped characters in values
    const r = ok('<46>1 2024-06-14T15:16:01Z web-1 rsyslogd - - [origin software="rsyslogd" swVersion="8.2302.0" x-info="https://www.rsyslog.com"][x@1 q="a \\"quoted\\" \\] \\\\ thing"] start');
    expect(r.record.attributes).toMatchObject({ 'origin.software': 'rsyslogd', 'origin.swVersion': '8.2302.0', 'x@1.q': 'a "quoted" ] \\ thing' });
    expect(r.record.message).toBe('start');
  });

  it('treats NILVALUE fields as absent', () => {
    expect(ok('<14>1 - - - - - - just text').record).toEqual({ message: 'just text', level: 'info', attributes: { 'syslog.facility': 'user', 'syslog.severity': 'info' } });
  });

  it('keeps the header and the rest as message when the structured data is malformed', () => {
    const r = ok('<13>1 2024-06-14T15:16:01Z host app - - [broken sd without end');
    expect(r.format).toBe('rfc5424');
    expect(r.record).toMatchObject({ message: '[broken sd without end', host: 'host', service: 'app' });
  });

  it('falls back to reading a message with an invalid 5424 timestamp as text', () => {
    const r = ok('<13>1 not-a-time host app - - - msg');
    expect(r.format).toBe('rfc3164');
    expect(r.record.message).toBe('1 not-a-time host app - - - msg');
    expect(r.record.level).toBe('notice');
  });
});

describe('parseSyslog: RFC 3164', () => {
  it('reads the classic BSD form with host and TAG[PID]', () => {
    expect(ok('<34>Oct 11 22:14:15 mymachine su: \'su root\' failed for lonvick on /dev/pts/8')).toEqual({
      ok: true,
      format: 'rfc3164',
      record: {
        message: "'su root' failed for lonvick on /dev/pts/8",
        timestamp: Date.UTC(2023, 9, 11, 22, 14, 15), // October is after June 20: last year's
        level: 'fatal',
        service: 'su',
        host: 'mymachine',
        attributes: { 'syslog.facility': 'auth', 'syslog.severity': 'crit' },
      },
    });
    expect(ok('<30>Jun 14 15:16:01 web-1 systemd[1]: Started Session 42 of User deploy.').record).toEqual({
      message: 'Started Session 42 of User deploy.',
      timestamp: Date.UTC(2024, 5, 14, 15, 16, 1),
      level: 'info',
      service: 'systemd',
      host: 'web-1',
      attributes: { 'syslog.facility': 'daemon', 'syslog.severity': 'info', 'syslog.procid': '1' },
    });
  });

  it('reads what a local process writes to /dev/log (no host) and what journald forwards', () => {
    expect(ok('<30>Jun 14 15:16:01 systemd[1]: Starting Cleanup of Temporary Directories...').record).toEqual({
      message: 'Starting Cleanup of Temporary Directories...',
      timestamp: Date.UTC(2024, 5, 14, 15, 16, 1),
      level: 'info',
      service: 'systemd',
      attributes: { 'syslog.facility': 'daemon', 'syslog.severity': 'info', 'syslog.procid': '1' },
    });
    expect(ok('<4>Jun 14 15:16:01 web-1 kernel: [ 1234.567890] Out of memory: Killed process 4242 (java) total-vm:8123456kB').record).toMatchObject({
      message: '[ 1234.567890] Out of memory: Killed process 4242 (java) total-vm:8123456kB',
      level: 'warn',
      service: 'kernel',
      host: 'web-1',
      attributes: { 'syslog.facility': 'kern', 'syslog.severity': 'warning' },
    });
  });

  it('reads lines without PRI, as they sit in /var/log/syslog', () => {
    expect(ok('Jun  4 03:14:15 combo sshd(pam_unix)[19939]: check pass; user unknown').record).toEqual({
      message: 'check pass; user unknown',
      timestamp: Date.UTC(2024, 5, 4, 3, 14, 15),
      service: 'sshd(pam_unix)',
      host: 'combo',
      attributes: { 'syslog.procid': '19939' },
    });
    expect(ok('Jun 14 15:16:01 web-1 postfix/smtpd[2211]: connect from unknown[203.0.113.9]').record).toMatchObject({ service: 'postfix/smtpd', host: 'web-1' });
  });

  it('reads rsyslog\'s forwarding format with an RFC 3339 timestamp', () => {
    expect(ok('<86>2024-06-14T15:16:01.512345+02:00 web-1 sshd[812]: Accepted publickey for root').record).toMatchObject({
      message: 'Accepted publickey for root',
      timestamp: Date.UTC(2024, 5, 14, 13, 16, 1, 512),
      host: 'web-1',
      service: 'sshd',
    });
  });

  it('takes the year from the clock, with the December/January rollover', () => {
    const jan2 = { now: () => Date.UTC(2025, 0, 2, 0, 0, 0) };
    const dec31 = parseSyslog('<13>Dec 31 23:59:58 host app: late', jan2);
    expect(dec31.ok && dec31.record.timestamp).toBe(Date.UTC(2024, 11, 31, 23, 59, 58));
    const lateDec = { now: () => Date.UTC(2024, 11, 31, 23, 59, 0) };
    const jan1 = parseSyslog('<13>Jan  1 00:00:05 host app: early', lateDec);
    expect(jan1.ok && jan1.record.timestamp).toBe(Date.UTC(2025, 0, 1, 0, 0, 5));
  });

  it('keeps a message with a bad PRI or no header whole', () => {
    expect(ok('<999>hello').record).toEqual({ message: '<999>hello' });
    expect(ok('<13>plain words here').record).toEqual({ message: 'plain words here', level: 'notice', attributes: { 'syslog.facility': 'user', 'syslog.severity': 'notice' } });
    expect(ok('<13>app[12]: started').record).toMatchObject({ message: 'started', service: 'app', attributes: { 'syslog.procid': '12' } });
  });

  it('stays linear on hostile input', () => {
    const start = performance.now();
    const r = ok(`<13>1 - h app - - - ${'\n'.repeat(200_000)}x${'\r\n'.repeat(100_000)}`);
    expect(r.record.message.endsWith('x')).toBe(true);
    ok(`<13>1 - h app - - [a${' b="'.repeat(50_000)}`);
    ok(`<13>Jun 14 15:16:01 ${'['.repeat(100_000)}`);
    expect(performance.now() - start).toBeLessThan(1000);
  });

  it('rejects an empty message', () => {
    expect(parseSyslog('<13>', clock)).toEqual({ ok: false, code: 'VIGIL_INGEST_MISSING_MESSAGE', message: 'syslog message has no text' });
    expect(parseSyslog('\n', clock).ok).toBe(false);
  });
});

describe('severity and facility', () => {
  it('maps every PRI', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map(levelFromSyslogSeverity)).toEqual(['fatal', 'fatal', 'fatal', 'error', 'warn', 'notice', 'info', 'debug']);
    const facility = (pri: number): string | undefined => {
      const r = parseSyslog(`<${pri}>x`, clock);
      return r.ok ? r.record.attributes?.['syslog.facility'] : undefined;
    };
    expect([0, 8, 24, 32, 80, 128, 184, 191].map(facility)).toEqual(['kern', 'user', 'daemon', 'auth', 'authpriv', 'local0', 'local7', 'local7']);
  });
});

describe('parseSyslogMessages', () => {
  it('rejects by index and applies limits', () => {
    const result = parseSyslogMessages(['<13>one', '', '<13>1 - h a - - [x@1 k="' + 'v'.repeat(50) + '"] ' + 'm'.repeat(50)], { clock, limits: { maxMessageChars: 10, maxAttributeValueChars: 8 } });
    expect(result.records.map((r) => r.message)).toEqual(['one', 'mmmmmmmmmm']);
    expect(result.records[1]!.attributes!['x@1.k']).toBe('vvvvvvvv');
    expect(result.truncated).toBe(1);
    expect(result.rejected).toEqual([{ index: 1, code: 'VIGIL_INGEST_MISSING_MESSAGE', message: 'syslog message has no text' }]);
  });
});

describe('SyslogFrameDecoder', () => {
  const enc = new TextEncoder();
  const text = (events: FrameEvent[]): (string | { dropped: string; bytes: number })[] => events.map((e) => ('frame' in e ? decodeSyslogFrame(e.frame) : e));

  it('splits octet-counted frames, counting bytes not characters', () => {
    const msg = '<13>1 - host app - - - café ☕ ok';
    const framed = encodeOctetCounted(msg);
    expect(new TextDecoder().decode(framed)).toBe(`${enc.encode(msg).length} ${msg}`);
    const d = new SyslogFrameDecoder(1024);
    const both = new Uint8Array(framed.length * 2);
    both.set(framed, 0);
    both.set(framed, framed.length);
    expect(text(d.push(both))).toEqual([msg, msg]);
  });

  it('reassembles frames fed one byte at a time, in both framings', () => {
    const stream = enc.encode(`${new TextDecoder().decode(encodeOctetCounted('<13>first é'))}<13>second line\r\n\n<14>third\n` + new TextDecoder().decode(encodeOctetCounted('<15>fourth')));
    const d = new SyslogFrameDecoder(1024);
    const out: FrameEvent[] = [];
    for (const b of stream) out.push(...d.push(Uint8Array.of(b)));
    out.push(...d.end());
    expect(text(out)).toEqual(['<13>first é', '<13>second line', '<14>third', '<15>fourth']);
  });

  it('reads a line that starts with a number as a line, not a count', () => {
    const d = new SyslogFrameDecoder(1024);
    expect(text(d.push(enc.encode('2 errors in the last minute\n<13>next\n')))).toEqual(['2 errors in the last minute', '<13>next']);
  });

  it('drops an oversized octet-counted frame without holding it, and resynchronises', () => {
    const d = new SyslogFrameDecoder(16);
    const big = `<13>${'x'.repeat(96)}`;
    const head = enc.encode(`${big.length} ${big.slice(0, 10)}`);
    expect(text(d.push(head))).toEqual([{ dropped: 'too_large', bytes: 100 }]);
    expect(d.pendingBytes).toBe(0);
    expect(text(d.push(enc.encode(big.slice(10, 60))))).toEqual([]);
    expect(text(d.push(enc.encode(`${big.slice(60)}9 <13>small`)))).toEqual(['<13>small']);
  });

  it('drops an oversized line until its LF, and resynchronises', () => {
    const d = new SyslogFrameDecoder(16);
    expect(text(d.push(enc.encode(`<13>${'y'.repeat(30)}`)))).toEqual([{ dropped: 'too_large', bytes: 34 }]);
    expect(d.pendingBytes).toBe(0);
    expect(text(d.push(enc.encode('y'.repeat(100))))).toEqual([]);
    expect(text(d.push(enc.encode('yy\n<13>fine\n')))).toEqual(['<13>fine']);
    expect(text(d.push(enc.encode(`<13>${'z'.repeat(20)}\n<13>ok\n`)))).toEqual([{ dropped: 'too_large', bytes: 24 }, '<13>ok']);
  });

  it('at the end, keeps a last line without LF and drops a cut counted frame', () => {
    const a = new SyslogFrameDecoder(64);
    a.push(enc.encode('<13>no newline'));
    expect(text(a.end())).toEqual(['<13>no newline']);
    const b = new SyslogFrameDecoder(64);
    b.push(enc.encode('30 <13>cut short'));
    expect(text(b.end())).toEqual([{ dropped: 'incomplete', bytes: 16 }]);
    const c = new SyslogFrameDecoder(64);
    c.push(enc.encode('12345'));
    expect(text(c.end())).toEqual(['12345']);
  });

  it('decodes invalid UTF-8 with replacement characters', () => {
    expect(decodeSyslogFrame(Uint8Array.of(0x3c, 0x31, 0x33, 0x3e, 0x61, 0xff, 0x62))).toBe('<13>a\uFFFDb');
  });
});
