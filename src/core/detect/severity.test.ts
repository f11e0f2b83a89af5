import { describe, expect, it } from 'vitest';
import { phraseSeverity, semanticSeverity, SeverityDetector, TemplateSeverityCache } from './severity.js';
import { feed, input, Stream } from './test-helpers.js';

describe('semanticSeverity', () => {
  it('calls crashes of the process, the machine or the data critical', () => {
    for (const m of [
      'java.lang.OutOfMemoryError: Java heap space',
      'Out of memory: Killed process 1234 (java)',
      'Kernel panic - not syncing: Fatal exception',
      'app[123]: segfault at 0 ip 00007f sp 00007f error 4',
      'Segmentation fault (core dumped)',
      'write failed: No space left on device',
      'detected data corruption in block 7',
      'FATAL: terminating connection',
    ]) {
      expect(semanticSeverity(m).severity, m).toBe('critical');
    }
  });

  it('calls failures high even at INFO, and says which phrase it read', () => {
    const r = semanticSeverity('connect to 10.0.0.1:5432 failed: Connection refused', 'info');
    expect(r.severity).toBe('high');
    expect(r.matched).toEqual(['failed', 'connection refused']);
    for (const m of ['request timed out after 30s', 'Permission denied', 'host unreachable', 'java.io.IOException: Broken pipe', 'Unable to open file', 'Job aborted', 'deadlock detected', 'service unavailable', 'Traceback (most recent call last):', 'GET /api HTTP/1.1" 503 12']) {
      expect(semanticSeverity(m).severity, m).toBe('high');
    }
  });

  it('calls "not found" and "invalid" medium and warnings low', () => {
    expect(semanticSeverity('file not found: a.txt').severity).toBe('medium');
    expect(semanticSeverity('Invalid user admin from 1.2.3.4').severity).toBe('medium');
    expect(semanticSeverity('retrying in 5s').severity).toBe('low');
  });

  it('reads benign phrases as lowering, not raising, the severity', () => {
    expect(semanticSeverity('Checked 1200 files: 0 errors').severity).toBe('info');
    expect(semanticSeverity('no errors found').severity).toBe('info');
    expect(semanticSeverity('errors=0 warnings=0').score).toBe(0);
    expect(semanticSeverity('upload completed successfully').severity).toBe('info');
    expect(semanticSeverity('instruction cache parity error corrected').severity).toBe('medium');
    expect(semanticSeverity('retry succeeded after failure').severity).toBe('medium');
  });

  it('keeps the level word when it says more than the words', () => {
    expect(semanticSeverity('no errors found', 'error').severity).toBe('high');
    expect(semanticSeverity('user logged in', 'fatal').severity).toBe('critical');
    expect(semanticSeverity('user logged in', 'info').severity).toBe('info');
  });

  it('matches on word boundaries, but finds Java and Python class names ending in Exception or Error', () => {
    expect(phraseSeverity('switching to failover node').score).toBe(0);
    expect(phraseSeverity('mirror synced; coreutils updated; unfailing').score).toBe(0);
    expect(phraseSeverity('caught NullPointerException').matched).toEqual(['exception']);
    expect(phraseSeverity('raise OSError(2)').matched).toEqual(['error']);
  });

  it('does not read timeout settings as timeouts', () => {
    expect(phraseSeverity('session timeout = 30000').score).toBe(0);
    expect(phraseSeverity('Notification time out: 3200').score).toBe(0);
    expect(phraseSeverity('Notification time out: <*>').score).toBe(0);
    expect(phraseSeverity('Established session <*> with negotiated timeout <*> for client <*>').score).toBe(0);
    expect(phraseSeverity('read timed out').score).toBeGreaterThanOrEqual(0.7);
  });
});

