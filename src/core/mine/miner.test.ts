import { describe, expect, it } from 'vitest';
import { conflicts, generaliseToken, SnapshotError, TemplateMiner, toSlots } from './miner.js';
import { StreamMiner } from './stream-miner.js';

describe('TemplateMiner', () => {
  it('gives lines that differ only in values one template', () => {
    const m = new TemplateMiner();
    const a = m.add('Received block blk_1 of size 67108864 from /10.0.0.1');
    const b = m.add('Received block blk_2 of size 12 from /10.0.0.2');
    expect(b.templateId).toBe(a.templateId);
    expect(b.template).toBe('Received block <*> of size <*> from <*>');
    expect(b.params).toEqual(['blk_2', '12', '/10.0.0.2']);
  });

  it('generalises the values of one key, keeping the punctuation they share', () => {
    const m = new TemplateMiner();
    m.add('login rhost=alpha.example.org port=22');
    expect(m.add('login rhost=beta.example.org port=23').template).toBe('login rhost=<*> port=<*>');
  });

  it('keeps different plain-word values of one key apart, as different events', () => {
    const m = new TemplateMiner();
    const root = m.add('authentication failure; rhost=10.0.0.1 user=root');
    const guest = m.add('authentication failure; rhost=10.0.0.2 user=guest');
    expect(guest.templateId).not.toBe(root.templateId);
  });

  it('never merges lines that differ in a plain word, which names a different event', () => {
    const m = new TemplateMiner();
    const paused = m.add('[instance: 1b2] VM Paused (Lifecycle Event)');
    const resumed = m.add('[instance: 3c4] VM Resumed (Lifecycle Event)');
    expect(resumed.templateId).not.toBe(paused.templateId);
    expect(resumed.template).toBe('[instance: <*>] VM Resumed (Lifecycle Event)');
  });

  it('does not split a template when a value spans a varying number of tokens', () => {
    const m = new TemplateMiner();
    const a = m.add('session started at 2024-01-15 14:23:45 for job 7');
    const b = m.add('session started at 14:23:45 for job 8');
    const c = m.add('session started at Sun Jul 3 23:16:09 2005 for job 9');
    expect(new Set([a.templateId, b.templateId, c.templateId]).size).toBe(1);
    expect(c.template).toBe('session started at <*> for job <*>');
  });

  it('writes a slot that always held N values as N <*>', () => {
    const m = new TemplateMiner();
    m.add('onExtend:1514038530000 14 0 4');
    expect(m.add('onExtend:1514038590000 15 0 1').template).toBe('onExtend:<*> <*> <*> <*>');
  });

  it('answers match() exactly as add() would, without learning', () => {
    const lines = [
      'Accepted connection from 10.0.0.1:5000', 'Accepted connection from 10.0.0.2:5001', 'Closed session 0x1 for client 10.0.0.1:5000',
      'VM Started', 'VM Stopped', 'user bob logged in', 'user alice logged in', 'Closed session 0x2 for client 10.0.0.3:5002',
    ];
    const m = new TemplateMiner();
    for (const line of lines) {
      const before = m.templateCount;
      const matched = m.match(line);
      expect(m.templateCount).toBe(before);
      const added = m.add(line);
      if (matched) expect(added.templateId).toBe(matched.templateId);
      else expect(added.created).toBe(true);
    }
  });

  it('keeps template ids stable across a snapshot and restore, and the same input gives the same ids', () => {
    const lines = ['job 1 started', 'job 2 started', 'disk /dev/sda1 full', 'job 3 finished in 12 ms'];
    const m1 = new TemplateMiner();
    const ids = lines.map((l) => m1.add(l).templateId);
    const restored = TemplateMiner.restore(JSON.parse(JSON.stringify(m1.snapshot())));
    expect(lines.map((l) => restored.add(l).templateId)).toEqual(ids);
    expect(restored.templates().find((t) => t.templateId === ids[0])!.count).toBe(4);
    const m2 = new TemplateMiner();
    expect(lines.map((l) => m2.add(l).templateId)).toEqual(ids);
  });

  it('rejects snapshots of another format or version with a stable error code', () => {
    expect(() => TemplateMiner.restore({ format: 'drain3' })).toThrow(SnapshotError);
    expect(() => TemplateMiner.restore({ format: 'vigil.miner', version: 99, templates: [] })).toThrow(/version 99/);
    expect(() => TemplateMiner.restore({ format: 'vigil.miner', version: 1, templates: [{ id: 1 }] })).toThrow(/malformed/);
    try {
      TemplateMiner.restore(null);
    } catch (e) {
      expect((e as SnapshotError).code).toBe('VIGIL_MINER_BAD_SNAPSHOT');
    }
  });

  it('evicts the least recently used templates beyond maxTemplates and counts each eviction', () => {
    const m = new TemplateMiner({ maxTemplates: 10 });
    const keep = m.add('heartbeat ok').templateId;
    for (let i = 0; i < 30; i++) {
      m.add(`event kind${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + Math.floor(i / 26))} happened`);
      m.add('heartbeat ok');
    }
    expect(m.templateCount).toBeLessThanOrEqual(10);
    expect(m.limits.template_evicted).toBeGreaterThan(0);
    expect(m.templates().some((t) => t.templateId === keep)).toBe(true);
  });

  it('cuts over-long messages and token floods, counting each by reason', () => {
    const m = new TemplateMiner({ maxMessageChars: 50, maxTokens: 8 });
    m.add('x'.repeat(10_000));
    expect(m.limits.message_truncated).toBe(1);
    const r = m.add('a b c d e f g h i j k l');
    expect(m.limits.tokens_truncated).toBe(1);
    expect(r.template.split(' ')).toHaveLength(8);
  });
});

