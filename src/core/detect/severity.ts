/**
 * Semantic severity: how bad a message reads, from what it says and not only from its level word.
 * "connection refused", "out of memory" and "segfault" are errors even when logged at INFO; "0
 * errors" and "retry succeeded" are not.
 *
 * The phrase list is compiled once into one case-insensitive regex whose alternatives are capture
 * groups, so a message is scanned once: no match means no phrase, and every match names its phrase.
 * Phrases are matched on word boundaries, except `…Exception` / `…Error` class names, which are
 * matched as suffixes (`IOException`, `OSError`).
 */
import type { Level } from '../parse/record.js';
import { NO_FINDINGS, type DetectInput, type Detector, type Finding, type Severity } from './detector.js';
import { Bouts } from './bouts.js';

export interface SemanticSeverity {
  severity: Severity;
  /** In [0, 1]: critical ≥ 0.9, high ≥ 0.7, medium ≥ 0.45, low ≥ 0.25. */
  score: number;
  /** The phrases found, as canonical labels (`connection refused`, `timed out` …), benign ones prefixed `benign:`. */
  matched: string[];
}

/** Phrase weights by tier. Benign phrases (weight < 0) lower the others; neutral ones (0) only hide text. */
const CRITICAL = 0.95;
const HIGH = 0.75;
const MEDIUM = 0.5;
const LOW = 0.3;
const NEUTRAL = 0;
const BENIGN = -1;

/** How much a benign phrase (`succeeded`, `corrected`) lowers the rest: about one tier. */
const BENIGN_DISCOUNT = 0.25;
/** Each extra distinct phrase adds a little (`failed … connection refused … timed out`), at most one step within a tier. */
const EXTRA_PHRASE_BONUS = 0.03;
const MAX_EXTRA_BONUS = 0.09;

/**
 * [label, regex source, weight]. Order matters where two phrases start at the same place: the first
 * listed wins, so longer and benign forms come before the words they contain.
 */
