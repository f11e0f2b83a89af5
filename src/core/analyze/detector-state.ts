/**
 * Saving and restoring a project's detectors (their baselines, windows, n-grams, fitted models …)
 * so a restarted or replacing worker continues exactly where the saved one was: the same findings,
 * record for record, as a run that was never interrupted.
 *
 * The state is written by the generic codec (`state-codec.ts`): every own field of every detector,
 * with the classes they hold and the module constants they point to registered below. A detector
 * that starts holding an instance of a new class fails its snapshot test until the class is added
 * to `DETECTOR_STATE.classes`; one that starts keeping a shared constant in its state fails the
 * test that compares states until the constant is exported and added to `DETECTOR_STATE.constants`
 * (restored as a copy, it would still work, but no longer be that constant).
 *
 * A snapshot is refused on restore (the caller starts those detectors afresh and warns) when:
 * its format or version is unknown; the detectors or their options differ from the configuration;
 * or a detector class gained fields since it was written (an older build's state would leave them
 * unset). Fields a class lost are ignored.
 */
import { Bouts } from '../detect/bouts.js';
import { CorrelationDetector, NO_SERVICES } from '../detect/correlation.js';
import type { Detector } from '../detect/detector.js';
import { ErrorRateDetector } from '../detect/error-rate.js';
import { FloodDetector } from '../detect/flood.js';
import { FrequencyDetector } from '../detect/frequency.js';
import { InsertionOrder } from '../detect/insertion-order.js';
import { IsolationForest } from '../detect/isolation-forest.js';
import { LocalOutlierFactor } from '../detect/lof.js';
import { MalformedTextDetector } from '../detect/malformed.js';
import { NewTemplateDetector } from '../detect/new-template.js';
import { TemplateOutlierDetector, WindowOutlierDetector } from '../detect/outlier.js';
import { SensitiveDataDetector } from '../detect/sensitive.js';
import { SequenceDetector } from '../detect/sequence.js';
import { SlotLru } from '../detect/slot-lru.js';
import { NOTHING, SeverityDetector, TemplateSeverityCache } from '../detect/severity.js';
import { TfIdf } from '../detect/tfidf.js';
import type { AnalyzeConfig } from './analyze-config.js';
import { createDetectors } from './detectors.js';
import { classShapes, decodeState, encodeState, StateCodecError, type StateGraph, type StateRegistry } from './state-codec.js';

export const DETECTOR_STATE_FORMAT = 'vigil.detectors';
/**
 * 2: sequence keeps its sessions in tables by slot (a version 1 snapshot holds an object per
 * session, which a version 2 detector cannot read; state inside plain objects is not checked by
 * field).
 * 3: severity and correlation count bouts in a Bouts (severity's were a map of its own); a
 * version 2 snapshot's correlation has no bouts, and its severity a field this build lacks.
 */
export const DETECTOR_STATE_VERSION = 3;

/**
 * Every class whose instances detectors hold, and every module constant their state points to, by
 * the name written into snapshots. A name is never reused for something else; renaming a class
 * keeps its name here.
 */
export const DETECTOR_STATE: StateRegistry = {
  classes: {
    CorrelationDetector,
    ErrorRateDetector,
    FloodDetector,
    FrequencyDetector,
    MalformedTextDetector,
    NewTemplateDetector,
    TemplateOutlierDetector,
    WindowOutlierDetector,
    SensitiveDataDetector,
    SequenceDetector,
    SeverityDetector,
    TemplateSeverityCache,
    TfIdf,
    InsertionOrder,
    SlotLru,
    Bouts,
    IsolationForest,
    LocalOutlierFactor,
  },
  constants: {
    // the shared "no phrase matched" result the severity caches store
    'severity.NOTHING': NOTHING,
    // the failing services of every request that has not failed (correlation)
    'correlation.NO_SERVICES': NO_SERVICES,
  },
};

export interface DetectorSnapshot {
  format: typeof DETECTOR_STATE_FORMAT;
  version: typeof DETECTOR_STATE_VERSION;
  /** Detector names, in order. */
  detectors: string[];
  /** The options each detector was built with (when the caller gave the configuration). */
  options?: Record<string, Record<string, number | string | boolean>>;
  state: StateGraph;
}

