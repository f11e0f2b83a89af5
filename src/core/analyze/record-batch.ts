/**
 * Mined records in compact batches, so `vigil analyze` can read and mine on one thread and judge on
 * another. A batch is columns: typed arrays for numbers (transferable, no copy), one array of
 * messages, and the repeated strings (file names, components, hosts, template ids and texts) as
 * indexes into tables that only grow by what is new in the batch. Structured clone of thousands of
 * small objects per batch would cost more than the detectors it moves off the thread.
 *
 * What structured clone costs is strings, so fewer cross: a message equal to its template's text
 * (a JSON line's constant `msg`) is not sent; request ids and session keys, which repeat on every
 * line of a request, are sent once per batch (`ids`) and referred to by index. The string arrays
 * are packed (filled with push): V8 clones an array with holes property by property, several
 * times slower.
 *
 * What crosses: everything the judge's detectors and statistics read from a DetectInput (seq,
 * source, timeMs, template id and text, created flag, session key) and from its record (message,
 * timestamp, level, component, host, request id); with `carryFields`, also the parameters and the
 * structured fields (attributes), for sensitive_data. What never does: pid and timestamp text.
 */
import type { DetectInput, Finding } from '../detect/detector.js';
import type { Level, LogRecord } from '../parse/record.js';
import type { RecordSink } from './analyzer.js';

const LEVELS: readonly (Level | undefined)[] = [undefined, 'trace', 'debug', 'info', 'notice', 'warn', 'error', 'fatal'];
const LEVEL_CODE: Record<Level, number> = { trace: 1, debug: 2, info: 3, notice: 4, warn: 5, error: 6, fatal: 7 };

const BINARY = 1;
const CREATED = 2;
const HAS_TIMESTAMP = 4;
const SESSION_IS_REQUEST = 8;
const HAS_SESSION = 16;
/** The message is the template's text: not in `message`. */
const MESSAGE_IS_TEMPLATE = 32;

/** Slots of the writer's table of recent request ids and session keys (a power of two). */
const ID_SLOTS = 256;

/**
 * Tables start over past these sizes (both sides at the same batch), so they stay bounded. The
 * template table also keeps the texts of templates its miner has since evicted (10,000 per source
 * by default): on a stream of one-off lines, 200,000 of them were ~80 MB on each side. Starting
 * over costs one text per template each later batch uses again.
 */
const MAX_NAMES = 100_000;
const MAX_TEMPLATES = 20_000;

export interface RecordBatch {
  /** Entries: records and binary lines, in stream order. */
  n: number;
  /** The tables start over before this batch's entries. */
  reset: boolean;
  /** Names (files, components, hosts) added to the name table, in order. */
  names: string[];
  /**
   * Template table changes, in entry order: the entry from which it holds, table index, template
   * id, text (a new template, or new text for one: the miner generalised it).
   */
  templates: (number | string)[];
  flags: Uint8Array;
  level: Uint8Array;
  seq: Float64Array;
  timestamp: Float64Array;
  timeMs: Float64Array;
  source: Int32Array;
  /** Name indexes; -1 when the record has none. */
  component: Int32Array;
  host: Int32Array;
  /** What statistics group the record by (component, thread or file). */
  group: Int32Array;
  template: Int32Array;
  /**
   * Messages of the entries, in order: the record's message (unless MESSAGE_IS_TEMPLATE), or a
   * binary line's text.
   */
  message: string[];
  /** Request ids and session keys of this batch, each once. */
  ids: string[];
  /** Index in `ids` of the record's request id, and of its session key (-1: none, or the request id). */
  requestId: Int32Array;
  sessionKey: Int32Array;
  /** Findings of the front's detectors: entry index, detector position, findings. */
  front: [number, number, Finding[]][];
  /** With carryFields: each record's parameters, all in a row, and how many each record has. */
  params?: string[];
  paramCount?: Int32Array;
  /** With carryFields: each record's attributes as key, value, …, and how many pairs (-1: none). */
  attrs?: string[];
  attrCount?: Int32Array;
}

