/**
 * TF-IDF over the words of masked templates, with a bounded vocabulary and document frequencies
 * that can be counted incrementally (for streams) or all at once (`fit`).
 *
 * Tokens: the text is lower-cased and split on everything that is not a letter or a digit, so the
 * `<*>` of a masked value disappears and `uid=<*>` gives `uid`; tokens shorter than two characters
 * are dropped (scikit-learn's default token pattern `\b\w\w+\b` does the same).
 *
 * Weights follow scikit-learn's TfidfVectorizer defaults: raw term count × smoothed idf,
 * idf(t) = ln((1 + N) / (1 + df(t))) + 1, then the row is scaled to unit L2 norm.
 *
 * The vocabulary is the `maxTerms` terms (default 5,000) with the highest document frequency that
 * occur in at least `minDf` documents; it is a snapshot taken by `rebuild()` (or `fit`), so vectors
 * keep their meaning until the caller decides to rebuild (a model fitted on them stays valid).
 * With `oovFeature`, words outside the vocabulary are not lost: their TF-IDF mass, each counted
 * with the idf of a word seen in one document, goes into one extra feature (index = vocabulary
 * size), the root of the sum of their squares, so the other features keep the values they would
 * have with an unbounded vocabulary. A model can then see "this message is made of words no other
 * message uses", which plain TF-IDF maps to the zero vector.
 *
 * The counts themselves are bounded too: at most `maxCandidates` distinct terms are counted; past
 * that the less frequent half is dropped (their counts restart from zero if they come back, as in
 * lossy counting).
 */
import type { CompactVector } from './isolation-forest.js';

export interface TfIdfOptions {
  /** Vocabulary size (default 5,000): the terms with the highest document frequency are kept. */
  maxTerms?: number;
  /** Documents a term must appear in to join the vocabulary (default 1). */
  minDf?: number;
  /** Put the mass of out-of-vocabulary words into one extra feature (default false). */
  oovFeature?: boolean;
  /** Distinct terms counted at most (default 4 × maxTerms, at least 1,000). */
  maxCandidates?: number;
  /** Shortest token kept (default 2). */
  minTokenLength?: number;
}

export const TFIDF_DEFAULTS = { maxTerms: 5000, minDf: 1, oovFeature: false, minTokenLength: 2 } as const;

/** A document: text (tokenised with `templateTokens`) or its tokens. */
export type Document = string | readonly string[];

const WORD = /[\p{L}\p{N}]+/gu;

/** Documents of at most this many tokens are transformed without a Map (see transformSmall). */
const SMALL_DOC = 32;

/** Lower-cased runs of letters and digits of a template or message, shorter ones dropped. */
export function templateTokens(text: string, minLength: number = TFIDF_DEFAULTS.minTokenLength): string[] {
  const out: string[] = [];
  for (const m of text.toLowerCase().matchAll(WORD)) if (m[0].length >= minLength) out.push(m[0]);
  return out;
}

export class TfIdf {
  readonly maxTerms: number;
  readonly minDf: number;
  readonly oovFeature: boolean;
  readonly maxCandidates: number;
  readonly minTokenLength: number;
  private df = new Map<string, number>();
  private docs = 0;
  private vocab = new Map<string, number>();
  private terms: string[] = [];
  private idfs = new Float64Array(0);
  private oovIdf = 1;
  private prunes = 0;

  constructor(options: TfIdfOptions = {}) {
    this.maxTerms = options.maxTerms ?? TFIDF_DEFAULTS.maxTerms;
    this.minDf = options.minDf ?? TFIDF_DEFAULTS.minDf;
    this.oovFeature = options.oovFeature ?? TFIDF_DEFAULTS.oovFeature;
    this.maxCandidates = Math.max(options.maxCandidates ?? Math.max(4 * this.maxTerms, 1000), this.maxTerms);
    this.minTokenLength = options.minTokenLength ?? TFIDF_DEFAULTS.minTokenLength;
    if (!(Number.isInteger(this.maxTerms) && this.maxTerms >= 1)) throw new RangeError(`maxTerms must be a positive integer, got ${this.maxTerms}`);
  }

  /** Tokens of a document (text is tokenised, token lists are used as they are). */
  tokens(doc: Document): readonly string[] {
    return typeof doc === 'string' ? templateTokens(doc, this.minTokenLength) : doc;
  }

  /** Counts one document (or `weight` identical ones) into the document frequencies. */
  addDocument(doc: Document, weight = 1): void {
    this.docs += weight;
    for (const t of new Set(this.tokens(doc))) this.df.set(t, (this.df.get(t) ?? 0) + weight);
    if (this.df.size > this.maxCandidates) this.prune();
  }

  /** Takes back a document counted before (e.g. a template evicted from a bounded set). */
  removeDocument(doc: Document, weight = 1): void {
    this.docs = Math.max(0, this.docs - weight);
    for (const t of new Set(this.tokens(doc))) {
      const c = (this.df.get(t) ?? 0) - weight;
      if (c > 0) this.df.set(t, c);
      else this.df.delete(t);
    }
  }

  /** Takes a new vocabulary and idf snapshot from the counts so far. */
  rebuild(): this {
    const eligible: [string, number][] = [];
    for (const [t, c] of this.df) if (c >= this.minDf) eligible.push([t, c]);
    eligible.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const kept = eligible.slice(0, this.maxTerms);
    this.vocab = new Map();
    this.terms = [];
    this.idfs = new Float64Array(kept.length);
    const n = this.docs;
    kept.forEach(([t, c], i) => {
      this.vocab.set(t, i);
      this.terms.push(t);
      this.idfs[i] = Math.log((1 + n) / (1 + c)) + 1;
    });
    this.oovIdf = Math.log((1 + n) / 2) + 1;
    return this;
  }