const PHRASES: readonly (readonly [string, string, number])[] = [
  // benign and neutral forms first: they consume the words inside them
  ['benign:no errors', String.raw`\b(?:no|zero|0|without(?: any)?)\s+(?:errors?|failures?|exceptions?|problems?|warnings?)\b`, BENIGN],
  ['benign:count is zero', String.raw`\b(?:errors?|failures?|failed|exceptions?|warnings?)\s*[=:]\s*0(?![\d.])`, BENIGN],
  ['benign:not an error', String.raw`\bnot\s+(?:an?\s+)?(?:error|failure|problem)\b`, BENIGN],
  ['benign:succeeded', String.raw`\b(?:succeeded|successful(?:ly)?|success(?:es)?)\b`, BENIGN],
  ['benign:corrected', String.raw`\b(?:corrected|recovered|resolved)\b`, BENIGN],
  // configuration values, not events: "timeout=30", "session timeout: 3000", "Notification time out: 3200"
  // (templates mask the number as <*>)
  ['neutral:timeout setting', String.raw`\btime[ -]?outs?\s*(?:is|of|set to|=|:)?\s*(?:\d|<\*>)`, NEUTRAL],
  ['neutral:error handling', String.raw`\b(?:on|error)[_-]?(?:handler|page|log|level|reporting)\b`, NEUTRAL],
  ['non-fatal', String.raw`\bnon[- ]?fatal\b`, MEDIUM],
  // critical: the process, machine or data is in danger
  ['out of memory', String.raw`\b(?:out of memory|outofmemory\w*|oom(?:[-_ ]?kill(?:er|ed)?)?|cannot allocate memory)\b`, CRITICAL],
  ['kernel panic', String.raw`\b(?:kernel panic|panic(?:ked|king)?)\b`, CRITICAL],
  ['segfault', String.raw`\b(?:segfault|segmentation fault|sigsegv|general protection fault)\b`, CRITICAL],
  ['core dumped', String.raw`\b(?:core dumped|dumped core)\b`, CRITICAL],
  ['data corruption', String.raw`\b(?:data loss|corrupt(?:ed|ion|s)?)\b`, CRITICAL],
  ['disk full', String.raw`\b(?:disk (?:is )?full|no space left(?: on device)?|file ?system full|quota exceeded)\b`, CRITICAL],
  ['fatal', String.raw`\bfatal\b`, CRITICAL],
  ['hardware fault', String.raw`\b(?:uncorrectable|machine check)\b`, CRITICAL],
  // high: something failed
  ['connection refused', String.raw`\bconnection (?:refused|reset|aborted|closed by peer)\b`, HIGH + 0.05],
  ['timed out', String.raw`\b(?:timed[ -]?out|time[ -]?outs?|deadline exceeded)\b`, HIGH],
  ['refused', String.raw`\brefused\b`, HIGH],
  ['denied', String.raw`\b(?:denied|unauthori[sz]ed|forbidden)\b`, HIGH],
  ['unreachable', String.raw`\bunreachable\b`, HIGH],
  ['failed', String.raw`\b(?:fail(?:s|ed|ing|ures?)?)\b`, HIGH],
  ['exception', String.raw`exceptions?\b|\btraceback\b`, HIGH],
  ['error', String.raw`errors?\b|\b(?:err|errno)\b`, HIGH],
  ['cannot', String.raw`\b(?:cannot|can'?t|can not|unable to|could ?n[o']t)\b`, HIGH],
  ['abort', String.raw`\babort(?:s|ed|ing)?\b`, HIGH],
  ['crash', String.raw`\bcrash(?:es|ed|ing)?\b`, HIGH],
  ['killed', String.raw`\b(?:killed|sigkill)\b`, HIGH],
  ['deadlock', String.raw`\bdeadlock(?:s|ed)?\b`, HIGH],
  ['overflow', String.raw`\boverflow(?:s|ed)?\b`, HIGH],
  ['unavailable', String.raw`\b(?:unavailable|not available)\b`, HIGH],
  ['illegal', String.raw`\b(?:illegal|violation)\b`, HIGH],
  ['http 5xx', String.raw`\b(?:status|code|http/\d(?:\.\d)?"?)["']?\s*[=: ]\s*"?5\d\d\b`, HIGH],
  // medium: probably wrong, not necessarily failing
  ['not found', String.raw`\b(?:not found|no such (?:file|directory|host|user)|missing)\b`, MEDIUM],
  ['invalid', String.raw`\b(?:invalid|malformed)\b`, MEDIUM],
  ['unexpected', String.raw`\bunexpected(?:ly)?\b`, MEDIUM],
  ['lost', String.raw`\b(?:lost|dropped)\b`, MEDIUM],
  ['rejected', String.raw`\breject(?:ed|ing)?\b`, MEDIUM],
  ['mismatch', String.raw`\bmismatch(?:ed)?\b`, MEDIUM],
  ['unhealthy', String.raw`\b(?:unhealthy|degraded)\b`, MEDIUM],
  // low: worth a look
  ['warning', String.raw`\bwarn(?:ings?|ed)?\b`, LOW],
  ['retry', String.raw`\bretr(?:y|ying|ies|ied)\b`, LOW],
  ['deprecated', String.raw`\bdeprecated\b`, LOW],
  ['throttled', String.raw`\bthrottl(?:ed|ing)\b`, LOW],
];

/** One scan over a message: each phrase is capture group i + 1. */
const PHRASE_SCAN = new RegExp(PHRASES.map(([, src]) => `(${src})`).join('|'), 'gi');

const LEVEL_SCORE: Record<Level, number> = { fatal: CRITICAL, error: HIGH, warn: MEDIUM, notice: LOW, info: 0, debug: 0, trace: 0 };
/** The severity a level word alone implies. */
export function levelScore(level: Level | undefined): number {
  return level === undefined ? 0 : LEVEL_SCORE[level];
}

export function severityOfScore(score: number): Severity {
  if (score >= 0.9) return 'critical';
  if (score >= 0.7) return 'high';
  if (score >= 0.45) return 'medium';
  if (score >= 0.25) return 'low';
  return 'info';
}

/** What the phrases alone say about a text. Shared, frozen results: no allocation for plain text. */
export interface PhraseSeverity {
  readonly score: number;
  readonly matched: readonly string[];
}

export const NOTHING: PhraseSeverity = Object.freeze({ score: 0, matched: Object.freeze([]) as readonly string[] });

