/**
 * A saved model: what `vigil analyze` learned (each source's format, templates and counts) in an
 * explicit, versioned format, so `vigil score` can judge single lines against it, like a
 * `/score-log` endpoint.
 */
import type { Finding } from '../detect/detector.js';
import { findSensitive } from '../detect/sensitive.js';
import { semanticSeverity } from '../detect/severity.js';
import { TemplateMiner, type MinerSnapshot } from '../mine/miner.js';
import { detectFormat, LineParser, type StreamFormat } from '../parse/line-parser.js';
import { decide, type Decision, type DecisionConfig } from './decision.js';

export interface VigilModel {
  format: 'vigil.model';
  version: 1;
  decision: DecisionConfig;
  sources: { name: string; records: number; format: StreamFormat; miner: MinerSnapshot }[];
}

export class ModelError extends Error {
  readonly code = 'VIGIL_MODEL_INVALID';
}

export interface LineScore extends Decision {
  line: string;
  message: string;
  template: string | null;
  templateId: string | null;
  /** The model source whose templates the line matched. */
  source: string | null;
  findings: Finding[];
}

/** A template this rare (share of its source's records) is reported as rare. */
const RARE_SHARE = 1e-4;
const RARE_MAX_COUNT = 3;

export class LineScorer {
  private readonly sources: { name: string; records: number; parser: LineParser; miner: TemplateMiner }[];

  constructor(private readonly model: VigilModel, defaultYear: number) {
    this.sources = model.sources.map((s) => ({ name: s.name, records: s.records, parser: new LineParser(s.format, defaultYear), miner: TemplateMiner.restore(s.miner) }));
    this.defaultYear = defaultYear;
  }

  private readonly defaultYear: number;

  static load(raw: unknown, defaultYear: number): LineScorer {
    const m = raw as Partial<VigilModel> | null;
    if (!m || typeof m !== 'object' || m.format !== 'vigil.model') throw new ModelError('not a Vigil model (expected format "vigil.model"; write one with `vigil analyze`)');
    if (m.version !== 1) throw new ModelError(`unsupported model version ${String(m.version)} (this build reads version 1)`);
    if (!Array.isArray(m.sources) || !m.decision) throw new ModelError('model has no sources or decision');
    return new LineScorer(m as VigilModel, defaultYear);
  }

  /** Scores one raw log line: template match against every source, rarity, meaning, secrets. */
  score(line: string): LineScore {
    let best: { source: string; templateId: string; template: string; count: number; records: number; message: string } | undefined;
    let message = line;
    let level = undefined as ReturnType<LineParser['parse']>['record']['level'];
    for (const s of this.sources) {
      const rec = s.parser.parse(line).record;
      const m = s.miner.match(rec.message);
      if (m) {
        const count = s.miner.template(m.templateId)?.count ?? 0;
        if (!best || count > best.count) best = { source: s.name, templateId: m.templateId, template: m.template, count, records: s.records, message: rec.message };
      }
      if (message === line) {
        message = rec.message;
        level = rec.level;
      }
    }
    if (this.sources.length === 0) {
      const rec = new LineParser(detectFormat([line], this.defaultYear), this.defaultYear).parse(line).record;
      message = rec.message;
      level = rec.level;
    }
    const findings: Finding[] = [];
    const total = this.sources.reduce((n, s) => n + s.records, 0);
    if (!best) {
      findings.push({ detector: 'new_template', score: 1, reason: `message fits none of the ${this.sources.reduce((n, s) => n + s.miner.templateCount, 0).toLocaleString('en-US')} templates learned from ${total.toLocaleString('en-US')} records`, tags: ['new'] });
    } else if (best.count <= RARE_MAX_COUNT || best.count / Math.max(1, best.records) < RARE_SHARE) {
      findings.push({ detector: 'rare_template', score: Math.min(1, 1 - Math.log(best.count + 1) / Math.log(best.records + 2)), reason: `template seen ${best.count} time(s) in ${best.records.toLocaleString('en-US')} records of ${best.source}`, tags: ['rare'], evidence: { count: best.count, records: best.records } });
    }
    const sem = semanticSeverity(message, level);
    if (sem.severity === 'critical' || sem.severity === 'high') {
      findings.push({ detector: 'severity', score: sem.score, reason: `message reads as ${sem.severity}: ${sem.matched.join(', ')}`, severity: sem.severity, tags: ['error'] });
    }
    for (const hit of findSensitive(line)) {
      findings.push({ detector: 'sensitive_data', score: 1, reason: `${hit.kind} in the line: ${hit.masked}`, severity: 'high', tags: ['security'], evidence: { kind: hit.kind, masked: hit.masked } });
    }
    const d = decide(findings, level, this.model.decision);
    return { ...d, line, message: best?.message ?? message, template: best?.template ?? null, templateId: best?.templateId ?? null, source: best?.source ?? null, findings };
  }
}
