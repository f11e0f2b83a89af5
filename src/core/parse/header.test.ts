import { describe, expect, it } from 'vitest';
import { readWithShape, scanHeader } from './header.js';

const YEAR = 2024;

/** The message part of a line after a header scan. */
function messageOf(line: string): string {
  return line.slice(scanHeader(line, YEAR).messageStart);
}

describe('scanHeader', () => {
  it('reads an ISO timestamp, a level, a thread in brackets and a logger with a colon', () => {
    const line = '2024-01-15 14:23:45,123 INFO [main] org.foo.Bar: Started';
    const h = scanHeader(line, YEAR);
    expect(h.signature).toBe('ts:iso level bracket compColon');
    expect(h).toMatchObject({ timestamp: 1705328625123, timestampText: '2024-01-15 14:23:45,123', level: 'info', thread: 'main', component: 'org.foo.Bar' });
    expect(messageOf(line)).toBe('Started');
  });

  it('reads a syslog header with a host and a proc[pid] component', () => {
    const line = 'Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; logname= uid=0';
    const h = scanHeader(line, YEAR);
    expect(h.signature).toBe('ts:syslog host compColon');
    expect(h).toMatchObject({ timestamp: 1718378161000, host: 'combo', component: 'sshd(pam_unix)', pid: '19939' });
    expect(messageOf(line)).toBe('authentication failure; logname= uid=0');
  });

  it('reads an Android logcat header with pid, tid and a level letter', () => {
    const line = '03-17 16:13:38.811  1702  2395 D WindowManager: printFreezingDisplayLogs opening app wtoken';
    const h = scanHeader(line, YEAR);
    expect(h.signature).toBe('ts:md num num level compColon');
    expect(h).toMatchObject({ timestamp: 1710692018811, pid: '1702', level: 'debug', component: 'WindowManager' });
    expect(messageOf(line)).toBe('printFreezingDisplayLogs opening app wtoken');
  });

  it('reads an HDFS header with a compact timestamp, a number and a dotted component with $', () => {
    const line = '081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38865049064139660 terminating';
    const h = scanHeader(line, YEAR);
    expect(h.signature).toBe('ts:compact6 num level compColon');
    expect(h).toMatchObject({ timestamp: 1226262975000, pid: '148', level: 'info', component: 'dfs.DataNode$PacketResponder' });
    expect(messageOf(line)).toBe('PacketResponder 1 for block blk_38865049064139660 terminating');
  });

  it('reads a Zookeeper header with dash separators and a nested bracket group', () => {
    const line = '2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - Notification time out: 3200';
    const h = scanHeader(line, YEAR);
    expect(h.signature).toBe('ts:iso sep level bracket sep');
    expect(h).toMatchObject({ timestamp: 1438191704747, level: 'info', thread: 'QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774' });
    expect(messageOf(line)).toBe('Notification time out: 3200');
  });

  it('reads pipe-delimited fields up to the message', () => {
    const line = '20171223-22:15:29:606|Step_LSC|30002312|onStandStepChanged 3579';
    const h = scanHeader(line, YEAR);
    expect(h.signature).toBe('ts:compact8 sep field sep num sep');
    expect(h).toMatchObject({ timestamp: 1514067329606, component: 'Step_LSC', pid: '30002312' });
    expect(messageOf(line)).toBe('onStandStepChanged 3579');
  });

  it('reads an OpenStack header with a source file token and a request id in brackets', () => {
    const line = 'nova-api.log.1.2017-05-16_13:53:08 2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server [req-38101a0b-2096-447d-96ea-a692162415ae 113d3a99c3da401fbd62cc2caa5b96d2 54fadb412c4e40cdbaed9335e4c35a9e - - -] 10.11.10.1 "GET /v2/x HTTP/1.1" status: 200';
    const h = scanHeader(line, YEAR);
    expect(h.signature).toBe('src ts:iso num level comp bracket');
    expect(h).toMatchObject({
      host: 'nova-api.log.1.2017-05-16_13:53:08',
      timestamp: 1494892800008,
      pid: '25746',
      level: 'info',
      component: 'nova.osapi_compute.wsgi.server',
      requestId: 'req-38101a0b-2096-447d-96ea-a692162415ae',
    });
    expect(h.thread).toBeUndefined();
    expect(messageOf(line)).toBe('10.11.10.1 "GET /v2/x HTTP/1.1" status: 200');
  });

  it('reads a timestamp wrapped in brackets', () => {
    const line = '[Sun Dec 04 04:47:44 2005] [error] [client 1.2.3.4] Directory index forbidden by rule: /var/www/html/';
    const h = scanHeader(line, YEAR);
    expect(h.signature).toBe('ts:ctime level bracket');
    expect(h).toMatchObject({ timestamp: 1133671664000, timestampText: 'Sun Dec 04 04:47:44 2005', level: 'error', thread: 'client 1.2.3.4' });
    expect(messageOf(line)).toBe('Directory index forbidden by rule: /var/www/html/');
    expect(scanHeader('[2024-01-15 14:23:45] production.ERROR: boom', YEAR)).toMatchObject({ timestamp: 1705328625000, component: 'production.ERROR' });
  });

  it('reads level words in any case and in brackets', () => {
    expect(scanHeader('2024-01-15 14:23:45 warning disk low', YEAR).level).toBe('warn');
    expect(scanHeader('2024-01-15 14:23:45 Error disk low', YEAR).level).toBe('error');
    expect(scanHeader('2024-01-15 14:23:45 [DEBUG] disk low', YEAR).level).toBe('debug');
    expect(scanHeader('2024-01-15 14:23:45 CRITICAL disk low', YEAR).level).toBe('fatal');
  });

  it('reads a single-letter level only after a timestamp', () => {
    expect(scanHeader('2024-01-15 14:23:45 E something broke', YEAR)).toMatchObject({ level: 'error', signature: 'ts:iso level' });
    expect(scanHeader('E something broke', YEAR)).toMatchObject({ signature: '', messageStart: 0 });
  });

  it('reads a level word before the timestamp as the level, not as a source token', () => {
    expect(scanHeader(' INFO 2024-01-15 14:23:45 started', YEAR)).toMatchObject({ signature: 'level ts:iso', level: 'info', timestamp: 1705328625000 });
    const h = scanHeader('[ERROR] 2024-01-15 14:23:45 failed', YEAR);
    expect(h).toMatchObject({ signature: 'level ts:iso', level: 'error' });
    expect(h.host).toBeUndefined();
  });

  it('takes a leading epoch timestamp as the timestamp', () => {
    const h = scanHeader('1718376961 INFO server started', YEAR);
    expect(h).toMatchObject({ signature: 'ts:epoch level', timestamp: 1718376961000, level: 'info' });
  });

  it('finds no header in a line of plain words', () => {
    expect(scanHeader('the quick brown fox', YEAR)).toMatchObject({ signature: '', fields: [], messageStart: 0 });
  });

  it('finds no header in a lone separator or a lone number', () => {
    expect(scanHeader('- nothing here', YEAR).messageStart).toBe(0);
    expect(scanHeader('42 apples', YEAR).messageStart).toBe(0);
  });

  it('handles empty and blank lines', () => {
    expect(scanHeader('', YEAR)).toMatchObject({ signature: '', messageStart: 0 });
    expect(scanHeader('   ', YEAR).signature).toBe('');
  });
});