  /** Counts the documents from scratch and rebuilds: the batch form of addDocument + rebuild. */
  fit(docs: readonly Document[], weights?: ArrayLike<number>): this {
    if (weights && weights.length !== docs.length) throw new RangeError('weights must have one entry per document');
    this.df = new Map();
    this.docs = 0;
    for (let i = 0; i < docs.length; i++) this.addDocument(docs[i]!, weights ? weights[i]! : 1);
    return this.rebuild();
  }

  /** The L2-normalised TF-IDF vector of a document under the current snapshot, indices ascending. */
  transform(doc: Document): CompactVector {
    const tokens = this.tokens(doc);
    return tokens.length <= SMALL_DOC ? this.transformSmall(tokens) : this.transformCounted(tokens);
  }

  /**
   * transform() with the counts in a Map and a pair per term, sorted: what transform does past
   * SMALL_DOC tokens, for a document of any length (the short path is tested against it).
   */
  transformCounted(tokens: readonly string[]): CompactVector {
    const tf = new Map<string, number>();
    for (const t of tokens) tf.set(t, (tf.get(t) ?? 0) + 1);
    const pairs: [number, number][] = [];
    let oovSq = 0;
    let sq = 0;
    for (const [t, c] of tf) {
      const i = this.vocab.get(t);
      if (i !== undefined) {
        const w = c * this.idfs[i]!;
        pairs.push([i, w]);
        sq += w * w;
      } else if (this.oovFeature) {
        const w = c * this.oovIdf;
        oovSq += w * w;
      }
    }
    if (oovSq > 0) {
      pairs.push([this.terms.length, Math.sqrt(oovSq)]);
      sq += oovSq;
    }
    pairs.sort((a, b) => a[0] - b[0]);
    const norm = Math.sqrt(sq);
    const indices = new Int32Array(pairs.length);
    const values = new Float64Array(pairs.length);
    for (let i = 0; i < pairs.length; i++) {
      indices[i] = pairs[i]![0];
      values[i] = pairs[i]![1] / norm;
    }
    return { indices, values };
  }

  /**
   * transform() of a short document without a Map or a pair per term: distinct tokens in order of
   * first appearance (the Map's order, so the squares are summed in the same order), entries kept
   * sorted by index as they come (indices are distinct; the out-of-vocabulary one is the largest).
   */
  private transformSmall(tokens: readonly string[]): CompactVector {
    const n = tokens.length;
    const distinct: string[] = [];
    const counts: number[] = [];
    for (let k = 0; k < n; k++) {
      const t = tokens[k]!;
      const at = distinct.indexOf(t);
      if (at < 0) {
        distinct.push(t);
        counts.push(1);
      } else counts[at]!++;
    }
    const idx = new Int32Array(distinct.length + 1);
    const val = new Float64Array(distinct.length + 1);
    let m = 0;
    let oovSq = 0;
    let sq = 0;
    for (let k = 0; k < distinct.length; k++) {
      const c = counts[k]!;
      const i = this.vocab.get(distinct[k]!);
      if (i !== undefined) {
        const w = c * this.idfs[i]!;
        let at = m++;
        while (at > 0 && idx[at - 1]! > i) {
          idx[at] = idx[at - 1]!;
          val[at] = val[at - 1]!;
          at--;
        }
        idx[at] = i;
        val[at] = w;
        sq += w * w;
      } else if (this.oovFeature) {
        const w = c * this.oovIdf;
        oovSq += w * w;
      }
    }
    if (oovSq > 0) {
      idx[m] = this.terms.length;
      val[m++] = Math.sqrt(oovSq);
      sq += oovSq;
    }
    const norm = Math.sqrt(sq);
    const indices = idx.slice(0, m);
    const values = new Float64Array(m);
    for (let i = 0; i < m; i++) values[i] = val[i]! / norm;
    return { indices, values };
  }

  /** Number of features of a vector: vocabulary size, plus one with `oovFeature`. */
  get dimension(): number {
    return this.terms.length + (this.oovFeature ? 1 : 0);
  }

  get vocabularySize(): number {
    return this.terms.length;
  }

  /** Documents counted (sum of weights). */
  get documentCount(): number {
    return this.docs;
  }

  /** Distinct terms being counted (bounded by maxCandidates). */
  get countedTerms(): number {
    return this.df.size;
  }

  /** How many times the counts were pruned to stay bounded. */
  get pruneCount(): number {
    return this.prunes;
  }

  documentFrequency(term: string): number {
    return this.df.get(term) ?? 0;
  }

  /** Index of a term in the vocabulary snapshot. */
  indexOf(term: string): number | undefined {
    return this.vocab.get(term);
  }

  /** The term of a feature index (`<oov>` for the out-of-vocabulary feature). */
  termOf(index: number): string | undefined {
    if (this.oovFeature && index === this.terms.length) return '<oov>';
    return this.terms[index];
  }

  /** idf of a term under the snapshot (out-of-vocabulary terms get the idf of a one-document term). */
  idf(term: string): number {
    const i = this.vocab.get(term);
    return i === undefined ? this.oovIdf : this.idfs[i]!;
  }

  private prune(): void {
    const entries = [...this.df].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    this.df = new Map(entries.slice(0, Math.max(this.maxTerms, Math.floor(this.maxCandidates / 2))));
    this.prunes++;
  }
}
