import { describe, expect, it } from 'vitest';
import { detectFormat, LineParser, messageOnlyParser, type ParsedLine } from './line-parser.js';

const YEAR = 2024;

function parserFor(sample: readonly string[]): LineParser {
  return new LineParser(detectFormat(sample, YEAR), YEAR);
}

/** Learns the format from the lines themselves, then parses each. */
function parseAll(lines: readonly string[]): ParsedLine[] {
  const p = parserFor(lines);
  return lines.map((l) => p.parse(l));
}

describe('detectFormat and LineParser on text headers', () => {
  it('parses ISO lines with a level, a thread and a logger', () => {
    const [a, b] = parseAll([
      '2024-01-15 14:23:45,123 INFO [main] org.foo.Bar: Started',
      '2024-01-15 14:23:46,001 ERROR [pool-1-thread-3] org.foo.Baz: Connection refused to 10.0.0.1:5432',
    ]);
    expect(a).toEqual({
      headerMatched: true,
      record: { timestamp: 1705328625123, timestampText: '2024-01-15 14:23:45,123', level: 'info', component: 'org.foo.Bar', attributes: { thread: 'main' }, message: 'Started' },
    });
    expect(b!.record).toMatchObject({ level: 'error', component: 'org.foo.Baz', attributes: { thread: 'pool-1-thread-3' }, message: 'Connection refused to 10.0.0.1:5432' });
  });

  it('parses syslog lines with a host and proc[pid]', () => {
    const lines = [
      'Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4',
      'Jun 14 15:16:02 combo sshd(pam_unix)[19937]: check pass; user unknown',
      'Jun 15 02:04:59 combo sshd[20882]: Accepted password for bob',
    ];
    const p = parserFor(lines);
    expect(p.format).toMatchObject({ kind: 'text', signature: 'ts:syslog host compColon' });
    expect(p.parse(lines[2]!).record).toEqual({
      timestamp: Date.UTC(2024, 5, 15, 2, 4, 59),
      timestampText: 'Jun 15 02:04:59',
      host: 'combo',
      component: 'sshd',
      pid: '20882',
      message: 'Accepted password for bob',
    });
  });

  it('parses Android logcat lines', () => {
    const [a, b] = parseAll([
      '03-17 16:13:38.811  1702  2395 D WindowManager: printFreezingDisplayLogs opening app wtoken = AppWindowToken{9f4ef63}',
      '03-17 16:13:38.819  1702  8671 W PowerManagerService: acquire lock=233570404, flags=0x1',
    ]);
    expect(a!.record).toMatchObject({ timestamp: 1710692018811, pid: '1702', level: 'debug', component: 'WindowManager', message: 'printFreezingDisplayLogs opening app wtoken = AppWindowToken{9f4ef63}' });
    expect(b!.record).toMatchObject({ level: 'warn', component: 'PowerManagerService', message: 'acquire lock=233570404, flags=0x1' });
  });

  it('parses HDFS lines', () => {
    const [a] = parseAll([
      '081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38865049064139660 terminating',
      '081109 203807 222 INFO dfs.DataNode$PacketResponder: PacketResponder 0 for block blk_-6952295868487656571 terminating',
    ]);
    expect(a).toEqual({
      headerMatched: true,
      record: {
        timestamp: 1226262975000,
        timestampText: '081109 203615',
        pid: '148',
        level: 'info',
        component: 'dfs.DataNode$PacketResponder',
        message: 'PacketResponder 1 for block blk_38865049064139660 terminating',
      },
    });
  });

  it('parses Zookeeper lines', () => {
    const [a, b] = parseAll([
      '2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - Notification time out: 3200',
      '2015-07-29 19:04:12,394 - WARN  [RecvWorker:188978561024:QuorumCnxManager$RecvWorker@765] - Interrupting SendWorker',
    ]);
    expect(a!.record).toMatchObject({ timestamp: 1438191704747, level: 'info', message: 'Notification time out: 3200' });
    expect(b!.record).toMatchObject({ level: 'warn', attributes: { thread: 'RecvWorker:188978561024:QuorumCnxManager$RecvWorker@765' }, message: 'Interrupting SendWorker' });
  });

  it('parses pipe-delimited lines, including a timestamp with unpadded seconds', () => {
    const [a, b] = parseAll([
      '20171223-22:15:29:606|Step_LSC|30002312|onStandStepChanged 3579',
      '20171223-22:16:0:119|Step_SPUtils|30002312| getTodayTotalDetailSteps = 1514038440000##6993##548365##8661##12266##27164404',
    ]);
    expect(a!.record).toEqual({ timestamp: 1514067329606, timestampText: '20171223-22:15:29:606', component: 'Step_LSC', pid: '30002312', message: 'onStandStepChanged 3579' });
    expect(b!.record).toMatchObject({ timestamp: 1514067360119, component: 'Step_SPUtils', message: 'getTodayTotalDetailSteps = 1514038440000##6993##548365##8661##12266##27164404' });
  });

  it('parses OpenStack lines and extracts the request id', () => {
    const lines = [
      'nova-api.log.1.2017-05-16_13:53:08 2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server [req-38101a0b-2096-447d-96ea-a692162415ae 113d3a99c3da401fbd62cc2caa5b96d2 54fadb412c4e40cdbaed9335e4c35a9e - - -] 10.11.10.1 "GET /v2/x HTTP/1.1" status: 200',
      'nova-compute.log.1.2017-05-16_13:55:31 2017-05-16 00:00:04.500 2931 INFO nova.compute.manager [req-3ea4052c-895d-4b64-9e2d-04d64c4d94ab - - - - -] [instance: b9000564-fe1a-409b-b8cc-1e88b294cd1d] VM Started (Lifecycle Event)',
    ];
    const [a, b] = parseAll(lines);
    expect(a!.record).toEqual({
      host: 'nova-api.log.1.2017-05-16_13:53:08',
      timestamp: 1494892800008,
      timestampText: '2017-05-16 00:00:00.008',
      pid: '25746',
      level: 'info',
      component: 'nova.osapi_compute.wsgi.server',
      requestId: 'req-38101a0b-2096-447d-96ea-a692162415ae',
      message: '10.11.10.1 "GET /v2/x HTTP/1.1" status: 200',
    });
    expect(b!.record).toMatchObject({ host: 'nova-compute.log.1.2017-05-16_13:55:31', requestId: 'req-3ea4052c-895d-4b64-9e2d-04d64c4d94ab', message: '[instance: b9000564-fe1a-409b-b8cc-1e88b294cd1d] VM Started (Lifecycle Event)' });
  });

  it('reads level words in any case and single letters', () => {
    const recs = parseAll([
      '2024-01-15 14:23:45 info started',
      '2024-01-15 14:23:46 Warning slow',
      '2024-01-15 14:23:47 ERROR failed',
      '2024-01-15 14:23:48 E failed again',
      '2024-01-15 14:23:49 fatal gone',
    ]).map((p) => [p.record.level, p.record.message]);
    expect(recs).toEqual([['info', 'started'], ['warn', 'slow'], ['error', 'failed'], ['error', 'failed again'], ['fatal', 'gone']]);
  });

  it('keeps a [component] group as the thread attribute and a component: prefix as the component', () => {
    const [a] = parseAll(['2024-01-15 14:23:45 INFO [scheduler] tick 1', '2024-01-15 14:23:46 INFO [scheduler] tick 2']);
    expect(a!.record).toMatchObject({ level: 'info', attributes: { thread: 'scheduler' }, message: 'tick 1' });
    const [b] = parseAll(['2024-01-15 14:23:45 INFO scheduler: tick 1', '2024-01-15 14:23:46 INFO scheduler: tick 2']);
    expect(b!.record).toMatchObject({ level: 'info', component: 'scheduler', message: 'tick 1' });
  });

  it('parses lines that start with epoch seconds or milliseconds', () => {
    const [a, b] = parseAll(['1718376961 INFO server started', '1718376962123 WARN queue full']);
    expect(a!.record).toEqual({ timestamp: 1718376961000, timestampText: '1718376961', level: 'info', message: 'server started' });
    expect(b!.record).toMatchObject({ timestamp: 1718376962123, level: 'warn', message: 'queue full' });
  });

  it('parses Apache error-log lines with a bracketed ctime timestamp', () => {
    const [a] = parseAll([
      '[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok /etc/httpd/conf/workers2.properties',
      '[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6',
    ]);
    expect(a!.record).toEqual({ timestamp: 1133671664000, timestampText: 'Sun Dec 04 04:47:44 2005', level: 'notice', message: 'workerEnv.init() ok /etc/httpd/conf/workers2.properties' });
  });
});

