/**
 * The combined decision: when does a line count as an anomaly?
 *
 * Each finding has a score s in [0, 1]; each detector a weight w in [0, 1] (how much a firing of
 * that detector alone should be believed). The line's score is the noisy-OR of the weighted
 * findings, 1 − Π(1 − w·s): one strong finding is enough, several weak ones add up, and the result
 * stays in [0, 1]. A line is an anomaly when its score reaches `threshold` and at least
 * `minDetectors` detectors fired on it.
 */
import { SEVERITIES, type Finding, type Severity } from '../detect/detector.js';
import type { Level } from '../parse/record.js';

export interface DecisionConfig {
  /** Score a line needs to count as an anomaly. */
  threshold: number;
  /** Distinct detectors that must have fired on the line. */
  minDetectors: number;
  /** Weight per detector name; detectors not listed weigh `defaultWeight`. */
  weights: Record<string, number>;
  defaultWeight: number;
}

/**
 * Defaults: a new template, a spike, a flood, leaked secrets and semantic errors are believed on
 * their own (a spike's bar — 5× the baseline, above ordinary variability, not a habit — is already
 * conservative);
 * rarity and outlier scores, which fire on unusual-but-fine lines too, need support from another
 * detector or a very high score before a line crosses 0.5.
 */
export const DEFAULT_DECISION: Readonly<DecisionConfig> = Object.freeze({
  threshold: 0.5,
  minDetectors: 1,
  weights: {
    new_template: 0.9,
    rare_template: 0.5,
    frequency_spike: 1,
    frequency_drop: 0.5,
    error_rate: 0.7,
    flood: 0.9,
    sequence: 0.8,
    outlier_message: 0.6,
    outlier_window: 0.5,
    severity: 0.7,
    sensitive_data: 1,
    correlation: 0.35,
    malformed: 0.7,
  },
  defaultWeight: 0.7,
});

export interface Decision {
  anomaly: boolean;
  score: number;
  detectors: string[];
  severity: Severity;
  reason: string;
  tags: string[];
}

const rank = (s: Severity): number => SEVERITIES.length - SEVERITIES.indexOf(s);

/** The severity a level word implies when no finding says more. */
export function severityOfLevel(level: Level | undefined): Severity {
  switch (level) {
    case 'fatal': return 'critical';
    case 'error': return 'high';
    case 'warn': return 'medium';
    case 'notice': case 'info': return 'low';
    default: return 'info';
  }
}

/**
 * `strongest`, when given, receives the (at most three) findings the reason is made of, in its
 * order: the reason is their reasons joined with "; ".
 */
export function decide(findings: readonly Finding[], level: Level | undefined, config: DecisionConfig, strongest?: Finding[]): Decision {
  let keep = 1;
  let severity = severityOfLevel(level);
  const detectors: string[] = [];
  const tags: string[] = [];
  for (const f of findings) {
    const w = config.weights[f.detector] ?? config.defaultWeight;
    keep *= 1 - Math.min(1, Math.max(0, w * f.score));
    if (!detectors.includes(f.detector)) detectors.push(f.detector);
    if (f.severity && rank(f.severity) > rank(severity)) severity = f.severity;
    for (const t of f.tags ?? []) if (!tags.includes(t)) tags.push(t);
  }
  const score = Math.round((1 - keep) * 1000) / 1000;
  const anomaly = findings.length > 0 && score >= config.threshold && detectors.length >= config.minDetectors;
  const sorted = findings.length === 1 ? findings : [...findings].sort((a, b) => (config.weights[b.detector] ?? config.defaultWeight) * b.score - (config.weights[a.detector] ?? config.defaultWeight) * a.score);
  const top = sorted.length <= 3 ? sorted : sorted.slice(0, 3);
  if (strongest) for (const f of top) strongest.push(f);
  const reason = top.length === 1 ? top[0]!.reason : top.map((f) => f.reason).join('; ');
  return { anomaly, score, detectors, severity, reason, tags };
}
