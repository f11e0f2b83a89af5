/**
 * The online template miner: Drain's idea (lines of equal length, bucketed by their first token,
 * join the most similar template above a threshold) with the fixes its users ask for:
 *
 * - Values are masked before mining (see parse/mask.ts), and a run of adjacent values counts as one
 *   slot, so a value spanning a varying number of tokens does not split a template. A slot that has
 *   always held the same number of tokens is written with that many `<*>`.
 * - `match` and `add` run the same search, so matching a line and adding it give the same answer.
 * - Limits: templates per miner (least recently used are evicted), message length and token count;
 *   every line that hits a limit is counted by reason.
 * - Ids are stable (see template-id.ts) and state is saved in an explicit, versioned snapshot.
 */
import { isCloser, isOpener, maskKey, maskMessage, WILDCARD, type MaskedKey } from '../parse/mask.js';
import { ownedString } from './owned-string.js';
import { templateIdFor } from './template-id.js';

export interface MinerConfig {
  /** Share of a line's slots that must equal a template's for the line to join it. Drain's default. */
  similarityThreshold: number;
  /** Templates kept per miner (one miner per source); the least recently used go first. */
  maxTemplates: number;
  /** Longer messages are cut to this many characters before mining (counted as `message_truncated`). */
  maxMessageChars: number;
  /** Tokens mined per message; the rest becomes one final value (counted as `tokens_truncated`). */
  maxTokens: number;
  /** Exact-shape lookups remembered (a cache: lines of a seen shape skip the similarity search). */
  shapeCacheSize: number;
  /**
   * Characters of shape keys remembered, all entries together: the cache's memory bound. A shape
   * key is the whole masked line, so on a stream of one-off lines (garbled text, stack traces with
   * new frames) an entry bound alone let the cache hold ~12 MB of keys no line would ask for again.
   */
  shapeCacheChars: number;
}

export const DEFAULT_MINER_CONFIG: Readonly<MinerConfig> = Object.freeze({
  similarityThreshold: 0.5,
  maxTemplates: 10_000,
  maxMessageChars: 16_384,
  maxTokens: 256,
  shapeCacheSize: 50_000,
  shapeCacheChars: 2_000_000,
});

export type LimitReason = 'message_truncated' | 'tokens_truncated' | 'template_evicted';

interface Cluster {
  id: string;
  /** Template slots: constant text, `<*>`, or text around `<*>` such as `uid=<*>`. */
  slots: string[];
  runs: number[];
  count: number;
  lastUsed: number;
  alive: boolean;
  text: string;
  /** What search needs to know of each slot (see SlotInfo), kept in step with `slots`. */
  info: SlotInfo[];
  /** Where it is in its bucket's list (the list is in insertion order: search breaks ties by it). */
  index: number;
}

export interface MineResult {
  templateId: string;
  /** The template with `<*>` for values. */
  template: string;
  /** The masked values of this line, in order. */
  params: string[];
  /** True when this line created the template. */
  created: boolean;
}

export interface TemplateInfo {
  templateId: string;
  template: string;
  count: number;
}

/** The miner's saved state. Bump `version` on any change of meaning. */
export interface MinerSnapshot {
  format: 'vigil.miner';
  version: 1;
  config: MinerConfig;
  tick: number;
  limits: Record<LimitReason, number>;
  templates: { id: string; slots: string[]; runs: number[]; count: number; lastUsed: number }[];
}

export class SnapshotError extends Error {
  readonly code = 'VIGIL_MINER_BAD_SNAPSHOT';
}

/** Wrapping punctuation around a value: `(<*>)`, `<*>,`, `"<*>"`. */

/** Whether a token is one value with only punctuation around it, and which punctuation. */
function valueWithPunct(token: string): { lead: string; trail: string } | undefined {
  const at = token.indexOf(WILDCARD);
  if (at < 0) return undefined;
  for (let i = 0; i < at; i++) if (!isOpener(token.charCodeAt(i))) return undefined;
  for (let i = at + WILDCARD.length; i < token.length; i++) if (!isCloser(token.charCodeAt(i))) return undefined;
  return { lead: token.slice(0, at), trail: token.slice(at + WILDCARD.length) };
}

interface Slots {
  slots: string[];
  /** Per slot: how many plain `<*>` tokens it joined (render that many), or 0 to render one. */
  runs: number[];
}

/**
 * Joins adjacent values into one slot: `<*> <*>` → `<*>`, `<*> <*>"` → `<*>"`, so a value spanning
 * a varying number of tokens (a date and time, a name with spaces) never splits a template. The
 * run length is kept: a slot that always held N plain values is written as N `<*>`.
 */
export function toSlots(tokens: readonly string[]): Slots {
  const slots: string[] = [];
  const runs: number[] = [];
  let prev: { lead: string; trail: string } | undefined;
  for (const t of tokens) {
    const v = t.length <= 8 ? valueWithPunct(t) : undefined;
    if (v && prev && prev.trail === '' && v.lead === '') {
      const last = slots.length - 1;
      slots[last] = prev.lead + WILDCARD + v.trail;
      runs[last] = prev.lead === '' && v.trail === '' && runs[last]! > 0 ? runs[last]! + 1 : 0;
      prev = { lead: prev.lead, trail: v.trail };
      continue;
    }
    slots.push(t);
    runs.push(1);
    prev = v;
  }
  return { slots, runs };
}

