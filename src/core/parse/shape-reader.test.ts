import { describe, expect, it } from 'vitest';
import { readWithShape, scanHeader, type HeaderParse } from './header.js';
import { detectFormat, LineParser } from './line-parser.js';

const YEAR = 2024;

const LINES = [
  '2024-01-15 14:23:45,123 INFO [main] org.foo.Bar: Started',
  'Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; logname= uid=0',
  '03-17 16:13:38.811  1702  2395 D WindowManager: printFreezingDisplayLogs opening app wtoken',
  '081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38865049064139660 terminating',
  '2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - Notification time out: 3200',
  '2015-07-29 19:04:12,394 - INFO  [SendWorker:188978561024:QuorumCnxManager$SendWorker@679] - Interrupted',
  '20171223-22:15:29:606|Step_LSC|30002312|onStandStepChanged 3579',
  'nova-api.log.1.2017-05-16_13:53:08 2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server [req-38101a0b-2096-447d-96ea-a692162415ae 113d3a99c3da401fbd62cc2caa5b96d2 - - -] 10.11.10.1 "GET /v2/servers"',
  '17/06/09 20:10:40 INFO executor.CoarseGrainedExecutorBackend: Registered signal handlers for [TERM, HUP, INT]',
  '[2024-01-15 14:23:46] [warn] slow',
  '2024-01-15T14:23:45Z ERROR (db) failed: timeout',
  '1718376961 INFO server started',
  'Sun Dec 04 04:47:44 2005 [notice] workerEnv.init() ok',
  '2024-01-15 14:23:45 WARNıNG odd level',
  '2024-01-15 14:23:45 [a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6] trace id in brackets',
  '2024-01-15 14:23:45 kernel: [12345.678] usb 1-1: new device',
];

/** The header fields a parse found (not how it found them). */
const fieldsOf = (h: HeaderParse | undefined): unknown => h && {
  timestamp: h.timestamp, timestampText: h.timestampText, level: h.level, component: h.component, pid: h.pid,
  host: h.host, requestId: h.requestId, thread: h.thread, messageStart: h.messageStart,
};

describe('reading with a shape', () => {
  it('finds in a line what the greedy scan found, given the shape that scan learned from it', () => {
    for (const base of LINES) {
      // the line, and variants with a field cut short or changed
      for (const line of [base, base.replace(/\d/, 'x'), base.slice(0, 30), base.replace(' ', '  '), base.replace(/[A-Z]{4}/, 'info')]) {
        const g = scanHeader(line, YEAR);
        if (g.fields.length > 0) expect(fieldsOf(readWithShape(line, g.fields, YEAR)), line).toEqual(fieldsOf(g));
      }
    }
  });

  it('tells where a message is in its line', () => {
    for (const line of LINES) {
      const p = new LineParser(detectFormat([line], YEAR), YEAR);
      const r = p.read(line + '  ');
      expect(r.messageStart).toBeDefined();
      expect((line + '  ').slice(r.messageStart, r.messageEnd)).toBe(r.record.message);
      expect(p.parse(line + '  ')).toEqual({ record: r.record, headerMatched: r.headerMatched });
    }
  });
});