describe('detectFormat and LineParser on JSON lines', () => {
  it('reads message, level, time, service and request id keys', () => {
    const p = parserFor(['{"timestamp":"2024-01-15T14:23:45.123Z","level":"error","message":"db down","service":"api","request_id":"r-1"}']);
    expect(p.format).toEqual({ kind: 'json' });
    expect(p.parse('{"timestamp":"2024-01-15T14:23:45.123Z","level":"error","message":"db down","service":"api","request_id":"r-1"}')).toEqual({
      headerMatched: true,
      record: { timestamp: 1705328625123, timestampText: '2024-01-15T14:23:45.123Z', level: 'error', message: 'db down', component: 'api', requestId: 'r-1' },
    });
  });

  it('reads pino lines with numeric levels, epoch millisecond times, msg and nested keys', () => {
    const lines = [
      '{"level":30,"time":1705328625123,"pid":4242,"hostname":"web-1","req":{"id":7,"method":"GET"},"msg":"request completed"}',
      '{"level":50,"time":1705328626000,"pid":4242,"hostname":"web-1","msg":"request failed"}',
    ];
    const [a, b] = parseAll(lines);
    expect(a!.record).toEqual({
      level: 'info',
      timestamp: 1705328625123,
      timestampText: '1705328625123',
      pid: '4242',
      host: 'web-1',
      message: 'request completed',
      attributes: { 'req.id': '7', 'req.method': 'GET' },
    });
    expect(b!.record.level).toBe('error');
  });

  it('reads severity, @timestamp, logger and trace_id, and keeps other keys as attributes', () => {
    const [a] = parseAll(['{"@timestamp":"2024-01-15T14:23:45Z","severity":"WARNING","logger":"billing","trace_id":"abc123","msg":"slow query","duration_ms":812,"user":{"id":"u1"}}']);
    expect(a!.record).toEqual({
      timestamp: 1705328625000,
      timestampText: '2024-01-15T14:23:45Z',
      level: 'warn',
      component: 'billing',
      requestId: 'abc123',
      message: 'slow query',
      attributes: { duration_ms: '812', 'user.id': 'u1' },
    });
  });

  it('reads a level nested under another key', () => {
    const [a] = parseAll(['{"log":{"level":"debug"},"message":"hello"}']);
    expect(a!.record).toMatchObject({ level: 'debug', message: 'hello' });
  });

  it('builds a message from the fields when there is no message key', () => {
    const [a] = parseAll(['{"level":"info","event_type":"login","user":"bob"}']);
    expect(a!.record).toMatchObject({ level: 'info', message: 'event_type=login user=bob' });
  });

  it('keeps an unknown level value as an attribute', () => {
    const [a] = parseAll(['{"level":"chatty","msg":"x"}']);
    expect(a!.record.level).toBeUndefined();
    expect(a!.record.attributes).toEqual({ level: 'chatty' });
  });

  it('reads a text line in a JSON stream as text', () => {
    const p = parserFor(['{"msg":"a","level":"info"}', '{"msg":"b","level":"info"}']);
    expect(p.parse('2024-01-15 14:23:45 ERROR crashed')).toMatchObject({ headerMatched: true, record: { level: 'error', message: 'crashed' } });
    expect(p.parse('Traceback (most recent call last):')).toEqual({ headerMatched: false, record: { message: 'Traceback (most recent call last):' } });
  });
});