function render(slots: readonly string[], runs: readonly number[]): string {
  let out = '';
  for (let i = 0; i < slots.length; i++) {
    if (i > 0) out += ' ';
    const r = runs[i]!;
    out += r > 1 && slots[i] === WILDCARD ? WILDCARD + ` ${WILDCARD}`.repeat(r - 1) : slots[i];
  }
  return out;
}

/** Letters only, once wildcards and punctuation around words are set aside. */
function wordOf(token: string): string | undefined {
  let word = '';
  for (let k = 0; k < token.length; k++) {
    const ch = token[k]!;
    if (ch === '<' && token.startsWith(WILDCARD, k)) {
      k += WILDCARD.length - 1;
      continue;
    }
    const c = token.charCodeAt(k) | 32;
    // `Inode-cache`, `Step_LSC`: compound words are words too
    if ((c >= 97 && c <= 122) || ch === '-' || ch === '_') word += ch;
    else if (!isOpener(ch.charCodeAt(0)) && !isCloser(ch.charCodeAt(0)) && ch !== '=') return undefined;
  }
  return word === '' ? undefined : word;
}

const UNITS = new Set(['B', 'KB', 'MB', 'GB', 'TB', 'PB', 'KiB', 'MiB', 'GiB', 'TiB', 'bytes', 'ns', 'us', 'µs', 'ms', 's', 'sec', 'secs', 'seconds', 'min', 'mins', 'minutes', 'h', 'hours', 'k', 'K', 'M', 'G']);