/** Scores a text by its phrases only (the level word is not read). */
export function phraseSeverity(text: string): PhraseSeverity {
  PHRASE_SCAN.lastIndex = 0;
  let m = PHRASE_SCAN.exec(text);
  if (m === null) return NOTHING;
  const matched: string[] = [];
  let max = 0;
  let distinct = 0;
  let benign = false;
  while (m !== null) {
    let g = 1;
    while (g < m.length && m[g] === undefined) g++;
    const [label, , weight] = PHRASES[g - 1]!;
    if (!matched.includes(label)) {
      if (weight === NEUTRAL) {
        // hides its text, says nothing
      } else {
        matched.push(label);
        if (weight < 0) benign = true;
        else {
          distinct++;
          if (weight > max) max = weight;
        }
      }
    }
    if (m[0].length === 0) PHRASE_SCAN.lastIndex++;
    m = PHRASE_SCAN.exec(text);
  }
  if (matched.length === 0) return NOTHING;
  let score = max === 0 ? 0 : max + Math.min(MAX_EXTRA_BONUS, EXTRA_PHRASE_BONUS * (distinct - 1));
  if (benign) score = Math.max(0, score - BENIGN_DISCOUNT);
  return { score: Math.min(1, score), matched };
}

/**
 * The severity of a message from its meaning and its level word: the stronger of the two. A benign
 * phrase lowers what the phrases say, never what the level word says.
 */
export function semanticSeverity(message: string, level?: Level): SemanticSeverity {
  const p = phraseSeverity(message);
  const score = Math.max(p.score, levelScore(level));
  return { severity: severityOfScore(score), score, matched: [...p.matched] };
}

