import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/cli/analyze.js';

describe('examples/vigil.yaml', () => {
  it('is a valid analyze config and overrides what it says', () => {
    const c = loadConfig(join(import.meta.dirname, '..', 'examples', 'vigil.yaml'));
    expect(c.decision.weights.correlation).toBe(0.35);
    expect(c.detectors.sensitive_data!.options.reportEmails).toBe(false);
    expect(c.detectors.frequency!.options.spikeRatio).toBe(5);
    expect(c.limits.maxTemplates).toBe(10_000);
  });
});