describe('miner helpers', () => {
  it('joins adjacent values into one slot and remembers the run length', () => {
    expect(toSlots(['at', '<*>', '<*>', 'done'])).toEqual({ slots: ['at', '<*>', 'done'], runs: [1, 2, 1] });
    expect(toSlots(['"GET', '<*>', '<*>"'])).toEqual({ slots: ['"GET', '<*>"'], runs: [1, 0] });
  });

  it('treats different plain words as conflicting and values of one key as compatible', () => {
    expect(conflicts('Paused', 'Resumed')).toBe(true);
    expect(conflicts('user=root', 'user=guest')).toBe(true);
    expect(conflicts('name=com.android.phone', 'name=com.example.app')).toBe(false);
    expect(conflicts('mapred.job.id', 'mapred.task.id')).toBe(true);
    expect(conflicts('user=<*>', 'user=news')).toBe(false);
    expect(conflicts('<*>', 'word')).toBe(false);
    expect(conflicts('B,', 'KB,')).toBe(false);
  });

  it('takes the word after a naming noun for a name, unless it reads as a verb', () => {
    expect(conflicts('cyrus', 'news', 'user')).toBe(false);
    expect(conflicts('cyrus', 'news', 'Host')).toBe(false);
    expect(conflicts('cyrus', 'news')).toBe(true);
    expect(conflicts('cyrus', 'logged', 'user')).toBe(true);
    expect(conflicts('rebooting', 'alpha', 'host')).toBe(true);
    expect(conflicts('Paused', 'Resumed', 'VM')).toBe(true);
    const m = new TemplateMiner();
    const first = m.add('session opened for user cyrus by (uid=0)');
    const second = m.add('session opened for user news by (uid=509)');
    expect(second.templateId).toBe(first.templateId);
    expect(second.template).toBe('session opened for user <*> by (uid=<*>)');
    // verbs after the noun, and words after other nouns, still tell events apart
    expect(m.add('host web-1 rebooted now').templateId).not.toBe(m.add('host web-1 crashed now').templateId);
    expect(m.add('session closed for user cyrus').templateId).toBe(m.add('session closed for user news').templateId);
    expect(m.add('VM Paused (Lifecycle Event)').templateId).not.toBe(m.add('VM Resumed (Lifecycle Event)').templateId);
    expect(m.add('user cyrus logged in').templateId).not.toBe(m.add('user cyrus rebooting in').templateId);
  });

  it('generalises two tokens to their shared text around one <*>', () => {
    expect(generaliseToken('rhost=<*>', 'rhost=example.org')).toBe('rhost=<*>');
    expect(generaliseToken('()', '(a.b)')).toBe('(<*>)');
    expect(generaliseToken('alpha.x', 'beta.y')).toBe('<*>');
  });
});

describe('StreamMiner', () => {
  it('keeps header fields out of templates', () => {
    const s = new StreamMiner({ defaultYear: 2024 });
    const out: string[] = [];
    for (let i = 0; i < 70; i++) {
      s.push(`2024-01-15 14:23:${String(i % 60).padStart(2, '0')},${100 + i} INFO [worker-${i % 3}] com.example.Service: request ${i} served`, (m) => out.push(m.mined.template));
    }
    s.end((m) => out.push(m.mined.template));
    expect(out).toHaveLength(70);
    expect(new Set(out)).toEqual(new Set(['request <*> served']));
  });

  it('emits every line in input order, also for streams shorter than the format sample', () => {
    const s = new StreamMiner({ defaultYear: 2024 });
    const seen: string[] = [];
    for (const l of ['one 1', 'two 2', 'three 3']) s.push(l, (m) => seen.push(m.record.message));
    s.end((m) => seen.push(m.record.message));
    expect(seen).toEqual(['one 1', 'two 2', 'three 3']);
  });
});