describe('detectFormat and LineParser on logfmt', () => {
  it('reads time, level, a quoted msg and keeps other keys', () => {
    const lines = ['time=2024-01-15T14:23:45Z level=info msg="hello world" user=bob', 'time=2024-01-15T14:23:46Z level=warn msg=retrying attempt=2'];
    const p = parserFor(lines);
    expect(p.format).toEqual({ kind: 'logfmt' });
    expect(p.parse(lines[0]!)).toEqual({
      headerMatched: true,
      record: { timestamp: 1705328625000, timestampText: '2024-01-15T14:23:45Z', level: 'info', message: 'hello world', attributes: { user: 'bob' } },
    });
    expect(p.parse(lines[1]!).record).toMatchObject({ level: 'warn', message: 'retrying', attributes: { attempt: '2' } });
  });

  it('reads escaped quotes inside a quoted value', () => {
    const [a] = parseAll(['level=error msg="bad \\"token\\" in header" code=401']);
    expect(a!.record).toMatchObject({ level: 'error', message: 'bad "token" in header', attributes: { code: '401' } });
  });

  it('does not take key=value prose without a known key for logfmt', () => {
    expect(detectFormat(['retry=3 backoff=200ms'], YEAR).kind).not.toBe('logfmt');
  });
});

describe('lines that fit no format', () => {
  it('makes a record whose message is the whole line', () => {
    const p = parserFor(['2024-01-15 14:23:45 INFO Starting server', '2024-01-15 14:23:46 INFO Listening']);
    expect(p.parse('random words without a header')).toEqual({ headerMatched: false, record: { message: 'random words without a header' } });
  });

  it('never throws on odd input', () => {
    const odd = ['', ' ', '{', '{"a":', '{]', '[[[[[', '|||', '\u0000\u0001', '"unterminated', 'x=', '=1 =2', '- - -', '[' + 'a'.repeat(10_000), '\ud800', 'Jun 99 99:99:99 x'];
    const formats = [
      parserFor(['2024-01-15 14:23:45 INFO Starting server']),
      parserFor(['{"msg":"x"}']),
      parserFor(['level=info msg=x']),
      parserFor(['Jun 14 15:16:01 combo sshd[1]: x']),
      messageOnlyParser(),
    ];
    for (const p of formats) {
      for (const line of odd) {
        const r = p.parse(line);
        expect(typeof r.record.message).toBe('string');
      }
    }
  });

  it('learns a bare format from a sample with no header, and from an empty sample', () => {
    expect(detectFormat(['just words', 'more words'], YEAR)).toEqual({ kind: 'bare' });
    expect(detectFormat([], YEAR)).toEqual({ kind: 'bare' });
    expect(detectFormat(['', '   '], YEAR)).toEqual({ kind: 'bare' });
  });

  it('parses every line as a bare message with the message-only parser', () => {
    expect(messageOnlyParser().parse('2024-01-15 14:23:45 INFO Starting  ')).toEqual({ headerMatched: false, record: { message: '2024-01-15 14:23:45 INFO Starting' } });
  });
});

