/**
 * A versioned codec for the in-memory state of stateful algorithms (the detectors): it walks an
 * object graph's own fields and writes JSON-serialisable data that decodes to an equal graph.
 *
 * Why generic rather than a hand-written snapshot per detector: detectors are edited often, and a
 * hand-written snapshot silently drifts from the fields the code really uses. Walking own fields
 * captures everything the code can see, so a detector restored from a snapshot behaves exactly like
 * the one that was saved (tested for every detector by splitting a run at a snapshot).
 *
 * What is kept: plain objects and arrays (holes too), Map and Set (insertion order), typed arrays
 * and ArrayBuffer (bytes, little-endian, base64), Date, RegExp (with lastIndex), NaN, ±Infinity,
 * -0, undefined and bigint, shared references and cycles (each object is written once and referred
 * to by number), frozen objects and arrays (frozen again), instances of registered classes
 * (restored with Object.create(prototype) and their own fields, without running the constructor),
 * and registered constants (module-level objects the state points to, such as a shared frozen
 * "nothing found" result: written by name, so the restored state points to the very same object).
 * Functions, symbols, unregistered classes and objects with non-enumerable own fields are refused
 * with an error that names the path, so a new kind of state is noticed by the tests instead of
 * being lost.
 *
 * The format (`StateGraph`): `objects[i]` is `[tag, ...]`; a value is a string, a boolean, null, a
 * finite number, or a one-element array: `[i]` (a reference to `objects[i]`), `['u']` undefined,
 * `['n']` NaN, `['i']` / `['-i']` ±Infinity, `['-0']`, `['h']` (an array hole), `['b', digits]`.
 * Object tags: A array, O object, N object without prototype (FA, FO, FN: frozen), M map, S set,
 * T typed array, B ArrayBuffer, D date, R regexp, C class instance, K registered constant.
 * Objects list their field names once per shape (`shapes[k]`) and then only their values, so a
 * hundred thousand records of one kind do not repeat their keys.
 */

export const STATE_CODEC_FORMAT = 'vigil.state-graph';
export const STATE_CODEC_VERSION = 1;

/** State that cannot be written or read back. */
export class StateCodecError extends Error {
  readonly code = 'VIGIL_STATE_INVALID';
}

type Ctor = Function & { prototype: object };

/**
 * What a state may hold besides plain data, by stable names written into the snapshot: classes
 * whose instances appear in it, and constants it points to.
 */
export interface StateRegistry {
  readonly classes: Readonly<Record<string, Ctor>>;
  readonly constants?: Readonly<Record<string, object>>;
}

export interface StateGraph {
  format: typeof STATE_CODEC_FORMAT;
  version: typeof STATE_CODEC_VERSION;
  /** Field names of objects and class instances, shared by every object with the same fields. */
  shapes: string[][];
  objects: unknown[][];
  root: unknown;
}

const TYPED_ARRAYS = {
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
} as const;
type TypedArrayName = keyof typeof TYPED_ARRAYS;
type AnyTypedArray = InstanceType<(typeof TYPED_ARRAYS)[TypedArrayName]>;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ── base64 (no Buffer in src/core) ─────────────────────────────────────────────────────────────

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = (() => {
  const t = new Int16Array(128).fill(-1);
  for (let i = 0; i < B64.length; i++) t[B64.charCodeAt(i)] = i;
  return t;
})();

export function bytesToBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  const CHUNK = 3 * 4096;
  for (let start = 0; start < bytes.length; start += CHUNK) {
    const end = Math.min(bytes.length, start + CHUNK);
    let s = '';
    let i = start;
    for (; i + 2 < end; i += 3) {
      const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
      s += B64[n >>> 18]! + B64[(n >>> 12) & 63]! + B64[(n >>> 6) & 63]! + B64[n & 63]!;
    }
    if (i < end) {
      const n = (bytes[i]! << 16) | (i + 1 < end ? bytes[i + 1]! << 8 : 0);
      s += B64[n >>> 18]! + B64[(n >>> 12) & 63]! + (i + 1 < end ? B64[(n >>> 6) & 63]! : '=') + '=';
    }
    parts.push(s);
  }
  return parts.join('');
}