/** The transferable buffers of a batch (for postMessage's transfer list). */
export function batchBuffers(b: RecordBatch): ArrayBuffer[] {
  const arrays = [b.flags, b.level, b.seq, b.timestamp, b.timeMs, b.source, b.component, b.host, b.group, b.template, b.requestId, b.sessionKey];
  if (b.paramCount) arrays.push(b.paramCount);
  if (b.attrCount) arrays.push(b.attrCount);
  return arrays.map((a) => a.buffer as ArrayBuffer);
}

export interface BatchWriterOptions {
  /** Entries per batch (default 8,192). */
  capacity?: number;
  /** Also carry each record's parameters and attributes (for detectors that read them in the judge). */
  carryFields?: boolean;
}

/**
 * The front's side: a RecordSink that packs records into batches of up to `capacity` entries and
 * hands each full batch to `emit` (call flush() for the last, partial one).
 */
export class BatchWriter implements RecordSink {
  private names = new Map<string, number>();
  private templateIndex = new Map<string, Map<string, number>>();
  private templateTexts: string[] = [];
  private batch: RecordBatch;
  private lastName: string | undefined;
  private lastNameIndex = -1;
  /** The source of the last record, and its index (record()'s own cache: see there). */
  private lastSource: string | undefined;
  private lastSourceIndex = -1;
  /**
   * Recent request ids and session keys and their index in the batch's `ids`, by a cheap hash of
   * their last characters (a Map would hash each new string whole). A slot holds the last id that
   * fell in it: an id that comes back after another took its slot is sent again, which costs a
   * string, never a wrong answer.
   */
  private idSlots: string[] = new Array<string>(ID_SLOTS).fill('');
  private idIndex = new Int32Array(ID_SLOTS);

  private readonly capacity: number;
  private readonly carryFields: boolean;

  constructor(
    private readonly emit: (batch: RecordBatch) => void,
    options: BatchWriterOptions = {},
  ) {
    this.capacity = options.capacity ?? 8_192;
    this.carryFields = options.carryFields ?? false;
    this.batch = this.fresh();
  }

  record(input: DetectInput, component: string, front: (Finding[] | undefined)[] | undefined): void {
    const b = this.batch;
    const i = b.n++;
    const rec = input.record;
    let flags = input.createdTemplate ? CREATED : 0;
    if (rec.timestamp !== undefined) {
      flags |= HAS_TIMESTAMP;
      b.timestamp[i] = rec.timestamp;
    }
    const key = input.sessionKey;
    if (key !== undefined) {
      flags |= HAS_SESSION;
      if (key === rec.requestId) flags |= SESSION_IS_REQUEST;
      else b.sessionKey[i] = this.id(key);
    }
    b.level[i] = rec.level === undefined ? 0 : LEVEL_CODE[rec.level];
    b.seq[i] = input.seq;
    b.timeMs[i] = input.timeMs;
    const comp = rec.component === undefined ? -1 : this.name(rec.component);
    // the file comes with every record (the same string): one comparison, and name()'s one-entry
    // cache stays for the component and group, which change from line to line
    if (input.source !== this.lastSource) {
      this.lastSource = input.source;
      this.lastSourceIndex = this.name(input.source);
    }
    b.source[i] = this.lastSourceIndex;
    b.component[i] = comp;
    b.host[i] = rec.host === undefined ? -1 : this.name(rec.host);
    // statistics group by the component when there is one: the same string, no second lookup
    b.group[i] = component === rec.component ? comp : this.name(component);
    b.template[i] = this.template(i, input.source, input.templateId, input.template);
    // (a different message mostly differs in length: one comparison)
    if (rec.message === input.template) flags |= MESSAGE_IS_TEMPLATE;
    else b.message.push(rec.message);
    b.flags[i] = flags;
    if (rec.requestId !== undefined) b.requestId[i] = this.id(rec.requestId);
    if (this.carryFields) {
      const params = input.params;
      for (let k = 0; k < params.length; k++) b.params!.push(params[k]!);
      b.paramCount![i] = params.length;
      const attrs = rec.attributes;
      if (attrs === undefined) b.attrCount![i] = -1;
      else {
        let pairs = 0;
        for (const k in attrs) {
          b.attrs!.push(k, attrs[k]!);
          pairs++;
        }
        b.attrCount![i] = pairs;
      }
    }
    if (front !== undefined) {
      for (let d = 0; d < front.length; d++) {
        const f = front[d];
        if (f !== undefined) b.front.push([i, d, f]);
      }
    }
    if (b.n === this.capacity) this.flush();
  }

