/**
 * The analyze configuration: one strict schema (unknown keys are errors, with the path and the
 * keys allowed), defaults defined once, a YAML file on top of them.
 */
import { z } from 'zod';
import { DEFAULT_DECISION, type DecisionConfig } from './decision.js';

export class ConfigError extends Error {
  readonly code = 'VIGIL_CONFIG_INVALID';
}

/** What a detector accepts: its defaults (option names and types come from them). */
export interface DetectorSpec {
  defaults: Readonly<Record<string, number | string | boolean>>;
  /** Finding names the detector emits (what `decision.weights` may name). */
  emits: readonly string[];
}

export interface AnalyzeLimits {
  /** Characters kept of a longer input line (the rest is skipped, the line counted as truncated). */
  maxLineChars: number;
  /** Templates kept per source (LRU beyond). */
  maxTemplates: number;
  /** Lines joined into one multi-line record at most. */
  maxLinesPerRecord: number;
  /** Characters of one multi-line record at most. */
  maxRecordChars: number;
}

export const DEFAULT_LIMITS: Readonly<AnalyzeLimits> = Object.freeze({
  maxLineChars: 64 * 1024, // no real log line is longer; longer ones are binary or dumps
  maxTemplates: 10_000,
  maxLinesPerRecord: 500, // a deep Java trace is ~200 frames
  maxRecordChars: 256 * 1024,
});

export interface AnalyzeConfig {
  decision: DecisionConfig;
  limits: AnalyzeLimits;
  detectors: Record<string, { enabled: boolean; options: Record<string, number | string | boolean> }>;
}

const unit = z.number().min(0).max(1);
const scalar = z.union([z.number(), z.string(), z.boolean()]);

const FileSchema = z.strictObject({
  decision: z.strictObject({
    threshold: unit.optional(),
    minDetectors: z.number().int().min(1).optional(),
    weights: z.record(z.string(), unit).optional(),
    defaultWeight: unit.optional(),
  }).optional(),
  limits: z.strictObject({
    maxLineChars: z.number().int().min(256).optional(),
    maxTemplates: z.number().int().min(10).optional(),
    maxLinesPerRecord: z.number().int().min(1).optional(),
    maxRecordChars: z.number().int().min(256).optional(),
  }).optional(),
  detectors: z.record(z.string(), z.strictObject({
    enabled: z.boolean().optional(),
    options: z.record(z.string(), scalar).optional(),
  })).optional(),
});

function describe(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
}

/**
 * Builds the configuration from a parsed YAML/JSON document (or nothing) over the defaults. Every
 * detector and option name is checked against the registry, so a typo is an error, not a no-op.
 */
export function resolveConfig(raw: unknown, registry: Readonly<Record<string, DetectorSpec>>): AnalyzeConfig {
  const parsed = FileSchema.safeParse(raw ?? {});
  if (!parsed.success) throw new ConfigError(describe(parsed.error.issues));
  const file = parsed.data;
  const names = Object.keys(registry);
  const detectors: AnalyzeConfig['detectors'] = {};
  for (const name of names) detectors[name] = { enabled: true, options: { ...registry[name]!.defaults } };
  for (const [name, d] of Object.entries(file.detectors ?? {})) {
    const spec = registry[name];
    if (!spec) throw new ConfigError(`detectors.${name}: unknown detector (known: ${names.join(', ')})`);
    const target = detectors[name]!;
    if (d.enabled !== undefined) target.enabled = d.enabled;
    for (const [key, value] of Object.entries(d.options ?? {})) {
      if (!(key in spec.defaults)) throw new ConfigError(`detectors.${name}.options.${key}: unknown option (allowed: ${Object.keys(spec.defaults).join(', ') || 'none'})`);
      const want = typeof spec.defaults[key];
      if (typeof value !== want) throw new ConfigError(`detectors.${name}.options.${key}: expected a ${want}, got ${JSON.stringify(value)}`);
      target.options[key] = value;
    }
  }
  const findingNames = Object.values(registry).flatMap((r) => r.emits);
  for (const name of Object.keys(file.decision?.weights ?? {})) {
    if (!findingNames.includes(name)) throw new ConfigError(`decision.weights.${name}: no detector emits this finding (known: ${findingNames.join(', ')})`);
  }
  const decision: DecisionConfig = {
    threshold: file.decision?.threshold ?? DEFAULT_DECISION.threshold,
    minDetectors: file.decision?.minDetectors ?? DEFAULT_DECISION.minDetectors,
    weights: { ...DEFAULT_DECISION.weights, ...(file.decision?.weights ?? {}) },
    defaultWeight: file.decision?.defaultWeight ?? DEFAULT_DECISION.defaultWeight,
  };
  return { decision, limits: { ...DEFAULT_LIMITS, ...(file.limits ?? {}) }, detectors };
}
