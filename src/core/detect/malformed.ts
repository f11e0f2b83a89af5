/**
 * Malformed text: a log line carrying terminal control sequences, other control characters,
 * undecodable bytes (U+FFFD) or mis-decoded UTF-8 ("mojibake", `Ã©` for `é`) is a data-quality
 * anomaly whatever its template: something wrote bytes a log should not hold, or read them wrong.
 */
import { NO_FINDINGS, type DetectInput, type Detector, type Finding } from './detector.js';

export interface MalformedTextOptions {
  /** Mis-decoded sequences a line must hold to count as mojibake (one can be a real word). */
  minMojibake: number;
}

export const DEFAULT_MALFORMED_OPTIONS: Readonly<MalformedTextOptions> = Object.freeze({
  minMojibake: 2,
});

// UTF-8 lead bytes read as Latin-1/Windows-1252 (Ã, Â, â, Ð, Ñ, ï) followed by a continuation-range character
const MOJIBAKE = /[ÃÂâÐÑï][\u0080-\u00bf€‚ƒ„…†‡ˆ‰Š‹ŒŽ''""•–—˜™š›œžŸ]/g;

/** What is odd about a line's characters, if anything. */
/** Anything but printable ASCII, tab, CR and LF: most lines have none, and one native scan says so. */
const NOT_PLAIN = /[^\t\n\r\x20-\x7e]/;

export function oddCharacters(text: string, minMojibake = DEFAULT_MALFORMED_OPTIONS.minMojibake): { kind: 'control' | 'undecodable' | 'mojibake'; count: number } | undefined {
  if (!NOT_PLAIN.test(text)) return undefined;
  let control = 0;
  let undecodable = 0;
  let high = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 32) {
      if (c !== 9 && c !== 10 && c !== 13) control++;
    } else if (c >= 128) {
      high = true;
      if (c === 0xfffd) undecodable++;
      else if (c >= 0x80 && c < 0xa0) control++;
    }
  }
  if (control > 0) return { kind: 'control', count: control };
  if (undecodable > 0) return { kind: 'undecodable', count: undecodable };
  if (high) {
    const m = text.match(MOJIBAKE);
    if (m && m.length >= minMojibake) return { kind: 'mojibake', count: m.length };
  }
  return undefined;
}

const REASONS = {
  control: 'control characters (terminal escapes or raw bytes)',
  undecodable: 'bytes that are not valid UTF-8',
  mojibake: 'mis-decoded UTF-8 ("mojibake")',
} as const;

export class MalformedTextDetector implements Detector {
  readonly name = 'malformed';
  private readonly opts: MalformedTextOptions;

  constructor(options: Partial<MalformedTextOptions> = {}) {
    this.opts = { ...DEFAULT_MALFORMED_OPTIONS, ...options };
  }

  observe(input: DetectInput): Finding[] {
    const odd = oddCharacters(input.record.message, this.opts.minMojibake);
    if (!odd) return NO_FINDINGS;
    return [{
      detector: this.name,
      score: 0.8,
      reason: `line holds ${REASONS[odd.kind]}: ${odd.count} of them`,
      evidence: { kind: odd.kind, count: odd.count },
      tags: ['malformed'],
      severity: 'low',
    }];
  }
}