describe('SeverityDetector', () => {
  it('fires on "connection refused" at INFO with the tags error and semantic', () => {
    const d = new SeverityDetector();
    const [f] = d.observe(input({ templateId: 'c', template: 'connect to <*> failed: Connection refused', record: { level: 'info' } }));
    expect(f).toBeDefined();
    expect(f!.detector).toBe('severity');
    expect(f!.tags).toEqual(['error', 'semantic']);
    expect(f!.severity).toBe('high');
    expect(f!.reason).toContain('"failed", "connection refused" reads as high severity');
    expect(f!.reason).toContain('logged at INFO');
  });

  it('fires on ERROR lines without the semantic tag, and stays quiet on plain INFO lines', () => {
    const d = new SeverityDetector();
    const [f] = d.observe(input({ template: 'user <*> logged in', record: { level: 'error' } }));
    expect(f!.tags).toEqual(['error']);
    expect(d.observe(input({ templateId: 'x', template: 'user <*> logged in', record: { level: 'info' } }))).toEqual([]);
    expect(d.observe(input({ templateId: 'y', template: 'file <*> not found', record: { level: 'info' } }))).toEqual([]);
  });

  it('calls a critical phrase critical whatever the level', () => {
    const d = new SeverityDetector();
    const [f] = d.observe(input({ template: 'kernel: Out of memory: Killed process <*>', record: { level: 'warn' } }));
    expect(f!.severity).toBe('critical');
    expect(f!.score).toBeGreaterThanOrEqual(0.9);
  });

  it('reports an error that keeps coming back at full score for three bouts, then fades it; a burst is one bout; critical lines never fade', () => {
    const d = new SeverityDetector();
    // one line every two minutes: each is its own bout
    const scores = (template: string, gapMs: number) => Array.from({ length: 12 }, (_, i) => d.observe(input({ templateId: template, template, timeMs: i * gapMs, record: { level: 'error' } }))[0]!.score);
    const routine = scores('smtp send to <*> failed, will retry', 120_000);
    expect(routine.slice(0, 3).every((x) => x === routine[0])).toBe(true);
    expect(routine[3]!).toBeLessThan(routine[0]!);
    expect(routine[11]!).toBeCloseTo(routine[0]! / 2, 5);
    // twelve lines within a few seconds: one bout, all at full score
    const burst = scores('connection refused to <*>', 300);
    expect(new Set(burst).size).toBe(1);
    const critical = scores('kernel panic on cpu <*>', 120_000);
    expect(new Set(critical).size).toBe(1);
  });

  it('reads a 5xx status hidden behind a masked value from the message', () => {
    const d = new SeverityDetector();
    const s = new Stream();
    const t = { templateId: 'h', template: '<*> "GET <*>" status: <*> len: <*>' };
    expect(feed(d, [s.next({ ...t, message: '10.0.0.1 "GET /v2/servers" status: 200 len: 1893', record: { level: 'info' } })])).toEqual([]);
    const f = feed(d, [s.next({ ...t, message: '10.0.0.1 "GET /v2/servers" status: 503 len: 12', record: { level: 'info' } })]);
    expect(f).toHaveLength(1);
    expect(f[0]!.evidence!.matched).toEqual(['http 5xx']);
  });

  it('scores from the template, so a message value cannot fake an error', () => {
    const cache = new TemplateSeverityCache();
    // the path holds the word "error", the template does not
    expect(cache.scoreOf(input({ template: 'opened <*>', message: 'opened /var/log/error.log' }))).toBe(0);
  });

  it('answers a record asked about again (by another cache) as if asked first, and notices a changed record', () => {
    const a = new TemplateSeverityCache();
    const b = new TemplateSeverityCache();
    const rec = input({ templateId: 'h', template: 'GET <*> status: <*>', message: 'GET /x status: 503' });
    const first = a.phrasesOf(rec);
    expect(first.matched).toEqual(['http 5xx']);
    expect(b.phrasesOf(rec)).toEqual(first);
    expect(new TemplateSeverityCache().phrasesOf(input({ templateId: 'h', template: 'GET <*> status: <*>', message: 'GET /x status: 503' }))).toEqual(first);
    rec.record.message = 'GET /x status: 200';
    expect(b.phrasesOf(rec).score).toBe(0);
    rec.template = 'connection refused by <*>';
    expect(a.phrasesOf(rec).score).toBeGreaterThan(0.7);
  });

  it('treats a reused input object holding the next record as a new record (its caches fill as with fresh objects)', () => {
    const ask = (reuse: boolean): number[] => {
      const a = new TemplateSeverityCache();
      const b = new TemplateSeverityCache();
      const one = input({ templateId: 'h', template: 'GET <*> status: <*>', message: 'GET /x status: 503' });
      for (let seq = 1; seq <= 4; seq++) {
        // the same template and message on each line, asked by one cache on odd lines, the other on even
        const rec = reuse ? Object.assign(one, { seq }) : input({ seq, templateId: 'h', template: 'GET <*> status: <*>', message: 'GET /x status: 503' });
        expect((seq % 2 === 1 ? a : b).phrasesOf(rec).matched).toEqual(['http 5xx']);
      }
      return [a.size, b.size];
    };
    expect(ask(true)).toEqual(ask(false));
    expect(ask(true)).toEqual([1, 1]);
  });

  it('holds at most cacheTemplates templates', () => {
    const cache = new TemplateSeverityCache(10);
    for (let i = 0; i < 100; i++) cache.phrasesOf(input({ templateId: `t${i}`, template: `x ${i}` }));
    expect(cache.size).toBe(10);
  });
});