export function base64ToBytes(text: string): Uint8Array {
  if (text.length % 4 !== 0) throw new StateCodecError('invalid base64 (length is not a multiple of 4)');
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    const a = B64_INDEX[text.charCodeAt(i)] ?? -1;
    const b = B64_INDEX[text.charCodeAt(i + 1)] ?? -1;
    const c = text[i + 2] === '=' ? 0 : (B64_INDEX[text.charCodeAt(i + 2)] ?? -1);
    const d = text[i + 3] === '=' ? 0 : (B64_INDEX[text.charCodeAt(i + 3)] ?? -1);
    if ((a | b | c | d) < 0) throw new StateCodecError('invalid base64 character');
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    if (o < out.length) out[o++] = n >>> 16;
    if (o < out.length) out[o++] = (n >>> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}

/** The bytes of a typed array, little-endian whatever the platform. */
function typedBytes(v: AnyTypedArray): Uint8Array {
  const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (LITTLE_ENDIAN || v.BYTES_PER_ELEMENT === 1) return bytes;
  return swapped(bytes, v.BYTES_PER_ELEMENT);
}

function swapped(bytes: Uint8Array, width: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += width) for (let j = 0; j < width; j++) out[i + j] = bytes[i + width - 1 - j]!;
  return out;
}

// ── encoding ───────────────────────────────────────────────────────────────────────────────────

/** A value the codec refuses; the path to it is looked up only when this happens. */
class Refused {
  constructor(readonly what: unknown, readonly why: (path: string) => string) {}
}

/** Encodes `root` (and everything it reaches) into a JSON-serialisable graph. */
export function encodeState(root: unknown, registry: StateRegistry): StateGraph {
  const names = new Map<unknown, string>();
  for (const [name, ctor] of Object.entries(registry.classes)) names.set(ctor.prototype, name);
  const constants = new Map<unknown, string>();
  for (const [name, value] of Object.entries(registry.constants ?? {})) constants.set(value, name);
  const ids = new Map<object, number>();
  const objects: unknown[][] = [];
  const shapes: string[][] = [];
  const shapeIds = new Map<string, number>();

  const value = (v: unknown): unknown => {
    switch (typeof v) {
      case 'string':
      case 'boolean':
        return v;
      case 'number':
        if (Number.isFinite(v)) return v === 0 && 1 / v < 0 ? ['-0'] : v;
        return Number.isNaN(v) ? ['n'] : v > 0 ? ['i'] : ['-i'];
      case 'undefined':
        return ['u'];
      case 'bigint':
        return ['b', v.toString()];
      case 'object':
        return v === null ? null : [ref(v)];
      default:
        throw new Refused(v, (at) => `cannot save a ${typeof v} (at ${at})`);
    }
  };

  const fields = (o: object, out: unknown[]): void => {
    const keys = Object.keys(o);
    const sig = keys.join('\u0000');
    let shape = shapeIds.get(sig);
    if (shape === undefined) {
      shape = shapes.length;
      shapes.push(keys);
      shapeIds.set(sig, shape);
    }
    out.push(shape);
    for (const k of keys) out.push(value((o as Record<string, unknown>)[k]));
  };

  const ref = (o: object): number => {
    const known = ids.get(o);
    if (known !== undefined) return known;
    const id = objects.length;
    ids.set(o, id);
    const entry: unknown[] = [];
    objects.push(entry);
    const constant = constants.get(o);
    if (constant !== undefined) {
      entry.push('K', constant);
      return id;
    }
    const proto: unknown = Object.getPrototypeOf(o);
    if (Array.isArray(o)) {
      if (proto !== Array.prototype) throw new Refused(o, (at) => `cannot save an array subclass (at ${at})`);
      entry.push(Object.isFrozen(o) ? 'FA' : 'A');
      for (let i = 0; i < o.length; i++) entry.push(i in o ? value(o[i]) : ['h']);
    } else if (proto === Object.prototype || proto === null) {
      entry.push((Object.isFrozen(o) ? 'F' : '') + (proto === null ? 'N' : 'O'));
      fields(o, entry);
    } else if (o instanceof Map) {
      entry.push('M');
      for (const [k, v] of o) entry.push(value(k), value(v));
    } else if (o instanceof Set) {
      entry.push('S');
      for (const v of o) entry.push(value(v));
    } else if (ArrayBuffer.isView(o)) {
      const name = o.constructor.name as TypedArrayName;
      if (!Object.hasOwn(TYPED_ARRAYS, name) || TYPED_ARRAYS[name] !== o.constructor) throw new Refused(o, (at) => `cannot save a ${o.constructor.name} (at ${at})`);
      entry.push('T', name, bytesToBase64(typedBytes(o as AnyTypedArray)));
    } else if (o instanceof ArrayBuffer) {
      entry.push('B', bytesToBase64(new Uint8Array(o)));
    } else if (o instanceof Date) {
      entry.push('D', value(o.getTime()));
    } else if (o instanceof RegExp) {
      entry.push('R', o.source, o.flags, o.lastIndex);
    } else {
      const name = names.get(proto);
      const className = (o as { constructor?: { name?: string } }).constructor?.name ?? 'an object';
      if (name === undefined) throw new Refused(o, (at) => `class ${className} (at ${at}) is not registered: add it to the class registry of the state it belongs to`);
      if (Object.getOwnPropertyNames(o).length !== Object.keys(o).length || Object.getOwnPropertySymbols(o).length > 0) {
        throw new Refused(o, (at) => `${className} (at ${at}) has non-enumerable or symbol fields, which would not be saved`);
      }
      entry.push('C', name);
      fields(o, entry);
    }
    return id;
  };

  try {
    const encodedRoot = value(root);
    return { format: STATE_CODEC_FORMAT, version: STATE_CODEC_VERSION, shapes, objects, root: encodedRoot };
  } catch (err) {
    if (err instanceof Refused) throw new StateCodecError(err.why(pathTo(root, err.what)));
    throw err;
  }
}

