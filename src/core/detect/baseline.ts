/**
 * The classic unsupervised baseline that Vigil's detectors are compared with: TF-IDF of each line's
 * masked message + Isolation Forest with contamination 0.05 — the pipeline the seed projects run
 * with scikit-learn (TfidfVectorizer → IsolationForest(contamination=0.05, random_state=…)), made
 * faithful rather than weak:
 *
 * - every line is a document: the message is masked with Vigil's own masking (so values never
 *   become terms), tokenised like a template (lower-case words, `<*>` dropped) and weighted with
 *   scikit-learn's TF-IDF defaults (smoothed idf, L2 norm); vocabulary up to 5,000 terms;
 * - the forest has scikit-learn's defaults: 100 trees, each grown on 256 lines drawn without
 *   replacement from all lines (duplicates included, as scikit-learn sees them);
 * - the threshold is scikit-learn's: the (1 - contamination) quantile of the scores of all lines,
 *   and a line is anomalous when its score is strictly above it.
 *
 * Lines with the same masked words have the same vector, so each distinct one is converted and
 * scored once; the result is one boolean per input line, in order.
 */
import { maskMessage } from '../parse/mask.js';
import { IsolationForest, thresholdFor, type CompactVector } from './isolation-forest.js';
import { TfIdf, templateTokens } from './tfidf.js';

export interface BaselineOptions {
  /** Expected share of anomalous lines (default 0.05). */
  contamination?: number;
  seed?: number;
  trees?: number;
  sampleSize?: number;
  maxTerms?: number;
}

export const BASELINE_DEFAULTS = { contamination: 0.05, seed: 42, trees: 100, sampleSize: 256, maxTerms: 5000 } as const;

export interface BaselineResult {
  /** One flag per line: anomalous or not. */
  anomalous: boolean[];
  /** Isolation score of each line. */
  scores: Float64Array;
  /** Scores strictly above this are anomalous. */
  threshold: number;
}

/** Scores every line with TF-IDF + Isolation Forest and the threshold contamination implies. */
export function tfidfIsolationForestScores(messages: readonly string[], options: BaselineOptions = {}): BaselineResult {
  const o = { ...BASELINE_DEFAULTS, ...options };
  const n = messages.length;
  if (n === 0) return { anomalous: [], scores: new Float64Array(0), threshold: Number.NaN };

  // distinct token lists, with the number of lines holding each
  const keyOfLine = new Int32Array(n);
  const index = new Map<string, number>();
  const distinctTokens: string[][] = [];
  const counts: number[] = [];
  for (let i = 0; i < n; i++) {
    const tokens = templateTokens(maskMessage(messages[i]!).tokens.join(' '));
    const key = tokens.join(' ');
    let k = index.get(key);
    if (k === undefined) {
      k = distinctTokens.length;
      index.set(key, k);
      distinctTokens.push(tokens);
      counts.push(0);
    }
    counts[k]!++;
    keyOfLine[i] = k;
  }

  // document frequencies over lines (a distinct message counts once per line holding it)
  const tfidf = new TfIdf({ maxTerms: o.maxTerms }).fit(distinctTokens, counts);
  const vectors: CompactVector[] = distinctTokens.map((t) => tfidf.transform(t));

  // one row per line (shared vectors), so each tree samples lines as scikit-learn does
  const rows: CompactVector[] = new Array<CompactVector>(n);
  for (let i = 0; i < n; i++) rows[i] = vectors[keyOfLine[i]!]!;
  const forest = new IsolationForest().fit(rows, { trees: o.trees, sampleSize: o.sampleSize, seed: o.seed });

  const distinctScores = forest.scoreAll(vectors);
  const scores = new Float64Array(n);
  for (let i = 0; i < n; i++) scores[i] = distinctScores[keyOfLine[i]!]!;
  const threshold = thresholdFor(scores, o.contamination);
  const anomalous = new Array<boolean>(n);
  for (let i = 0; i < n; i++) anomalous[i] = scores[i]! > threshold;
  return { anomalous, scores, threshold };
}

/** The baseline's verdict per line: TF-IDF + Isolation Forest, top `contamination` share flagged. */
export function tfidfIsolationForestBaseline(messages: readonly string[], options: BaselineOptions = {}): boolean[] {
  return tfidfIsolationForestScores(messages, options).anomalous;
}