  binary(file: string, text: string, lineNo: number): void {
    const b = this.batch;
    const i = b.n++;
    b.flags[i] = BINARY;
    b.seq[i] = lineNo;
    b.source[i] = this.name(file);
    b.message.push(text);
    if (b.n === this.capacity) this.flush();
  }

  /** Hands on the batch being filled, if it holds anything. */
  flush(): void {
    if (this.batch.n === 0) return;
    const full = this.batch;
    this.batch = this.fresh();
    this.idSlots.fill('');
    this.emit(full);
  }

  private fresh(): RecordBatch {
    const c = this.capacity;
    const reset = this.names.size > MAX_NAMES || this.templateTexts.length > MAX_TEMPLATES;
    if (reset) {
      this.lastName = undefined;
      this.lastSource = undefined;
      this.names.clear();
      this.templateIndex.clear();
      this.templateTexts = [];
    }
    return {
      n: 0,
      reset,
      names: objectList(),
      templates: objectList(),
      flags: new Uint8Array(c),
      level: new Uint8Array(c),
      seq: new Float64Array(c),
      timestamp: new Float64Array(c),
      timeMs: new Float64Array(c),
      source: new Int32Array(c),
      component: new Int32Array(c),
      host: new Int32Array(c),
      group: new Int32Array(c),
      template: new Int32Array(c),
      message: objectList(),
      ids: objectList(),
      requestId: new Int32Array(c).fill(-1),
      sessionKey: new Int32Array(c).fill(-1),
      front: objectList(),
      ...(this.carryFields ? { params: objectList(), paramCount: new Int32Array(c), attrs: objectList(), attrCount: new Int32Array(c) } : {}),
    };
  }

  private name(s: string): number {
    // the file name comes with every record: the same string as last time, one comparison
    if (s === this.lastName) return this.lastNameIndex;
    let i = this.names.get(s);
    if (i === undefined) {
      i = this.names.size;
      this.names.set(s, i);
      this.batch.names.push(s);
    }
    this.lastName = s;
    this.lastNameIndex = i;
    return i;
  }

  /** The index of a request id or session key in the batch's `ids`. */
  private id(s: string): number {
    const n = s.length;
    const slot = n === 0 ? 0 : (n * 31 + s.charCodeAt(n - 1) * 7 + s.charCodeAt(n >> 1)) & (ID_SLOTS - 1);
    if (this.idSlots[slot] === s && n > 0) return this.idIndex[slot]!;
    const i = this.batch.ids.length;
    this.batch.ids.push(s);
    this.idSlots[slot] = s;
    this.idIndex[slot] = i;
    return i;
  }

  private template(entry: number, source: string, id: string, text: string): number {
    let bySource = this.templateIndex.get(source);
    if (bySource === undefined) this.templateIndex.set(source, (bySource = new Map()));
    let i = bySource.get(id);
    if (i === undefined) {
      i = this.templateTexts.length;
      bySource.set(id, i);
      this.templateTexts.push(text);
      this.batch.templates.push(entry, i, id, text);
    } else if (this.templateTexts[i] !== text) {
      // the miner generalised the template: same id, new text
      this.templateTexts[i] = text;
      this.batch.templates.push(entry, i, id, text);
    }
    return i;
  }
}

/**
 * An empty array whose elements are already of the general kind, as the strings and tuples pushed
 * into a batch's lists make them: a new `[]` starts as small integers, and record()'s optimised
 * code, compiled for one kind, was thrown away and compiled again as each list changed kind on
 * its first push (three times per run). The kind only widens: what the list holds is the same.
 */
function objectList<T>(): T[] {
  const list: unknown[] = [undefined];
  list.pop();
  return list as T[];
}

const NO_PARAMS: readonly string[] = Object.freeze([]);

/**
 * The judge's side: unpacks batches, in order, into the sink (the tables live here).
 *
 * One DetectInput and one LogRecord, rewritten for each record: two objects per record were the
 * judge's largest allocation (~250 MB per 1M records). So the sink, and the detectors behind it,
 * must not keep the input, its record or the record's fields object past record(): they keep
 * strings and numbers (copied out), as every detector does (audited: see the judge's reuse test in
 * record-batch.test.ts). Parameters and attributes, when carried, are still new per record.
 */