/** Where `target` sits in the graph under `root`, for error messages (depth first, first path found). */
function pathTo(root: unknown, target: unknown): string {
  const seen = new Set<object>();
  const label = (k: unknown, i: number): string => (typeof k === 'string' ? JSON.stringify(k.length > 40 ? `${k.slice(0, 40)}…` : k) : `#${i}`);
  const walk = (v: unknown, at: string): string | undefined => {
    if (v === target) return at;
    if (v === null || typeof v !== 'object' || seen.has(v) || ArrayBuffer.isView(v)) return undefined;
    seen.add(v);
    if (v instanceof Map) {
      let i = 0;
      for (const [k, x] of v) {
        const found = walk(k, `${at}.keys()[${i}]`) ?? walk(x, `${at}.get(${label(k, i)})`);
        if (found) return found;
        i++;
      }
      return undefined;
    }
    if (v instanceof Set) {
      let i = 0;
      for (const x of v) {
        const found = walk(x, `${at}.values()[${i++}]`);
        if (found) return found;
      }
      return undefined;
    }
    for (const k of Object.keys(v)) {
      const found = walk((v as Record<string, unknown>)[k], Array.isArray(v) ? `${at}[${k}]` : /^[A-Za-z_$][\w$]*$/.test(k) ? `${at}.${k}` : `${at}[${JSON.stringify(k)}]`);
      if (found) return found;
    }
    return undefined;
  };
  return walk(root, '(root)') ?? '(somewhere)';
}

/** The own field names of each registered class's instances in a graph (first instance of each). */
export function classShapes(graph: StateGraph): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const e of graph.objects) {
    if (e[0] !== 'C' || out.has(e[1] as string)) continue;
    out.set(e[1] as string, [...(graph.shapes[e[2] as number] ?? [])]);
  }
  return out;
}

// ── decoding ───────────────────────────────────────────────────────────────────────────────────

function setField(o: object, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  else (o as Record<string, unknown>)[k] = v;
}