describe('readWithShape', () => {
  it('reads a line with the shape it was learned from', () => {
    const shape = scanHeader('2024-01-15 14:23:45 INFO Starting server', YEAR).fields;
    const h = readWithShape('2024-01-15 14:23:46 WARN Disk low', shape, YEAR);
    expect(h).toMatchObject({ level: 'warn', timestamp: 1705328626000 });
  });

  it('stops at the end of the shape so message words stay in the message', () => {
    const shape = scanHeader('2024-01-15 14:23:45 INFO Starting server', YEAR).fields;
    const line = '2024-01-15 14:23:45 INFO Foo: bar';
    const h = readWithShape(line, shape, YEAR)!;
    expect(h.component).toBeUndefined();
    expect(line.slice(h.messageStart)).toBe('Foo: bar');
  });

  it('returns undefined when a line lacks a field of the shape', () => {
    const shape = scanHeader('2024-01-15 14:23:45 INFO [main] Starting', YEAR).fields;
    expect(readWithShape('2024-01-15 14:23:45 INFO Starting', shape, YEAR)).toBeUndefined();
    expect(readWithShape('\tat com.foo.Bar.run(Bar.java:12)', shape, YEAR)).toBeUndefined();
    expect(readWithShape('', shape, YEAR)).toBeUndefined();
  });

  it('reads a bracketed timestamp with a shape learned from one', () => {
    const shape = scanHeader('[2024-01-15 14:23:45] [info] started', YEAR).fields;
    expect(readWithShape('[2024-01-15 14:23:46] [warn] slow', shape, YEAR)).toMatchObject({ timestamp: 1705328626000, level: 'warn' });
  });
});
