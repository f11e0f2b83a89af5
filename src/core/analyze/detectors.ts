/**
 * The detectors `vigil analyze` runs, by config name: their defaults (the option names and types
 * the config schema accepts), the finding names they emit (which decision weights may name), and
 * how to build one.
 */
import type { Detector } from '../detect/detector.js';
import { CorrelationDetector, DEFAULT_CORRELATION_OPTIONS } from '../detect/correlation.js';
import { DEFAULT_ERROR_RATE_OPTIONS, ErrorRateDetector } from '../detect/error-rate.js';
import { DEFAULT_FLOOD_OPTIONS, FloodDetector } from '../detect/flood.js';
import { DEFAULT_FREQUENCY_OPTIONS, FrequencyDetector } from '../detect/frequency.js';
import { DEFAULT_MALFORMED_OPTIONS, MalformedTextDetector } from '../detect/malformed.js';
import { DEFAULT_NEW_TEMPLATE_OPTIONS, NewTemplateDetector } from '../detect/new-template.js';
import { TEMPLATE_OUTLIER_DEFAULTS, TemplateOutlierDetector, WINDOW_OUTLIER_DEFAULTS, WindowOutlierDetector } from '../detect/outlier.js';
import { DEFAULT_SENSITIVE_OPTIONS, SensitiveDataDetector } from '../detect/sensitive.js';
import { DEFAULT_SEQUENCE_OPTIONS, SequenceDetector } from '../detect/sequence.js';
import { DEFAULT_SEVERITY_OPTIONS, SeverityDetector } from '../detect/severity.js';
import type { AnalyzeConfig, DetectorSpec } from './analyze-config.js';

type Options = Record<string, number | string | boolean>;

interface Entry extends DetectorSpec {
  /** Finding names this detector emits. */
  emits: readonly string[];
  create(options: Options): Detector;
}

const entry = <T extends object>(defaults: Readonly<T>, emits: string[], create: (o: Partial<T>) => Detector): Entry => ({
  defaults: defaults as unknown as Options,
  emits,
  create: (o) => create(o as Partial<T>),
});

export const DETECTORS: Readonly<Record<string, Entry>> = {
  new_template: entry(DEFAULT_NEW_TEMPLATE_OPTIONS, ['new_template', 'rare_template'], (o) => new NewTemplateDetector(o)),
  frequency: entry(DEFAULT_FREQUENCY_OPTIONS, ['frequency_spike', 'frequency_drop'], (o) => new FrequencyDetector(o)),
  error_rate: entry(DEFAULT_ERROR_RATE_OPTIONS, ['error_rate'], (o) => new ErrorRateDetector(o)),
  flood: entry(DEFAULT_FLOOD_OPTIONS, ['flood'], (o) => new FloodDetector(o)),
  sequence: entry(DEFAULT_SEQUENCE_OPTIONS, ['sequence'], (o) => new SequenceDetector(o)),
  severity: entry(DEFAULT_SEVERITY_OPTIONS, ['severity'], (o) => new SeverityDetector(o)),
  sensitive_data: entry(DEFAULT_SENSITIVE_OPTIONS, ['sensitive_data'], (o) => new SensitiveDataDetector(o)),
  correlation: entry(DEFAULT_CORRELATION_OPTIONS, ['correlation'], (o) => new CorrelationDetector(o)),
  malformed: entry(DEFAULT_MALFORMED_OPTIONS, ['malformed'], (o) => new MalformedTextDetector(o)),
  outlier_message: entry(TEMPLATE_OUTLIER_DEFAULTS, ['outlier_message'], (o) => new TemplateOutlierDetector(o)),
  outlier_window: entry(WINDOW_OUTLIER_DEFAULTS, ['outlier_window'], (o) => new WindowOutlierDetector(o)),
};

export const DETECTOR_SPECS: Readonly<Record<string, DetectorSpec>> = DETECTORS;

/** The enabled detectors, built with their configured options. */
export function createDetectors(config: AnalyzeConfig): Detector[] {
  const out: Detector[] = [];
  for (const [name, d] of Object.entries(config.detectors)) {
    const e = DETECTORS[name];
    if (e && d.enabled) out.push(e.create(d.options));
  }
  return out;
}