/** Decodes a graph written by `encodeState` with the same classes and constants registered. */
export function decodeState(data: unknown, registry: StateRegistry): unknown {
  const classes = registry.classes;
  const constants = registry.constants ?? {};
  const g = data as Partial<StateGraph> | null;
  if (!g || typeof g !== 'object' || g.format !== STATE_CODEC_FORMAT) throw new StateCodecError(`not a state graph (format ${JSON.stringify(g && typeof g === 'object' ? g.format : typeof g)})`);
  if (g.version !== STATE_CODEC_VERSION) throw new StateCodecError(`state graph version ${String(g.version)} is not supported (this build reads version ${STATE_CODEC_VERSION})`);
  if (!Array.isArray(g.objects) || !Array.isArray(g.shapes)) throw new StateCodecError('state graph without objects or shapes');
  const entries = g.objects;
  const shapes = g.shapes;
  const shells: unknown[] = new Array(entries.length);

  const bad = (i: number, why: string): never => {
    throw new StateCodecError(`state graph object ${i}: ${why}`);
  };

  // 1. every object, empty (so references and cycles resolve in step 2)
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (!Array.isArray(e)) bad(i, 'not an entry');
    switch (e![0]) {
      case 'A': case 'FA': shells[i] = []; break;
      case 'O': case 'FO': shells[i] = {}; break;
      case 'N': case 'FN': shells[i] = Object.create(null); break;
      case 'K': {
        const name = String(e![1]);
        if (!Object.hasOwn(constants, name)) bad(i, `constant ${name} is not registered in this build`);
        shells[i] = constants[name];
        break;
      }
      case 'M': shells[i] = new Map(); break;
      case 'S': shells[i] = new Set(); break;
      case 'T': {
        const ctor = TYPED_ARRAYS[e![1] as TypedArrayName];
        if (!ctor || !Object.hasOwn(TYPED_ARRAYS, e![1] as string)) bad(i, `unknown typed array ${String(e![1])}`);
        let bytes = base64ToBytes(String(e![2]));
        if (!LITTLE_ENDIAN && ctor.BYTES_PER_ELEMENT > 1) bytes = swapped(bytes, ctor.BYTES_PER_ELEMENT);
        if (bytes.length % ctor.BYTES_PER_ELEMENT !== 0) bad(i, 'typed array bytes do not fill its elements');
        // a copy into a fresh, aligned buffer
        const buf = new ArrayBuffer(bytes.length);
        new Uint8Array(buf).set(bytes);
        shells[i] = new ctor(buf);
        break;
      }
      case 'B': {
        const bytes = base64ToBytes(String(e![1]));
        const buf = new ArrayBuffer(bytes.length);
        new Uint8Array(buf).set(bytes);
        shells[i] = buf;
        break;
      }
      case 'D': shells[i] = new Date(NaN); break;
      case 'R': {
        const re = new RegExp(String(e![1]), String(e![2]));
        re.lastIndex = Number(e![3]) || 0;
        shells[i] = re;
        break;
      }
      case 'C': {
        const name = String(e![1]);
        const ctor = Object.hasOwn(classes, name) ? classes[name] : undefined;
        if (!ctor) bad(i, `class ${name} is not registered in this build`);
        shells[i] = Object.create(ctor!.prototype as object);
        break;
      }
      default:
        bad(i, `unknown tag ${JSON.stringify(e![0])}`);
    }
  }

  const value = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (!Array.isArray(v)) throw new StateCodecError('state graph value is an object (expected a tagged array)');
    const t: unknown = v[0];
    if (typeof t === 'number') {
      if (!(t >= 0 && t < shells.length)) throw new StateCodecError(`state graph reference ${t} out of range`);
      return shells[t];
    }
    switch (t) {
      case 'u': return undefined;
      case 'n': return NaN;
      case 'i': return Infinity;
      case '-i': return -Infinity;
      case '-0': return -0;
      case 'b': return BigInt(String(v[1]));
      default: throw new StateCodecError(`state graph value tag ${JSON.stringify(t)} unknown`);
    }
  };

  // 2. contents
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    const o = shells[i];
    switch (e[0]) {
      case 'A':
      case 'FA': {
        const a = o as unknown[];
        a.length = e.length - 1;
        for (let j = 1; j < e.length; j++) {
          const x = e[j];
          if (Array.isArray(x) && x[0] === 'h') continue;
          a[j - 1] = value(x);
        }
        break;
      }
      case 'O':
      case 'N':
      case 'FO':
      case 'FN':
      case 'C': {
        const at = e[0] === 'C' ? 2 : 1;
        const keys = shapes[e[at] as number];
        if (!Array.isArray(keys) || keys.length !== e.length - at - 1) bad(i, 'fields do not match their shape');
        for (let j = 0; j < keys!.length; j++) setField(o as object, String(keys![j]), value(e[at + 1 + j]));
        break;
      }
      case 'M':
        for (let j = 1; j + 1 < e.length; j += 2) (o as Map<unknown, unknown>).set(value(e[j]), value(e[j + 1]));
        break;
      case 'S':
        for (let j = 1; j < e.length; j++) (o as Set<unknown>).add(value(e[j]));
        break;
      case 'D':
        (o as Date).setTime(value(e[1]) as number);
        break;
    }
  }
  // 3. frozen ones, once filled
  for (let i = 0; i < entries.length; i++) {
    const tag = entries[i]![0];
    if (tag === 'FA' || tag === 'FO' || tag === 'FN') Object.freeze(shells[i]);
  }
  return value(g.root);
}
