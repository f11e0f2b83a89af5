import { describe, expect, it } from 'vitest';
import { containsSecret } from './anomalies.js';
import { generateCorpus, warmupLines, CorpusTally, ANOMALY_KINDS, CORPUS_DEFAULTS, type CorpusLine, type CorpusOptions } from './corpus.js';

const opts = (o: Partial<CorpusOptions> = {}): CorpusOptions => ({ ...CORPUS_DEFAULTS, lines: 20_000, anomalyRate: 0.05, seed: 1, ...o });
const collect = (o: CorpusOptions): CorpusLine[] => [...generateCorpus(o)];

const cache = new Map<string, CorpusLine[]>();
function corpus(o: Partial<CorpusOptions> = {}): CorpusLine[] {
  const key = JSON.stringify(opts(o));
  let c = cache.get(key);
  if (!c) cache.set(key, (c = collect(opts(o))));
  return c;
}

/** The line without its timestamp (text, JSON and syslog shapes). */
function withoutTime(line: string): string {
  if (line.startsWith('{')) return line.replace(/^\{"ts":"[^"]*",/, '{');
  const syslog = /^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d /.exec(line);
  if (syslog) return line.slice(syslog[0].length);
  return line.replace(/^\d{4}-\d{2}-\d{2}T\S+ /, '');
}

/** A token with its values masked the way a log masker does: runs between punctuation that hold a digit become `#`. */
const maskToken = (t: string): string => (/\d/.test(t) ? t.split(/([=:,()[\]{}"'|;<>])/).map((run) => (/\d/.test(run) ? '#' : run)).join('') : t);
const maskText = (s: string): string => s.split(' ').map(maskToken).join(' ');

/** What a line says with its values masked: equal for lines of one kind of event. */
function skeleton(line: string): string {
  const text = withoutTime(line);
  if (!text.startsWith('{')) return maskText(text.replace(/ request_id=\S+$/, ''));
  const o = JSON.parse(text) as Record<string, unknown>;
  const fields = Object.entries(o).filter(([k]) => !['level', 'host', 'request_id', 'msg'].includes(k)).map(([k, v]) => `${k}=${typeof v === 'string' ? maskText(v) : '#'}`);
  return `${maskText(String(o.msg))} ${fields.join(' ')}`;
}

function byEpisode(lines: readonly CorpusLine[], kind: string): Map<number, { index: number; l: CorpusLine }[]> {
  const out = new Map<number, { index: number; l: CorpusLine }[]>();
  lines.forEach((l, index) => {
    if (l.label?.kind !== kind) return;
    const list = out.get(l.label.episode) ?? [];
    list.push({ index, l });
    out.set(l.label.episode, list);
  });
  return out;
}

describe('generateCorpus', () => {
  it('is deterministic: the same options give the same lines and labels, another seed other lines', () => {
    const a = collect(opts({ lines: 5000, seed: 42 }));
    const b = collect(opts({ lines: 5000, seed: 42 }));
    expect(b).toEqual(a);
    const c = collect(opts({ lines: 5000, seed: 43 }));
    expect(c.map((l) => l.line)).not.toEqual(a.map((l) => l.line));
  });

  it('keeps no state between corpora: two generated side by side equal each generated alone', () => {
    const g1 = generateCorpus(opts({ lines: 3000, seed: 5 }));
    const g2 = generateCorpus(opts({ lines: 3000, seed: 6, startMs: Date.parse('2025-03-01T23:59:58Z') }));
    const x: CorpusLine[] = [];
    const y: CorpusLine[] = [];
    for (;;) {
      const p = g1.next();
      const q = g2.next();
      if (p.done || q.done) break;
      x.push(p.value);
      y.push(q.value);
    }
    expect(x).toEqual(collect(opts({ lines: 3000, seed: 5 })));
    expect(y).toEqual(collect(opts({ lines: 3000, seed: 6, startMs: Date.parse('2025-03-01T23:59:58Z') })));
  });

  it('accepts seeds wider than 32 bits and negative seeds, and they differ from each other', () => {
    const first = (seed: number): string => generateCorpus(opts({ lines: 200, seed })).next().value!.line;
    const seeds = [0, 1, -1, 2 ** 32, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER];
    expect(new Set(seeds.map(first)).size).toBe(seeds.length);
  });

  it('writes exactly the requested number of single physical lines, in time order', () => {
    for (const lines of [100, 1234]) expect(collect(opts({ lines }))).toHaveLength(lines);
    const c = corpus();
    expect(c).toHaveLength(20_000);
    for (let i = 1; i < c.length; i++) expect(c[i]!.timeMs).toBeGreaterThanOrEqual(c[i - 1]!.timeMs);
    expect(c.every((l) => !/[\n\r\u2028\u2029\u0085\v\f]/.test(l.line) && l.line.length > 0)).toBe(true);
    expect(c[0]!.timeMs).toBe(CORPUS_DEFAULTS.startMs);
  });

  it.each([0.02, 0.05, 0.15])('reaches the anomaly rate %s within 20%% on 20k lines, with every kind present and balanced', (rate) => {
    const c = corpus({ anomalyRate: rate });
    const tally = new CorpusTally();
    for (const l of c) tally.add(l);
    const achieved = tally.anomalous / tally.lines;
    expect(Math.abs(achieved - rate) / rate).toBeLessThanOrEqual(0.2);
    const share = tally.anomalous / ANOMALY_KINDS.length;
    for (const k of ANOMALY_KINDS) {
      expect(tally.counts[k], k).toBeGreaterThan(0);
      expect(tally.counts[k], k).toBeGreaterThanOrEqual(0.5 * share);
      expect(tally.counts[k], k).toBeLessThanOrEqual(1.5 * share);
    }
  });

  it('writes no anomaly when the rate is 0, and only labels with one known kind otherwise', () => {
    expect(collect(opts({ lines: 5000, anomalyRate: 0 })).some((l) => l.label)).toBe(false);
    for (const l of corpus()) if (l.label) expect(ANOMALY_KINDS).toContain(l.label.kind);
  });

  it('keeps the warm-up (first 10% of lines) clean', () => {
    for (const rate of [0.05, 0.15]) {
      const c = corpus({ anomalyRate: rate });
      const w = warmupLines(c.length);
      expect(w).toBe(2000);
      expect(c.slice(0, w).some((l) => l.label)).toBe(false);
      expect(c.slice(w, w + 500).some((l) => l.label)).toBe(true);
    }
  });

  it('spreads anomalies over the run after the warm-up', () => {
    const c = corpus();
    const quarter = (i: number): number => Math.floor((4 * i) / c.length);
    const perQuarter = [0, 0, 0, 0];
    c.forEach((l, i) => {
      if (l.label) perQuarter[quarter(i)]!++;
    });
    for (const n of perQuarter) expect(n).toBeGreaterThan(0.1 * 1000);
  });

  it('does not label by level: normal traffic has errors and warnings, anomalies come at every level', () => {
    const c = corpus();
    const normal = c.filter((l) => !l.label);
    expect(normal.filter((l) => l.level === 'error').length).toBeGreaterThan(40);
    expect(normal.filter((l) => l.level === 'warn').length).toBeGreaterThan(200);
    const anomalousLevels = new Set(c.filter((l) => l.label).map((l) => l.level));
    for (const level of ['info', 'warn', 'error']) expect(anomalousLevels).toContain(level);
  });

  it('writes three formats (text with request ids, JSON lines, syslog) from many services', () => {
    const c = corpus();
    expect(c.some((l) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z (INFO|WARN|ERROR|DEBUG) \[[a-z-]+\] .* request_id=req-[0-9a-f]{12}$/.test(l.line))).toBe(true);
    const json = c.filter((l) => l.line.startsWith('{') && !l.label);
    expect(json.length).toBeGreaterThan(1000);
    for (const l of json.slice(0, 500)) expect(Object.keys(JSON.parse(l.line) as object).slice(0, 3)).toEqual(['ts', 'level', 'service']);
    expect(c.some((l) => /^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d db-proxy-\d pgbouncer\[\d+\]: LOG /.test(l.line))).toBe(true);
    expect(new Set(c.map((l) => l.service)).size).toBe(12);
  });

  it('ties the lines of one request together across services with one request id', () => {
    const sessions = new Map<string, Set<string>>();
    for (const l of corpus()) if (l.session && !l.label) sessions.set(l.session, (sessions.get(l.session) ?? new Set()).add(l.service));
    const multi = [...sessions.values()].filter((s) => s.size >= 3);
    expect(multi.length).toBeGreaterThan(500);
    expect(multi.some((s) => s.has('api-gateway') && s.has('payments') && s.has('notifications'))).toBe(true);
  });

  it('runs with only the first N services', () => {
    const c = collect(opts({ lines: 3000, services: 3 }));
    expect(new Set(c.map((l) => l.service))).toEqual(new Set(['api-gateway', 'auth', 'orders']));
    for (const k of ANOMALY_KINDS) expect(c.some((l) => l.label?.kind === k), k).toBe(true);
    for (let n = 4; n <= 12; n++) expect(collect(opts({ lines: 1000, services: n })).length).toBe(1000);
  });

  it('rejects bad options', () => {
    expect(() => collect(opts({ lines: 99 }))).toThrow(/lines/);
    expect(() => collect(opts({ anomalyRate: 0.6 }))).toThrow(/anomaly rate/);
    expect(() => collect(opts({ seed: 1.5 }))).toThrow(/seed/);
    expect(() => collect(opts({ services: 2 }))).toThrow(/services/);
  });
});

describe('labels point at lines that carry the anomaly', () => {
  const c = corpus({ anomalyRate: 0.15 });

  it('leaked_secret: every labelled line holds a secret, and no other line does', () => {
    const labelled = c.filter((l) => l.label?.kind === 'leaked_secret');
    expect(labelled.length).toBeGreaterThan(100);
    for (const l of labelled) expect(containsSecret(l.line), l.line).toBe(true);
    for (const l of c) if (l.label?.kind !== 'leaked_secret') expect(containsSecret(l.line), l.line).toBe(false);
  });

  it('flood: the lines of an episode are one identical message, hundreds a second', () => {
    const episodes = byEpisode(c, 'flood');
    expect(episodes.size).toBeGreaterThan(0);
    for (const lines of episodes.values()) {
      expect(new Set(lines.map(({ l }) => withoutTime(l.line))).size).toBe(1);
      const seconds = (lines.at(-1)!.l.timeMs - lines[0]!.l.timeMs) / 1000;
      expect(lines.length / Math.max(seconds, 0.001)).toBeGreaterThan(30);
      // the message dominates the stream while it lasts
      const span = lines.at(-1)!.index - lines[0]!.index + 1;
      expect(lines.length / span).toBeGreaterThan(0.5);
    }
  });

  it('new_error: each burst is a message never seen before it, and never in normal traffic', () => {
    const episodes = byEpisode(c, 'new_error');
    expect(episodes.size).toBeGreaterThan(10);
    const normal = new Set(c.filter((l) => !l.label).map((l) => skeleton(l.line)));
    const firstSeen = new Map<string, number>();
    c.forEach((l, i) => {
      const s = skeleton(l.line);
      if (!firstSeen.has(s)) firstSeen.set(s, i);
    });
    const titles = new Set<string>();
    for (const lines of episodes.values()) {
      expect(lines.length).toBeGreaterThanOrEqual(3);
      const sk = new Set(lines.map(({ l }) => skeleton(l.line)));
      expect(sk.size).toBe(1);
      const [s] = sk;
      expect(normal.has(s!)).toBe(false);
      expect(firstSeen.get(s!)).toBe(lines[0]!.index);
      expect(titles.has(s!)).toBe(false);
      titles.add(s!);
      // a short burst
      expect(lines.at(-1)!.l.timeMs - lines[0]!.l.timeMs).toBeLessThan(5 * 60_000);
    }
  });

  it('spike: the extra lines are a normal template at many times its usual rate', () => {
    const episodes = byEpisode(c, 'spike');
    expect(episodes.size).toBeGreaterThan(0);
    const spanS = (c.at(-1)!.timeMs - c[0]!.timeMs) / 1000;
    const ratios: number[] = [];
    for (const lines of episodes.values()) {
      const steps = new Set(lines.map(({ l }) => l.step));
      expect(steps.size).toBe(1);
      const [step] = steps;
      const normalCount = c.filter((l) => !l.label && l.step === step).length;
      expect(normalCount, `${step} is a normal template`).toBeGreaterThan(0);
      const t0 = lines[0]!.l.timeMs;
      const t1 = lines.at(-1)!.l.timeMs;
      const inWindow = c.filter((l) => l.step === step && l.timeMs >= t0 && l.timeMs <= t1).length;
      ratios.push(inWindow / Math.max(1, (t1 - t0) / 1000) / (normalCount / spanS));
    }
    ratios.sort((a, b) => a - b);
    expect(ratios[Math.floor(ratios.length / 2)]).toBeGreaterThan(6);
  });

  it('broken_sequence: the labelled step follows a transition no normal request makes', () => {
    const bySession = new Map<string, CorpusLine[]>();
    for (const l of c) if (l.session) bySession.set(l.session, [...(bySession.get(l.session) ?? []), l]);
    const normal = new Set<string>();
    const broken: string[] = [];
    for (const lines of bySession.values()) {
      const at = lines.findIndex((l) => l.label?.kind === 'broken_sequence');
      if (lines.some((l) => l.label) && at < 0) continue;
      for (let i = 1; i < lines.length; i++) {
        const t = `${lines[i - 1]!.step}>${lines[i]!.step}`;
        if (at < 0) normal.add(t);
        else if (i === at) broken.push(t);
      }
      if (at === 0) throw new Error('a broken flow is labelled at its first line');
    }
    expect(broken.length).toBe(c.filter((l) => l.label?.kind === 'broken_sequence').length);
    expect(broken.length).toBeGreaterThan(100);
    for (const t of broken) expect(normal.has(t), t).toBe(false);
  });

  it('rare_outlier: single lines unlike any normal line, each shape rare', () => {
    const labelled = c.filter((l) => l.label?.kind === 'rare_outlier');
    expect(labelled.length).toBeGreaterThan(100);
    const normal = new Set(c.filter((l) => !l.label).map((l) => skeleton(l.line)));
    const counts = new Map<string, number>();
    for (const l of labelled) {
      const s = skeleton(l.line);
      expect(normal.has(s), l.line).toBe(false);
      counts.set(s, (counts.get(s) ?? 0) + 1);
    }
    // odd shapes stay rare even at a 15% anomaly rate: no shape is more than a few percent of them
    expect(Math.max(...counts.values())).toBeLessThanOrEqual(0.03 * labelled.length);
    expect(new Set(labelled.map((l) => l.label!.episode)).size).toBe(labelled.length);
  });
});