/** A snapshot that cannot be used; the caller starts the detectors afresh. */
export class DetectorStateError extends Error {
  readonly code = 'VIGIL_DETECTOR_STATE_INVALID';
}

function enabledOptions(config: AnalyzeConfig): Record<string, Record<string, number | string | boolean>> {
  const out: Record<string, Record<string, number | string | boolean>> = {};
  for (const [name, d] of Object.entries(config.detectors)) if (d.enabled) out[name] = { ...d.options };
  return out;
}

/** Options as one comparable string (keys sorted). */
const canonical = (o: Record<string, unknown>): string => JSON.stringify(Object.keys(o).sort().map((k) => [k, o[k]]));

/**
 * The detectors' state as JSON-serialisable data. Give the configuration they were built from, so
 * a restore under other options is refused instead of silently keeping the old ones.
 */
export function snapshotDetectors(detectors: Detector[], config?: AnalyzeConfig): DetectorSnapshot {
  try {
    return {
      format: DETECTOR_STATE_FORMAT,
      version: DETECTOR_STATE_VERSION,
      detectors: detectors.map((d) => d.name),
      ...(config ? { options: enabledOptions(config) } : {}),
      state: encodeState(detectors, DETECTOR_STATE),
    };
  } catch (err) {
    if (err instanceof StateCodecError) throw new DetectorStateError(`cannot snapshot the detectors: ${err.message}`);
    throw err;
  }
}

/**
 * Detectors for `config` with the state of a snapshot. Throws DetectorStateError when the snapshot
 * cannot be used (unknown format or version, other detectors or options, detector code whose
 * fields changed); the caller then starts afresh with `createDetectors(config)`.
 */
export function restoreDetectors(config: AnalyzeConfig, state: unknown): Detector[] {
  const s = state as Partial<DetectorSnapshot> | null;
  if (!s || typeof s !== 'object' || s.format !== DETECTOR_STATE_FORMAT) {
    throw new DetectorStateError(`not a detector snapshot (format ${JSON.stringify(s && typeof s === 'object' ? s.format : typeof s)}, expected ${DETECTOR_STATE_FORMAT})`);
  }
  if (s.version !== DETECTOR_STATE_VERSION) throw new DetectorStateError(`detector snapshot version ${String(s.version)} is not supported (this build reads version ${DETECTOR_STATE_VERSION})`);
  const fresh = createDetectors(config);
  const want = fresh.map((d) => d.name);
  const had = Array.isArray(s.detectors) ? s.detectors.map(String) : [];
  if (want.join(',') !== had.join(',')) throw new DetectorStateError(`the snapshot holds detectors [${had.join(', ')}], the configuration enables [${want.join(', ')}]`);
  if (s.options) {
    const now = enabledOptions(config);
    const changed = Object.keys(now).filter((name) => !s.options![name] || canonical(s.options![name]!) !== canonical(now[name]!));
    if (changed.length > 0) throw new DetectorStateError(`the options of ${changed.join(', ')} changed since the snapshot was written`);
  }
  let restored: unknown;
  try {
    const saved = classShapes(s.state as StateGraph);
    const current = classShapes(encodeState(fresh, DETECTOR_STATE));
    for (const [cls, fields] of current) {
      const old = saved.get(cls);
      if (!old) continue;
      const added = fields.filter((f) => !old.includes(f));
      if (added.length > 0) throw new DetectorStateError(`${cls} has fields the snapshot lacks (${added.join(', ')}): it was written by another version of the detector`);
    }
    restored = decodeState(s.state, DETECTOR_STATE);
  } catch (err) {
    if (err instanceof StateCodecError) throw new DetectorStateError(`detector snapshot unreadable: ${err.message}`);
    throw err;
  }
  if (!Array.isArray(restored) || restored.length !== fresh.length || !restored.every((d, i) => d && typeof (d as Detector).observe === 'function' && (d as Detector).name === want[i])) {
    throw new DetectorStateError('detector snapshot does not hold the detectors it names');
  }
  return restored as Detector[];
}