export class BatchReader {
  private names: string[] = [];
  private templateIds: string[] = [];
  private templateTexts: string[] = [];
  // every record and input has all their fields, in one order (undefined when absent): one shape,
  // so the judge's detectors read them without megamorphic lookups
  private readonly rec: LogRecord = { message: '', timestamp: undefined, level: undefined, component: undefined, host: undefined, requestId: undefined, attributes: undefined };
  private readonly input: DetectInput = { seq: 0, source: '', record: this.rec, templateId: '', template: '', params: NO_PARAMS, createdTemplate: false, timeMs: 0, sessionKey: undefined, group: undefined };

  constructor(private readonly sink: RecordSink) {}

  read(b: RecordBatch): void {
    if (b.reset) {
      this.names = [];
      this.templateIds = [];
      this.templateTexts = [];
    }
    for (const s of b.names) this.names.push(s);
    const names = this.names;
    const updates = b.templates;
    const { params, paramCount, attrs, attrCount } = b;
    const { message, ids } = b;
    let messageAt = 0;
    let paramAt = 0;
    let attrAt = 0;
    let nextUpdate = 0;
    let next = 0;
    let front: (Finding[] | undefined)[] | undefined;
    for (let i = 0; i < b.n; i++) {
      while (nextUpdate < updates.length && updates[nextUpdate] === i) {
        const t = updates[nextUpdate + 1] as number;
        this.templateIds[t] = updates[nextUpdate + 2] as string;
        this.templateTexts[t] = updates[nextUpdate + 3] as string;
        nextUpdate += 4;
      }
      const flags = b.flags[i]!;
      if ((flags & BINARY) !== 0) {
        this.sink.binary(names[b.source[i]!]!, message[messageAt++]!, b.seq[i]!);
        continue;
      }
      const t = b.template[i]!;
      const component = b.component[i]!;
      const host = b.host[i]!;
      const requestId = b.requestId[i]!;
      const record = this.rec;
      record.message = (flags & MESSAGE_IS_TEMPLATE) !== 0 ? this.templateTexts[t]! : message[messageAt++]!;
      record.timestamp = (flags & HAS_TIMESTAMP) !== 0 ? b.timestamp[i]! : undefined;
      record.level = LEVELS[b.level[i]!];
      record.component = component >= 0 ? names[component]! : undefined;
      record.host = host >= 0 ? names[host]! : undefined;
      record.requestId = requestId >= 0 ? ids[requestId]! : undefined;
      record.attributes = undefined;
      let recordParams = NO_PARAMS;
      if (paramCount !== undefined && params !== undefined) {
        const n = paramCount[i]!;
        recordParams = params.slice(paramAt, paramAt + n);
        paramAt += n;
      }
      if (attrCount !== undefined && attrs !== undefined && attrCount[i]! >= 0) {
        // no prototype: a field named __proto__ stays a field, as in the parsed record
        const fields = Object.create(null) as Record<string, string>;
        for (let k = 0; k < attrCount[i]!; k++, attrAt += 2) fields[attrs[attrAt]!] = attrs[attrAt + 1]!;
        record.attributes = fields;
      }
      const input = this.input;
      input.seq = b.seq[i]!;
      input.source = names[b.source[i]!]!;
      input.templateId = this.templateIds[t]!;
      input.template = this.templateTexts[t]!;
      input.params = recordParams;
      input.createdTemplate = (flags & CREATED) !== 0;
      input.timeMs = b.timeMs[i]!;
      input.sessionKey = (flags & HAS_SESSION) === 0 ? undefined : (flags & SESSION_IS_REQUEST) !== 0 ? record.requestId! : ids[b.sessionKey[i]!]!;
      front = undefined;
      while (next < b.front.length && b.front[next]![0] === i) {
        const [, d, f] = b.front[next++]!;
        (front ??= [])[d] = f;
      }
      input.group = names[b.group[i]!]!;
      this.sink.record(input, input.group, front);
    }
  }
}
