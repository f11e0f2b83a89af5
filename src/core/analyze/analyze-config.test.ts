import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_LIMITS, resolveConfig } from './analyze-config.js';
import { DEFAULT_DECISION } from './decision.js';

const registry = {
  spike: { defaults: { windowMs: 60_000, factor: 5 }, emits: ['spike'] },
  flood: { defaults: { share: 0.5 }, emits: ['flood'] },
};

describe('resolveConfig', () => {
  it('gives every default when there is no file', () => {
    const c = resolveConfig(undefined, registry);
    expect(c.decision).toEqual(DEFAULT_DECISION);
    expect(c.limits).toEqual(DEFAULT_LIMITS);
    expect(c.detectors.spike).toEqual({ enabled: true, options: { windowMs: 60_000, factor: 5 } });
  });

  it('lays a file over the defaults', () => {
    const c = resolveConfig({ decision: { threshold: 0.7, weights: { flood: 0.2 } }, detectors: { spike: { options: { factor: 10 } }, flood: { enabled: false } }, limits: { maxTemplates: 500 } }, registry);
    expect(c.decision.threshold).toBe(0.7);
    expect(c.decision.weights.flood).toBe(0.2);
    expect(c.decision.weights.new_template).toBe(DEFAULT_DECISION.weights.new_template);
    expect(c.detectors.spike!.options.factor).toBe(10);
    expect(c.detectors.flood!.enabled).toBe(false);
    expect(c.limits.maxTemplates).toBe(500);
  });

  it('rejects unknown keys with their path', () => {
    expect(() => resolveConfig({ decison: {} }, registry)).toThrow(/decison/);
    expect(() => resolveConfig({ decision: { treshold: 0.5 } }, registry)).toThrow(/decision.*treshold/);
    expect(() => resolveConfig({ limits: { maxLines: 5 } }, registry)).toThrow(/maxLines/);
  });

  it('rejects unknown detectors and options, naming what is allowed', () => {
    expect(() => resolveConfig({ detectors: { spikes: {} } }, registry)).toThrow(/detectors.spikes: unknown detector \(known: spike, flood\)/);
    expect(() => resolveConfig({ detectors: { spike: { options: { windowSeconds: 5 } } } }, registry)).toThrow(/windowSeconds: unknown option \(allowed: windowMs, factor\)/);
    expect(() => resolveConfig({ decision: { weights: { nope: 1 } } }, registry)).toThrow(/decision.weights.nope: no detector emits/);
  });

  it('rejects values of the wrong type or range, with a stable code', () => {
    expect(() => resolveConfig({ detectors: { spike: { options: { factor: 'ten' } } } }, registry)).toThrow(/expected a number/);
    expect(() => resolveConfig({ decision: { threshold: 2 } }, registry)).toThrow(ConfigError);
    try {
      resolveConfig({ decision: { threshold: -1 } }, registry);
    } catch (e) {
      expect((e as ConfigError).code).toBe('VIGIL_CONFIG_INVALID');
    }
  });
});