describe('learning a stream shape', () => {
  it('picks the majority shape of a mixed sample and still parses a minority line', () => {
    const sample = [
      '2024-01-15 14:23:45 INFO [main] Starting server',
      '2024-01-15 14:23:46 INFO [main] Listening on 8080',
      '2024-01-15 14:23:47 WARN [worker-1] Slow request',
      'Jun 14 15:16:01 combo sshd[42]: Accepted password for bob',
      '2024-01-15 14:23:48 INFO [main] Ready',
      '',
    ];
    const p = parserFor(sample);
    expect(p.format).toMatchObject({ kind: 'text', signature: 'ts:iso level bracket' });
    expect(p.parse(sample[3]!)).toEqual({
      headerMatched: true,
      record: { timestamp: 1718378161000, timestampText: 'Jun 14 15:16:01', host: 'combo', component: 'sshd', pid: '42', message: 'Accepted password for bob' },
    });
  });

  it('learns the header from a sample dominated by indented stack-trace lines', () => {
    const sample = [
      '2024-01-15 14:23:45,123 ERROR [main] org.foo.Db: Query failed',
      'java.lang.IllegalStateException: connection closed',
      ...Array.from({ length: 20 }, (_, i) => `\tat org.foo.Db.f${i}(Db.java:${i})`),
      '2024-01-15 14:23:46,001 INFO [main] org.foo.App: Retrying',
      'Traceback (most recent call last):',
      '  File "x.py", line 3, in f',
    ];
    expect(detectFormat(sample, YEAR)).toMatchObject({ kind: 'text', signature: 'ts:iso level bracket compColon' });
  });

  it('does not let indented lines outvote JSON lines', () => {
    expect(detectFormat(['{"msg":"crash"}', '    at handler (/srv/app.js:10:5)', '    at run (/srv/app.js:20:5)', '{"msg":"ok"}'], YEAR)).toEqual({ kind: 'json' });
  });

  it('ignores blank lines when counting shapes', () => {
    expect(detectFormat(['', '', '', '2024-01-15 14:23:45 INFO a', '2024-01-15 14:23:46 INFO b'], YEAR)).toMatchObject({ kind: 'text', signature: 'ts:iso level' });
  });

  it('keeps message words that look like a component out of the header', () => {
    const sample = [
      '2024-01-15 14:23:45 INFO Starting server',
      '2024-01-15 14:23:46 INFO Listening on port 8080',
      '2024-01-15 14:23:47 WARN Disk usage high',
      '2024-01-15 14:23:48 INFO Foo: bar',
    ];
    const p = parserFor(sample);
    expect(p.format).toMatchObject({ signature: 'ts:iso level' });
    expect(p.parse('2024-01-15 14:23:48 INFO Foo: bar')).toEqual({
      headerMatched: true,
      record: { timestamp: 1705328628000, timestampText: '2024-01-15 14:23:48', level: 'info', message: 'Foo: bar' },
    });
  });

  it('keeps a dotted word at the start of a message in the message', () => {
    const p = parserFor(['2024-01-15 14:23:45 INFO Starting server', '2024-01-15 14:23:46 INFO Listening']);
    expect(p.parse('2024-01-15 14:23:47 INFO config.yaml loaded').record.message).toBe('config.yaml loaded');
  });

  it('reads a line of the stream with a different timestamp shape', () => {
    const p = parserFor(['2024-01-15 14:23:45 INFO a', '2024-01-15 14:23:46 INFO b']);
    expect(p.parse('1718376961 INFO c')).toMatchObject({ headerMatched: true, record: { timestamp: 1718376961000, level: 'info', message: 'c' } });
  });

  it('prefers the longer shape on a tie', () => {
    expect(detectFormat(['2024-01-15 14:23:45 INFO a', '2024-01-15 14:23:46 INFO [main] b'], YEAR)).toMatchObject({ signature: 'ts:iso level bracket' });
  });
});

describe('mixed streams', () => {
  it('reads a JSON object line inside a text-format stream as its own structured record', () => {
    const text = Array.from({ length: 10 }, (_, i) => `2024-01-15T10:00:0${i}Z INFO [api] request ${i} served`);
    const parser = new LineParser(detectFormat(text, 2024), 2024);
    const p = parser.parse('{"ts":"2024-01-15T10:00:05Z","level":"error","service":"payments","msg":"card declined"}');
    expect(p.headerMatched).toBe(true);
    expect(p.record).toMatchObject({ message: 'card declined', level: 'error', component: 'payments', timestamp: Date.UTC(2024, 0, 15, 10, 0, 5) });
  });
});