const KEY_VALUE = /^[(["']?([A-Za-z][\w.-]*)[=:]/;

const isBoundary = (ch: string): boolean => isOpener(ch.charCodeAt(0)) || isCloser(ch.charCodeAt(0)) || ch === '=' || ch === '/' || ch === '@' || ch === '#';

/**
 * The slot two different tokens share: their common text up to a punctuation boundary on each side
 * around one `<*>` (`rhost=<*>` and `rhost=example.org` → `rhost=<*>`; `()` and `(a)` → `(<*>)`),
 * or a bare `<*>`.
 */
export function generaliseToken(a: string, b: string): string {
  let p = 0;
  const max = Math.min(a.length, b.length);
  while (p < max && a[p] === b[p]) p++;
  // cut the prefix back to just after a boundary character, and never inside a wildcard
  while (p > 0 && !isBoundary(a[p - 1]!)) p--;
  // the suffix is closing punctuation only: `(<*>)`, `"<*>",` (not `<*>.example.org`)
  let q = 0;
  while (q < max - p && a[a.length - 1 - q] === b[b.length - 1 - q] && isCloser(a.charCodeAt(a.length - 1 - q))) q++;
  const prefix = a.slice(0, p);
  const suffix = a.slice(a.length - q);
  if (prefix.includes('<') || suffix.includes('>')) return WILDCARD;
  return prefix + WILDCARD + suffix;
}

/** Whether a token fits a slot: equal, or the slot's text around its one `<*>`. */
export function fitsSlot(slot: string, token: string): boolean {
  if (slot === token) return true;
  if (slot === WILDCARD || token === WILDCARD) return false;
  const at = slot.indexOf(WILDCARD);
  if (at < 0 || slot.indexOf(WILDCARD, at + 1) >= 0) return false;
  const suffix = slot.slice(at + WILDCARD.length);
  return token.length >= at + suffix.length && token.startsWith(slot.slice(0, at)) && token.endsWith(suffix);
}

/** A value that is letters only once wrapping punctuation is set aside (`"View`, `root,`). */
function plainValue(v: string): string | undefined {
  let i = 0;
  let j = v.length;
  while (i < j && isOpener(v.charCodeAt(i))) i++;
  while (j > i && isCloser(v.charCodeAt(j - 1))) j--;
  if (i === j) return undefined;
  for (let k = i; k < j; k++) {
    const c = v.charCodeAt(k) | 32;
    if (c < 97 || c > 122) return undefined;
  }
  return v.slice(i, j);
}

/** Whether both tokens are `key=value` (or `key:value`) with the same key: its constant part. */
export function sameKey(a: string, b: string): boolean {
  const ka = KEY_VALUE.exec(a);
  if (!ka) return false;
  const kb = KEY_VALUE.exec(b);
  return kb !== null && ka[1] === kb[1];
}

/**
 * Nouns whose next word is the name of one (`for user cyrus`, `on host alpha`): that word is a
 * value, as user and host names are in the usual template annotation guidelines, so two lines
 * that differ only there share a template (`session opened for user <*>`).
 */
const NAMING_NOUNS = new Set(['user', 'username', 'host', 'hostname', 'node', 'client', 'account', 'tenant']);

/** A word that reads as what happened (`user logged in`, `host rebooting`), not as a name. */
const VERB_FORM = /(?:ed|ing)$/i;

/** Whether a token is a naming noun, so that the position after it holds a name. */
const namesNext = (token: string | undefined): boolean => token !== undefined && NAMING_NOUNS.has(token.toLowerCase());

/**
 * Whether two different tokens at one position name different events, so their lines must not
 * share a template. Different words do ("VM Paused" / "VM Resumed", "onExtend:<*>" /
 * "onStandStepChanged"), and so do dotted or hyphenated names, which in logs more often name a
 * different thing (`mapred.job.id` / `mapred.task.id`) than hold a value. Values (masked), a value
 * against a word, and the values of one key (`user=root` / `user=news`) do not, nor do two names
 * after a naming noun both lines hold before them (`before`: `user cyrus` / `user news`), unless
 * one reads as a verb (`user logged` / `user cyrus`).
 */
export function conflicts(a: string, b: string, before?: string): boolean {
  const ka = KEY_VALUE.exec(a);
  if (ka) {
    const kb = KEY_VALUE.exec(b);
    if (kb && ka[1] === kb[1]) {
      // one key: only two different plain words conflict (`user=root` / `user=guest`), not
      // identifiers or values (`name=com.android.phone` / `name=com.example.app`)
      const va = plainValue(a.slice(ka[0].length));
      const vb = plainValue(b.slice(kb[0].length));
      return va !== undefined && vb !== undefined && va !== vb;
    }
  }
  const wa = wordOf(a);
  if (wa === undefined) return false;
  const wb = wordOf(b);
  if (wb === undefined || wa === wb) return false;
  // units change with a value's magnitude (`384 B` / `1.2 KB`): they belong to the value
  if (UNITS.has(wa) && UNITS.has(wb)) return false;
  return !(namesNext(before) && !VERB_FORM.test(wa) && !VERB_FORM.test(wb));
}

/** wordOf, but a token that is all letters (the common case) is its own word, with no copy. */
function wordOfFast(token: string): string | undefined {
  const n = token.length;
  for (let k = 0; k < n; k++) {
    const c = token.charCodeAt(k);
    const l = c | 32;
    if (!((l >= 97 && l <= 122) || c === 45 || c === 95)) return wordOf(token);
  }
  return n === 0 ? undefined : token;
}

/**
 * What search needs to know of a token to decide, without regexes or copies, what fitsSlot,
 * conflicts and sameKey decide from the two strings: the same functions of each token, computed
 * once (for a template's slot when the slot is set, for a line's token when first needed).
 */
function tokenInfo(token: string): SlotInfo {
  return new SlotInfo(token, false);
}

/**
 * A token's info (one class: search reads every info with one hidden class; object spreads made
 * dictionary-mode objects, each property read a hash lookup).
 */
class SlotInfo {
  /** wordOf(token). */
  readonly word: string | undefined;
  /** The word is a unit (`KB`, `ms`). */
  readonly unit: boolean;
  /** The word reads as a verb (VERB_FORM): it is never a name after a naming noun. */
  readonly verbForm: boolean;
  /** The token is a naming noun: the word after it is a name (see NAMING_NOUNS). */
  readonly namesNext: boolean;
  /** The key of `key=value` / `key:value` (KEY_VALUE), if the token is one. */
  readonly key: string | undefined;
  /** plainValue() of the value after the key. */
  readonly keyPlain: string | undefined;
  /** A slot with one `<*>` (and not only that): the text before and after it, for fitsSlot. */
  readonly fitPrefix: string | undefined;
  readonly fitSuffix: string;
  /**
   * The slot's word when a line's token with another word always conflicts with it: a plain word
   * (no `<*>`, not `key=value`, not a unit). Search's index files templates by it.
   */
  readonly discriminating: string | undefined;

  /** `asSlot`: the token is a template's slot (fitPrefix and discriminating are set). */
  constructor(token: string, asSlot: boolean) {
    const found = wordOfFast(token);
    // a slot lives as long as its template: its word is kept flat (see ownedString)
    const word = asSlot && found !== undefined ? ownedString(found) : found;
    const kv = KEY_VALUE.exec(token);
    this.word = word;
    this.unit = word !== undefined && UNITS.has(word);
    this.verbForm = word !== undefined && VERB_FORM.test(word);
    this.namesNext = namesNext(token);
    this.key = kv ? kv[1] : undefined;
    this.keyPlain = kv ? plainValue(token.slice(kv[0].length)) : undefined;
    let fitPrefix: string | undefined;
    let fitSuffix = '';
    let discriminating: string | undefined;
    if (asSlot) {
      const at = token.indexOf(WILDCARD);
      if (token !== WILDCARD && at >= 0 && token.indexOf(WILDCARD, at + 1) < 0) {
        fitPrefix = token.slice(0, at);
        fitSuffix = token.slice(at + WILDCARD.length);
      }
      if (at < 0 && this.key === undefined && !this.unit) discriminating = word;
    }
    this.fitPrefix = fitPrefix;
    this.fitSuffix = fitSuffix;
    this.discriminating = discriminating;
  }
}

const slotInfo = (slot: string): SlotInfo => new SlotInfo(slot, true);
const WILDCARD_INFO = slotInfo(WILDCARD);

/**
 * Templates of one slot count, and an index of them by the plain word at each position: a template
 * whose discriminating word at some position is not the line's word there conflicts with the line
 * (conflicts() is true for two different plain words, neither a unit nor a key), so search compares
 * the line only with templates that are, at every position where the line holds a word, either
 * open there or filed under that word. The sets are bits over `list`.
 */
interface Bucket {
  /** In insertion order (Cluster.index is the position here). */
  list: Cluster[];
  /** Per position: the templates whose slot there is a discriminating word, by that word. */
  byWord: Filed[];
  /** Per position: bit k is set when list[k]'s slot there is not discriminating (open). */
  openBits: Uint32Array[];
  /** Per position: how many templates have a discriminating word there. */
  discriminating: number[];
  /** Per position: the templates by their slot there (a line's token equal to it counts as same). */
  exact: Filed[];
  /**
   * Per template (by index): its flexible slots, where a different token may still count as the
   * same (a slot with one `<*>` in text, or `key=…`): a line can be as similar to a template as
   * its equal slots and these allow, no more.
   */
  flexible: number[];
}

/**
 * Templates filed by a text: one template as itself, several in an array (most texts file one,
 * and an array per entry cost more memory than the rest of the index).
 */
type Filed = Map<string, Cluster | Cluster[]>;

function fileUnder(m: Filed, key: string, c: Cluster): void {
  const v = m.get(key);
  if (v === undefined) m.set(key, c);
  else if (Array.isArray(v)) v.push(c);
  else m.set(key, [v, c]);
}

function unfileFrom(m: Filed, key: string, c: Cluster): void {
  const v = m.get(key)!;
  if (!Array.isArray(v)) {
    m.delete(key);
    return;
  }
  v.splice(v.indexOf(c), 1);
  if (v.length === 1) m.set(key, v[0]!);
}

/** A template filed under the text (any: they share the slot, so its info too), if any. */
const anyFiled = (v: Cluster | Cluster[] | undefined): Cluster | undefined => (Array.isArray(v) ? v[0] : v);

/** Buckets this small are scanned whole: choosing candidates would cost more than it saves. */
const INDEX_MIN_TEMPLATES = 8;

function newBucket(n: number): Bucket {
  const byWord: Filed[] = [];
  const openBits: Uint32Array[] = [];
  const discriminating: number[] = [];
  const exact: Filed[] = [];
  for (let i = 0; i < n; i++) {
    byWord.push(new Map());
    openBits.push(new Uint32Array(4));
    discriminating.push(0);
    exact.push(new Map());
  }
  return { list: [], byWord, openBits, discriminating, exact, flexible: [] };
}

/** Sets or clears bit `k` of position `i`'s open set. */
function setOpen(b: Bucket, i: number, k: number, open: boolean): void {
  let bits = b.openBits[i]!;
  if (k >>> 5 >= bits.length) {
    const grown = new Uint32Array(Math.max(bits.length * 2, (k >>> 5) + 1));
    grown.set(bits);
    b.openBits[i] = bits = grown;
  }
  if (open) bits[k >>> 5]! |= 1 << (k & 31);
  else bits[k >>> 5]! &= ~(1 << (k & 31));
}

/** Whether a slot is flexible (see Bucket.flexible): fitsSlot or sameKey may hold for another token. */
const isFlexible = (info: SlotInfo): boolean => info.fitPrefix !== undefined || info.key !== undefined;

/**
 * The word a template is filed under at a position (see Bucket): its slot's discriminating word,
 * unless the slot before is a naming noun and the word may be a name (see conflicts).
 */
function filedWord(info: SlotInfo, before: SlotInfo | undefined): string | undefined {
  return before?.namesNext === true && !info.verbForm ? undefined : info.discriminating;
}

/** Files slot `i` of `c` (by its info, and the info of the slot before) in the bucket's index. */
function fileSlot(b: Bucket, c: Cluster, i: number): void {
  fileUnder(b.exact[i]!, c.slots[i]!, c);
  if (isFlexible(c.info[i]!)) b.flexible[c.index]!++;
  const w = filedWord(c.info[i]!, c.info[i - 1]);
  if (w === undefined) {
    setOpen(b, i, c.index, true);
    return;
  }
  b.discriminating[i]!++;
  fileUnder(b.byWord[i]!, w, c);
}

/** Takes slot `i` of `c` (as filed: its slot text and info then, and the info before it) out of the index. */
function unfileSlot(b: Bucket, c: Cluster, i: number, slot: string, info: SlotInfo, before: SlotInfo | undefined): void {
  unfileFrom(b.exact[i]!, slot, c);
  if (isFlexible(info)) b.flexible[c.index]!--;
  const w = filedWord(info, before);
  if (w === undefined) {
    setOpen(b, i, c.index, false);
    return;
  }
  b.discriminating[i]!--;
  unfileFrom(b.byWord[i]!, w, c);
}

/** The info of a slot at position `i` of a bucket: shared with a template holding the same slot there. */
function infoFor(b: Bucket, i: number, slot: string): SlotInfo {
  return anyFiled(b.exact[i]!.get(slot))?.info[i] ?? (slot === WILDCARD ? WILDCARD_INFO : slotInfo(slot));
}

/** Appends a template to a bucket and files it at every position. */
function addToBucket(b: Bucket, c: Cluster): void {
  c.index = b.list.length;
  b.list.push(c);
  b.flexible.push(0);
  for (let i = 0; i < c.info.length; i++) fileSlot(b, c, i);
}

/** Whether `a[af, at)` and `b[bf, bt)` are the same text (compared in place: most differ in length). */
function sameText(a: string, af: number, at: number, b: string, bf: number, bt: number): boolean {
  const n = at - af;
  if (n !== bt - bf) return false;
  for (let i = 0; i < n; i++) if (a.charCodeAt(af + i) !== b.charCodeAt(bf + i)) return false;
  return true;
}

/** Scratch bit sets for search (grown as needed, reused). */
let accBits = new Uint32Array(64);
let wordBits = new Uint32Array(64);
/** Scratch: per template of a bucket, its slots equal to the line's. */
let equalCounts = new Uint16Array(1024);

function newCluster(id: string, slots: string[], runs: number[], count: number, lastUsed: number, text = render(slots, runs)): Cluster {
  return { id, slots: slots.map(ownedString), runs, count, lastUsed, alive: true, text: ownedString(text), info: [], index: 0 };
}

/** Slots of a miner's table of recent shapes (a power of two; see TemplateMiner.foundKeys). */
const SHAPE_SLOTS = 1024;

/** A key's slot: its length and three of its characters (keys of one template differ mostly in length). */
function shapeSlot(key: string): number {
  const n = key.length;
  if (n === 0) return 0;
  return (n * 31 + key.charCodeAt(n - 1) * 7 + key.charCodeAt(n >> 1) * 13 + key.charCodeAt(n >> 2)) & (SHAPE_SLOTS - 1);
}

export class TemplateMiner {
  readonly config: MinerConfig;
  /** Templates by slot count. */
  private readonly buckets = new Map<number, Bucket>();
  private readonly byId = new Map<string, Cluster>();
  private shapeCache = new Map<string, Cluster>();
  private oldShapes = new Map<string, Cluster>();
  /** Characters of the keys in shapeCache (the current generation). */
  private shapeChars = 0;
  /** The last message mined, `lastText[lastFrom, lastTo)` (read in place: no slice per line), and its masking (see maskOnce). */
  private lastText = '';
  private lastFrom = 0;
  private lastTo = -1;
  private lastMasked: (MaskedKey & { tokens?: string[] }) | undefined;
  /**
   * Recent keys found in shapeCache, and their clusters, by a cheap hash of the key (shapeSlot):
   * each entry is what shapeCache holds for its key (remember() keeps them so, and clears them all
   * when the generations turn). The key of a line is a new string: a Map hashes it whole (~100
   * characters) on every line, where a slot costs a few characters and one comparison. A slot holds
   * the last key that fell in it: another shape in the same slot only sends the line to the Map.
   */
  private foundKeys: (string | undefined)[] = new Array<string | undefined>(SHAPE_SLOTS).fill(undefined);
  private foundClusters: (Cluster | undefined)[] = new Array<Cluster | undefined>(SHAPE_SLOTS).fill(undefined);
  private tick = 0;
  readonly limits: Record<LimitReason, number> = { message_truncated: 0, tokens_truncated: 0, template_evicted: 0 };

  constructor(config: Partial<MinerConfig> = {}) {
    this.config = { ...DEFAULT_MINER_CONFIG, ...config };
  }

  get templateCount(): number {
    return this.byId.size;
  }

  /** Mines one message: finds or creates its template and learns from it. */
  add(message: string): MineResult {
    return this.addRange(message, 0, message.length);
  }

  /**
   * Mines the message `text.slice(from, to)` (a log line's message, read in place: scanning a
   * slice of a line costs more than scanning the line).
   */
  addRange(text: string, from: number, to: number): MineResult {
    const end = this.messageEnd(from, to, true);
    const line = this.maskOnce(text, from, end);
    let cluster = this.lookup(line.key);
    let created = false;
    if (!cluster) {
      const slots = toSlots(line.tokens ?? this.tokens(text, from, end));
      cluster = this.search(slots.slots);
      if (cluster) this.generalise(cluster, slots);
      else {
        cluster = this.create(slots);
        created = true;
      }
      this.remember(line.key, cluster);
    }
    cluster.count++;
    cluster.lastUsed = ++this.tick;
    return { templateId: cluster.id, template: cluster.text, params: line.params, created };
  }

  /** The template a message would join, without learning anything; undefined if it would be new. */
  match(message: string): MineResult | undefined {
    const end = this.messageEnd(0, message.length, false);
    const line = this.mask(message, 0, end, false);
    const cluster = this.lookup(line.key) ?? this.search(toSlots(line.tokens ?? this.tokens(message, 0, end)).slots);
    return cluster ? { templateId: cluster.id, template: cluster.text, params: line.params, created: false } : undefined;
  }

  templates(): TemplateInfo[] {
    return [...this.byId.values()].map((c) => ({ templateId: c.id, template: c.text, count: c.count }));
  }

  template(id: string): TemplateInfo | undefined {
    const c = this.byId.get(id);
    return c ? { templateId: c.id, template: c.text, count: c.count } : undefined;
  }

  snapshot(): MinerSnapshot {
    return {
      format: 'vigil.miner',
      version: 1,
      config: { ...this.config },
      tick: this.tick,
      limits: { ...this.limits },
      templates: [...this.byId.values()].map((c) => ({ id: c.id, slots: [...c.slots], runs: [...c.runs], count: c.count, lastUsed: c.lastUsed })),
    };
  }

  static restore(snapshot: unknown): TemplateMiner {
    const s = snapshot as Partial<MinerSnapshot> | null;
    if (!s || typeof s !== 'object' || s.format !== 'vigil.miner') throw new SnapshotError('not a Vigil miner snapshot (expected format "vigil.miner")');
    if (s.version !== 1) throw new SnapshotError(`unsupported miner snapshot version ${String(s.version)} (this build reads version 1)`);
    if (!Array.isArray(s.templates)) throw new SnapshotError('miner snapshot has no templates array');
    const miner = new TemplateMiner(s.config ?? {});
    miner.tick = Number(s.tick) || 0;
    Object.assign(miner.limits, s.limits ?? {});
    for (const t of s.templates) {
      if (!t || typeof t.id !== 'string' || !Array.isArray(t.slots) || !t.slots.every((x) => typeof x === 'string')
        || !Array.isArray(t.runs) || t.runs.length !== t.slots.length || !Number.isFinite(t.count)) {
        throw new SnapshotError(`malformed template in miner snapshot: ${JSON.stringify(t).slice(0, 120)}`);
      }
      miner.insert(newCluster(t.id, [...t.slots], [...t.runs], t.count, Number(t.lastUsed) || 0));
    }
    return miner;
  }

  /** Where a message starting at `from` is cut: at most maxMessageChars are mined. */
  private messageEnd(from: number, to: number, counting: boolean): number {
    if (to - from <= this.config.maxMessageChars) return to;
    if (counting) this.limits.message_truncated++;
    return from + this.config.maxMessageChars;
  }

  /**
   * Masks the message `text[from, to)` for lookup. The key (its masked tokens joined by one space)
   * is built in the masking scan; the tokens themselves are only needed for a shape not seen yet.
   */
  private mask(text: string, from: number, to: number, counting: boolean): MaskedKey & { tokens?: string[] } {
    let line: (MaskedKey & { tokens?: string[] }) | undefined = maskKey(text, from, to, this.config.maxTokens);
    if (line === undefined) {
      const { tokens, params, truncatedTokens } = maskMessage(text.slice(from, to), this.config.maxTokens);
      // the key keeps every token, so a cached shape also has the same run lengths
      line = { key: tokens.join(' '), params, truncatedTokens, tokens };
    }
    if (line.truncatedTokens && counting) this.limits.tokens_truncated++;
    return line;
  }

  /**
   * mask(), but a message equal to the previous one (a burst of one line: retries, repeated
   * errors) reuses its masking: comparing costs a length check when they differ.
   */
  private maskOnce(text: string, from: number, to: number): MaskedKey & { tokens?: string[] } {
    const last = this.lastMasked;
    if (last !== undefined && sameText(text, from, to, this.lastText, this.lastFrom, this.lastTo)) {
      if (last.truncatedTokens) this.limits.tokens_truncated++;
      return { key: last.key, params: last.params.slice(), truncatedTokens: last.truncatedTokens, tokens: last.tokens };
    }
    const line = this.mask(text, from, to, true);
    this.lastText = text;
    this.lastFrom = from;
    this.lastTo = to;
    // a copy of the values: the caller owns the ones it gets (a new young object per line costs
    // less than refilling fields of this long-lived miner: each such store pays a write barrier)
    this.lastMasked = { key: line.key, params: line.params.slice(), truncatedTokens: line.truncatedTokens, tokens: line.tokens };
    return line;
  }

  /** The masked tokens of a message (masking it again: only lines of a new shape get here). */
  private tokens(text: string, from: number, to: number): string[] {
    return maskMessage(text.slice(from, to), this.config.maxTokens).tokens;
  }

  private lookup(key: string): Cluster | undefined {
    // most lines have one of a few shapes: comparing the key with the one in its slot costs a
    // length check when they differ, and saves hashing it when they don't
    const slot = shapeSlot(key);
    if (key === this.foundKeys[slot]) {
      const found = this.foundClusters[slot]!;
      return found.alive ? found : undefined;
    }
    let c = this.shapeCache.get(key);
    if (c === undefined) {
      // the previous generation: a hit moves the shape back into the current one
      c = this.oldShapes.get(key);
      if (c === undefined) return undefined;
      if (c.alive) this.remember(key, c);
    } else {
      this.foundKeys[slot] = key;
      this.foundClusters[slot] = c;
    }
    return c.alive ? c : undefined;
  }

  /**
   * Two generations approximate an LRU at Map speed: when the current one is full it becomes the
   * previous one, so shapes in use survive and only the cold ones are forgotten.
   */
  private remember(key: string, cluster: Cluster): void {
    if (this.shapeCache.size >= this.config.shapeCacheSize / 2 || this.shapeChars + key.length > this.config.shapeCacheChars / 2) {
      this.oldShapes = this.shapeCache;
      this.shapeCache = new Map();
      this.shapeChars = 0;
      // (the keys found now sit in the old generation: a hit there must move them back)
      this.foundKeys.fill(undefined);
      this.foundClusters.fill(undefined);
    }
    // (the key is made of slices of the line: kept as is, it would keep the line)
    const owned = ownedString(key);
    this.shapeCache.set(owned, cluster);
    this.shapeChars += owned.length;
    // (its slot may hold this key with the cluster it had before)
    const slot = shapeSlot(owned);
    this.foundKeys[slot] = owned;
    this.foundClusters[slot] = cluster;
  }

  /**
   * The most similar template with as many slots, if similar enough and compatible: no position
   * may hold two different plain words. Templates whose plain word at some position differs from
   * the line's word there conflict, so only the others are compared (see Bucket); they are
   * compared in the bucket's order, so the answer is the one a scan of the whole bucket gives.
   */
  private search(slots: readonly string[]): Cluster | undefined {
    const n = slots.length;
    const b = this.buckets.get(n);
    if (!b) return undefined;
    const line: (SlotInfo | undefined)[] = new Array<SlotInfo | undefined>(n);
    const candidates = b.list.length < INDEX_MIN_TEMPLATES ? b.list : this.candidates(b, slots, line);
    let best: Cluster | undefined;
    let bestSim = -1;
    let bestExact = -1;
    outer: for (const c of candidates) {
      const info = c.info;
      let same = 0;
      let exact = 0;
      for (let i = 0; i < n; i++) {
        const t = c.slots[i]!;
        const s = slots[i]!;
        if (t === s) {
          same++;
          if (t !== WILDCARD) exact++;
          continue;
        }
        const ti = info[i]!;
        // fitsSlot(t, s)
        if (ti.fitPrefix !== undefined && s !== WILDCARD && s.length >= ti.fitPrefix.length + ti.fitSuffix.length && s.startsWith(ti.fitPrefix) && s.endsWith(ti.fitSuffix)) {
          same++;
          continue;
        }
        const si = (line[i] ??= tokenInfo(s));
        // conflicts(t, s), then sameKey(t, s)
        if (ti.key !== undefined && ti.key === si.key) {
          if (ti.keyPlain !== undefined && si.keyPlain !== undefined && ti.keyPlain !== si.keyPlain) continue outer;
          same++;
        } else if (ti.word !== undefined && si.word !== undefined && ti.word !== si.word && !(ti.unit && si.unit)) {
          // conflicts(t, s, the slot before), which both hold: a naming noun makes this a name
          if (!(i > 0 && info[i - 1]!.namesNext && c.slots[i - 1] === slots[i - 1] && !ti.verbForm && !si.verbForm)) continue outer;
        }
      }
      const sim = n === 0 ? 1 : same / n;
      if (sim > bestSim || (sim === bestSim && exact > bestExact)) {
        best = c;
        bestSim = sim;
        bestExact = exact;
      }
    }
    return best && bestSim >= this.config.similarityThreshold ? best : undefined;
  }

  /**
   * The templates of a bucket that conflict with the line at no position where the line holds a
   * word (see Bucket) and whose equal and flexible slots could reach the similarity threshold (a
   * template below it is never the answer, and never ties with one above it), in the bucket's order.
   */
  private candidates(b: Bucket, slots: readonly string[], line: (SlotInfo | undefined)[]): readonly Cluster[] {
    const n = slots.length;
    if (n === 0) return b.list;
    const count = b.list.length;
    const words = (count + 31) >>> 5;
    if (accBits.length < words) accBits = new Uint32Array(words * 2);
    if (wordBits.length < words) wordBits = new Uint32Array(words * 2);
    accBits.fill(0xffffffff, 0, words);
    for (let i = 0; i < n; i++) {
      if (b.discriminating[i] === 0) continue;
      const si = (line[i] ??= tokenInfo(slots[i]!));
      if (si.word === undefined) continue;
      wordBits.fill(0, 0, words);
      const same = b.byWord[i]!.get(si.word);
      if (Array.isArray(same)) for (const c of same) wordBits[c.index >>> 5]! |= 1 << (c.index & 31);
      else if (same !== undefined) wordBits[same.index >>> 5]! |= 1 << (same.index & 31);
      const open = b.openBits[i]!;
      for (let k = 0; k < words; k++) accBits[k]! &= (k < open.length ? open[k]! : 0) | wordBits[k]!;
    }
    // the most a template's similarity can be: its slots equal to the line's, and its flexible ones
    if (equalCounts.length < count) equalCounts = new Uint16Array(count * 2);
    equalCounts.fill(0, 0, count);
    for (let i = 0; i < n; i++) {
      const same = b.exact[i]!.get(slots[i]!);
      if (Array.isArray(same)) for (const c of same) equalCounts[c.index]!++;
      else if (same !== undefined) equalCounts[same.index]!++;
    }
    const threshold = this.config.similarityThreshold;
    const flexible = b.flexible;
    const out: Cluster[] = [];
    for (let k = 0; k < words; k++) {
      let bits = accBits[k]! | 0;
      while (bits !== 0) {
        const low = bits & -bits;
        bits ^= low;
        const index = (k << 5) + 31 - Math.clz32(low);
        if (index < count && (equalCounts[index]! + flexible[index]!) / n >= threshold) out.push(b.list[index]!);
      }
    }
    return out;
  }

  private generalise(c: Cluster, line: Slots): void {
    let changed = false;
    // the slots and their info as filed, once one changes
    let before: string[] | undefined;
    let beforeInfo: SlotInfo[] | undefined;
    for (let i = 0; i < c.slots.length; i++) {
      const t = c.slots[i]!;
      const s = line.slots[i]!;
      if (t !== s && t !== WILDCARD && !fitsSlot(t, s)) {
        before ??= c.slots.slice();
        beforeInfo ??= c.info.slice();
        c.slots[i] = ownedString(generaliseToken(t, s));
        // the template held one token here; a run of another length means the count varies
        c.runs[i] = line.runs[i] === 1 ? 1 : 0;
        changed = true;
      } else if (c.runs[i] !== line.runs[i] && c.runs[i] !== 0) {
        c.runs[i] = 0;
        changed = true;
      }
    }
    if (before !== undefined) this.refile(c, before, beforeInfo!);
    if (changed) c.text = ownedString(render(c.slots, c.runs));
  }

  private create(line: Slots): Cluster {
    if (this.byId.size >= this.config.maxTemplates) this.evict();
    const text = render(line.slots, line.runs);
    let id = templateIdFor(text);
    for (let k = 2; this.byId.has(id); k++) id = `${templateIdFor(text)}-${k}`;
    const c = newCluster(id, [...line.slots], [...line.runs], 0, this.tick, text);
    this.insert(c);
    return c;
  }

  private insert(c: Cluster): void {
    this.byId.set(c.id, c);
    let b = this.buckets.get(c.slots.length);
    if (!b) this.buckets.set(c.slots.length, (b = newBucket(c.slots.length)));
    const bucket = b;
    c.info = c.slots.map((slot, i) => infoFor(bucket, i, slot));
    addToBucket(b, c);
  }

  /**
   * Slots of `c` changed (they were `before`, with `beforeInfo`): their info, and where the index
   * files them and the slots after them (a slot is filed by the one before it too: filedWord).
   */
  private refile(c: Cluster, before: readonly string[], beforeInfo: readonly SlotInfo[]): void {
    const b = this.buckets.get(c.slots.length)!;
    const n = c.slots.length;
    const touched = (i: number): boolean => before[i] !== c.slots[i] || (i > 0 && before[i - 1] !== c.slots[i - 1]);
    for (let i = 0; i < n; i++) if (touched(i)) unfileSlot(b, c, i, before[i]!, beforeInfo[i]!, beforeInfo[i - 1]);
    for (let i = 0; i < n; i++) if (before[i] !== c.slots[i]) c.info[i] = infoFor(b, i, c.slots[i]!);
    for (let i = 0; i < n; i++) if (touched(i)) fileSlot(b, c, i);
  }

  /** Drops the least recently used tenth of the templates (one sort, amortised over many inserts). */
  private evict(): void {
    const all = [...this.byId.values()].sort((a, b) => a.lastUsed - b.lastUsed);
    const n = Math.max(1, Math.floor(this.config.maxTemplates / 10));
    const touched = new Set<number>();
    const evicted = all.slice(0, n);
    for (const c of evicted) {
      c.alive = false;
      this.byId.delete(c.id);
      touched.add(c.slots.length);
      this.limits.template_evicted++;
    }
    // the buckets that lost templates keep the rest in order, and their index is built again
    for (const len of touched) {
      const old = this.buckets.get(len)!;
      const b = newBucket(len);
      for (const c of old.list) if (c.alive) addToBucket(b, c);
      this.buckets.set(len, b);
    }
    // shape caches may still point at an evicted template until they forget the shape: what
    // search needed of it goes now (lookup answers nothing for a template that is not alive)
    for (const c of evicted) {
      c.slots = [];
      c.runs = [];
      c.info = [];
    }
  }
}