/** Templates whose masked slot may hide a severity (an HTTP status): their messages are checked for a 5xx. */
const VALUE_CARRIES_SEVERITY = /(?:status|code|http\/\d(?:\.\d)?"?)["']?\s*[=: ]\s*"?<\*>/i;
const HTTP_5XX = /(?:status|code|http\/\d(?:\.\d)?"?)["']?\s*[=: ]\s*"?5\d\d\b/i;

/** Templates remembered by the cache: as many as the miner keeps for a source (a miss only recomputes). */
export const DEFAULT_SEVERITY_CACHE_TEMPLATES = 10_000;

interface CachedTemplate {
  template: string;
  phrases: PhraseSeverity;
  needsMessage: boolean;
  /** The template's phrases plus a 5xx status, computed the first time a message shows one. */
  with5xx?: PhraseSeverity;
}

/**
 * The last record any cache was asked about and the answer, which depends on nothing but its
 * template and message (and is the same whichever cache gives it: the caches only save work).
 * A record is the same one by object, stream and position: a caller that reuses one input object
 * for every record (BatchReader) asks about a new record with the same object, and its caches
 * then fill exactly as a caller's with one object per record.
 */
let lastInput: DetectInput | undefined;
let lastSeq = NaN;
let lastSource = '';
let lastTemplate = '';
let lastMessage = '';
let lastAnswer: PhraseSeverity = NOTHING;

/**
 * Phrase severity per template, computed once. Templates keep the words of a message (the miner never
 * merges two different words), so the template's phrases are the message's phrases, and the big regex
 * runs once per template instead of once per line (it costs microseconds on a long line). The one
 * thing masking hides is a status code, so templates with a `status: <*>` slot test their messages
 * for a 5xx with a small regex. Bounded: the oldest templates are forgotten first.
 */
export class TemplateSeverityCache {
  private readonly byId = new Map<string, CachedTemplate>();
  constructor(private readonly maxTemplates = DEFAULT_SEVERITY_CACHE_TEMPLATES) {}

  /** Phrase severity of a record, from its template (and its status code when the template masks one). */
  phrasesOf(input: DetectInput): PhraseSeverity {
    // severity, error_rate and correlation each ask about every record, one after the other
    if (input === lastInput && input.seq === lastSeq && input.source === lastSource && input.template === lastTemplate && input.record.message === lastMessage) return lastAnswer;
    const answer = this.lookup(input);
    lastInput = input;
    lastSeq = input.seq;
    lastSource = input.source;
    lastTemplate = input.template;
    lastMessage = input.record.message;
    lastAnswer = answer;
    return answer;
  }

  private lookup(input: DetectInput): PhraseSeverity {
    let e = this.byId.get(input.templateId);
    if (e === undefined || e.template !== input.template) {
      e = { template: input.template, phrases: phraseSeverity(input.template), needsMessage: VALUE_CARRIES_SEVERITY.test(input.template) };
      if (!this.byId.has(input.templateId) && this.byId.size >= this.maxTemplates) {
        this.byId.delete(this.byId.keys().next().value!);
      }
      this.byId.set(input.templateId, e);
    }
    if (e.needsMessage && HTTP_5XX.test(input.record.message)) {
      // scored as if the template said it, so bonuses and benign discounts apply as usual
      e.with5xx ??= phraseSeverity(`${e.template} status=500`);
      return e.with5xx;
    }
    return e.phrases;
  }

  /** Score of a record: the stronger of its phrases and its level word. */
  scoreOf(input: DetectInput): number {
    return Math.max(this.phrasesOf(input).score, levelScore(input.record.level));
  }

  get size(): number {
    return this.byId.size;
  }
}

export interface SeverityDetectorOptions {
  /** Lowest score reported: 0.7 is `high`, the tier where a person should look at the line. */
  minScore: number;
  /** Templates whose phrase score is remembered. */
  cacheTemplates: number;
  /**
   * Bouts of a severe template reported at full score; beyond, the score falls as
   * √(youngCount / bouts): at 4× youngCount it is halved.
   */
  youngCount: number;
  /**
   * A bout: the occurrences within this long (ms of event time) of the bout's first. A burst of
   * one error is one piece of news however many lines it has; an error that keeps coming back is
   * routine.
   */
  boutMs: number;
}

export const DEFAULT_SEVERITY_OPTIONS: Readonly<SeverityDetectorOptions> = Object.freeze({
  minScore: 0.7,
  cacheTemplates: DEFAULT_SEVERITY_CACHE_TEMPLATES,
  // three separate bouts make an error a known one: errors a system logs all day (declined cards,
  // retried timeouts) are its background, while a burst of a new error stays news throughout
  youngCount: 3,
  // a minute, as the frequency windows: lines of one burst come seconds apart
  boutMs: 60_000,
});

const LEVEL_NAMES: Record<Level, string> = { fatal: 'FATAL', error: 'ERROR', warn: 'WARN', notice: 'NOTICE', info: 'INFO', debug: 'DEBUG', trace: 'TRACE' };

/** Fires for records whose semantic severity is high or critical, whatever their level word says. */
/** The score from which a line is critical (see severityOfScore). */
const CRITICAL_SCORE = 0.9;

export class SeverityDetector implements Detector {
  readonly name = 'severity';
  private readonly opts: SeverityDetectorOptions;
  private readonly cache: TemplateSeverityCache;
  /** Occurrences and bouts per source and template (bounded like the cache). */
  private readonly bouts: Bouts;

  constructor(options: Partial<SeverityDetectorOptions> = {}) {
    this.opts = { ...DEFAULT_SEVERITY_OPTIONS, ...options };
    this.cache = new TemplateSeverityCache(this.opts.cacheTemplates);
    this.bouts = new Bouts(this.opts.boutMs, this.opts.cacheTemplates);
  }

  observe(input: DetectInput): Finding[] {
    const phrases = this.cache.phrasesOf(input);
    const level = input.record.level;
    const fromLevel = levelScore(level);
    const severe = Math.max(phrases.score, fromLevel);
    if (severe < this.opts.minScore) return NO_FINDINGS;
    // a severe template that keeps recurring is background (its bursts are error_rate's and
    // frequency_spike's to find); its first occurrences are news
    const { count, bouts } = this.bouts.add(input);
    // critical lines (fatal, out of memory, panic …) never fade: they are worth a look every time
    const recurrence = bouts <= this.opts.youngCount || severe >= CRITICAL_SCORE ? 1 : Math.sqrt(this.opts.youngCount / bouts);
    const score = severe * recurrence;
    const severity = severityOfScore(severe);
    const words = phrases.matched.filter((w) => !w.startsWith('benign:'));
    const quoted = words.map((w) => `"${w}"`).join(', ');
    // the level word disagrees when it is missing or milder than what the words say
    const semantic = phrases.score >= this.opts.minScore && fromLevel < phrases.score && severityOfScore(fromLevel) !== severity;
    let reason: string;
    if (semantic) {
      reason = `${quoted} reads as ${severity} severity (score ${score.toFixed(2)}) although the line is ${level ? `logged at ${LEVEL_NAMES[level]}` : 'logged without a level'}`;
    } else {
      reason = `line logged at ${level ? LEVEL_NAMES[level] : 'no level'}${words.length > 0 ? ` says ${quoted}` : ''}: ${severity} severity (score ${score.toFixed(2)})`;
    }
    if (recurrence < 1) reason += `; a known error, seen ${count} times in ${bouts} bouts`;
    const evidence: Record<string, unknown> = { level: level ?? null, matched: [...phrases.matched], phraseScore: round(phrases.score), levelScore: fromLevel, occurrences: count, bouts, recurrence: round(recurrence) };
    return [{ detector: this.name, score, reason, evidence, tags: semantic ? ['error', 'semantic'] : ['error'], severity }];
  }
}

const round = (x: number): number => Math.round(x * 1000) / 1000;
