import { describe, expect, it } from 'vitest';
import { templateTokens, TfIdf } from './tfidf.js';
import type { CompactVector } from './isolation-forest.js';
import { mulberry32 } from './random.js';

/** A vector as { term: weight } for readable expectations. */
function byTerm(t: TfIdf, v: CompactVector): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < v.indices.length; i++) out[t.termOf(v.indices[i]!)!] = v.values[i]!;
  return out;
}

const norm = (v: CompactVector): number => Math.sqrt(Array.from(v.values).reduce((s, x) => s + x * x, 0));

describe('templateTokens', () => {
  it('lower-cases, splits on anything but letters and digits, and drops <*> and one-letter tokens', () => {
    expect(templateTokens('Received block <*> of size <*> from /<*>')).toEqual(['received', 'block', 'of', 'size', 'from']);
    expect(templateTokens('uid=<*> euid=<*> (user=root) a')).toEqual(['uid', 'euid', 'user', 'root']);
    expect(templateTokens('BLOCK* NameSystem.addStoredBlock: blockMap updated')).toEqual(['block', 'namesystem', 'addstoredblock', 'blockmap', 'updated']);
    expect(templateTokens('<*> <*>:<*>')).toEqual([]);
  });

  it('keeps letters outside ASCII', () => {
    expect(templateTokens('Größe überschritten: <*>')).toEqual(['größe', 'überschritten']);
  });
});

describe('TfIdf', () => {
  it('weights terms with scikit-learn\'s defaults: raw count × (ln((1+N)/(1+df)) + 1), then unit length', () => {
    const t = new TfIdf().fit(['disk error', 'network error', 'disk disk full']);
    // N = 3; df: disk 2, error 2, network 1, full 1
    const idfShared = Math.log(4 / 3) + 1;
    const idfOnce = Math.log(4 / 2) + 1;
    expect(t.idf('disk')).toBeCloseTo(idfShared, 12);
    expect(t.idf('full')).toBeCloseTo(idfOnce, 12);
    const v = t.transform('disk disk full');
    const raw = { disk: 2 * idfShared, full: idfOnce };
    const len = Math.hypot(raw.disk, raw.full);
    const got = byTerm(t, v);
    expect(got.disk).toBeCloseTo(raw.disk / len, 12);
    expect(got.full).toBeCloseTo(raw.full / len, 12);
    expect(norm(v)).toBeCloseTo(1, 12);
    // indices ascending, as sparse rows must be
    expect(Array.from(v.indices)).toEqual([...v.indices].sort((a, b) => a - b));
  });

  it('keeps the maxTerms terms of highest document frequency (ties alphabetical) and drops the rest', () => {
    const t = new TfIdf({ maxTerms: 2 }).fit(['alpha beta gamma', 'alpha beta', 'alpha gamma', 'delta']);
    expect(t.vocabularySize).toBe(2);
    expect(t.indexOf('alpha')).toBeDefined();
    expect(t.indexOf('beta')).toBeDefined(); // beta and gamma tie at 2: alphabetical order decides
    expect(t.indexOf('gamma')).toBeUndefined();
    expect(byTerm(t, t.transform('gamma delta'))).toEqual({});
  });

  it('keeps words outside the vocabulary in one feature, leaving the other values as an unbounded vocabulary would', () => {
    const docs = ['disk error', 'network error', 'disk timeout here'];
    const full = new TfIdf().fit(docs);
    const bounded = new TfIdf({ minDf: 2, oovFeature: true }).fit(docs);
    expect(bounded.vocabularySize).toBe(2); // disk, error: the others occur once
    expect(bounded.dimension).toBe(3);
    const a = byTerm(full, full.transform('disk timeout here'));
    const b = byTerm(bounded, bounded.transform('disk timeout here'));
    expect(b.disk).toBeCloseTo(a.disk!, 12);
    expect(b['<oov>']).toBeCloseTo(Math.hypot(a.timeout!, a.here!), 12);
    // a message made only of unknown words is all out-of-vocabulary, not the zero vector
    expect(byTerm(bounded, bounded.transform('kernel panic'))).toEqual({ '<oov>': 1 });
    // without the feature it would be empty
    expect(byTerm(full, full.transform('kernel panic'))).toEqual({});
  });

  it('counts incrementally: adding documents one by one and rebuilding equals fit', () => {
    const docs = ['disk error', 'network error', 'disk disk full', 'user login ok'];
    const batch = new TfIdf().fit(docs);
    const stream = new TfIdf();
    for (const d of docs) stream.addDocument(d);
    stream.rebuild();
    for (const d of [...docs, 'disk network']) expect(stream.transform(d)).toEqual(batch.transform(d));
    expect(stream.documentCount).toBe(4);
    expect(stream.documentFrequency('error')).toBe(2);
  });

  it('keeps vectors fixed between rebuilds, so a model fitted on them stays valid', () => {
    const t = new TfIdf().fit(['disk error', 'network error']);
    const before = t.transform('disk error');
    t.addDocument('disk full');
    t.addDocument('disk gone');
    expect(t.transform('disk error')).toEqual(before);
    t.rebuild();
    expect(t.transform('disk error')).not.toEqual(before);
  });

  it('takes back a removed document, and counts a weighted document as that many copies', () => {
    const t = new TfIdf();
    t.addDocument('disk error');
    t.addDocument('kernel panic');
    t.removeDocument('kernel panic');
    expect(t.documentCount).toBe(1);
    expect(t.documentFrequency('kernel')).toBe(0);
    expect(t.countedTerms).toBe(2);
    const weighted = new TfIdf().fit(['disk error', 'net error'], [3, 1]);
    const copies = new TfIdf().fit(['disk error', 'disk error', 'disk error', 'net error']);
    expect(weighted.transform('disk net')).toEqual(copies.transform('disk net'));
  });

  it('bounds the terms it counts: past maxCandidates the less frequent half is dropped', () => {
    const t = new TfIdf({ maxTerms: 10, maxCandidates: 1000 });
    for (let i = 0; i < 5000; i++) t.addDocument(`common word${i}`);
    expect(t.countedTerms).toBeLessThanOrEqual(1000);
    expect(t.pruneCount).toBeGreaterThan(0);
    expect(t.documentFrequency('common')).toBe(5000);
  });

  it('turns a document without words into the empty vector', () => {
    const t = new TfIdf({ oovFeature: true }).fit(['disk error']);
    expect(t.transform('<*> <*>')).toEqual({ indices: new Int32Array(0), values: new Float64Array(0) });
  });
});

describe('TfIdf.transform of short documents (no Map)', () => {
  it('gives exactly the vector of the straightforward transform, short and long, with and without the oov feature', () => {
    const rand = mulberry32(31);
    const words = Array.from({ length: 80 }, (_, i) => `w${i.toString(36)}x`);
    const doc = (n: number): string[] => Array.from({ length: n }, () => words[Math.floor(rand() * rand() * words.length)]!);
    for (const oovFeature of [false, true]) {
      const tf = new TfIdf({ maxTerms: 30, oovFeature });
      for (let d = 0; d < 200; d++) tf.addDocument(doc(1 + Math.floor(rand() * 20)));
      tf.rebuild();
      for (let q = 0; q < 2_000; q++) {
        const tokens = doc(Math.floor(rand() * 45));
        const v = tf.transform(tokens);
        const r = tf.transformCounted(tokens);
        expect(Array.from(v.indices)).toEqual(Array.from(r.indices));
        expect(Array.from(v.values)).toEqual(Array.from(r.values));
      }
    }
  });
});
