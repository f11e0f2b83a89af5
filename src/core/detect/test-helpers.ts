/**
 * Builders for detector tests: a stream of DetectInput values with a running line number and event
 * clock, so a test reads as the log it stands for. Pure, so it may live beside the code.
 */
import type { LogRecord } from '../parse/record.js';
import type { DetectInput, Detector, Finding } from './detector.js';

export interface InputSpec {
  source?: string;
  templateId?: string;
  /** Defaults to the template id, so a test can name a template once. */
  template?: string;
  params?: string[];
  /** Defaults to the template text. */
  message?: string;
  record?: Partial<LogRecord>;
  timeMs?: number;
  sessionKey?: string;
  createdTemplate?: boolean;
  seq?: number;
}

/** A DetectInput with defaults: source `app`, message = template = template id. */
export function input(spec: InputSpec = {}): DetectInput {
  const templateId = spec.templateId ?? 't1';
  const template = spec.template ?? templateId;
  const message = spec.message ?? spec.record?.message ?? template;
  const out: DetectInput = {
    seq: spec.seq ?? 1,
    source: spec.source ?? 'app',
    record: { ...spec.record, message },
    templateId,
    template,
    params: spec.params ?? [],
    createdTemplate: spec.createdTemplate ?? false,
    timeMs: spec.timeMs ?? 0,
  };
  if (spec.sessionKey !== undefined) out.sessionKey = spec.sessionKey;
  return out;
}

/** A stream: numbers lines, and keeps an event clock that only moves when a spec sets `timeMs`. */
export class Stream {
  private seq = 0;
  private nowMs: number;
  constructor(startMs = 0) {
    this.nowMs = startMs;
  }
  get timeMs(): number {
    return this.nowMs;
  }
  /** Moves the clock forward. */
  advance(ms: number): this {
    this.nowMs += ms;
    return this;
  }
  next(spec: InputSpec = {}): DetectInput {
    if (spec.timeMs !== undefined) this.nowMs = spec.timeMs;
    this.seq++;
    return input({ ...spec, seq: this.seq, timeMs: this.nowMs });
  }
}

/** Feeds inputs to a detector and returns every finding, each with the input's seq. */
export function feed(detector: Detector, inputs: Iterable<DetectInput>): (Finding & { seq: number })[] {
  const out: (Finding & { seq: number })[] = [];
  for (const i of inputs) for (const f of detector.observe(i)) out.push({ ...f, seq: i.seq });
  return out;
}
