/**
 * The services of the simulated shop and the values they talk about (users, products, addresses).
 * `--services N` keeps the first N of the catalogue (all 12 by default): the gateway, auth and orders
 * are always there.
 */
import type { LineFormat, Writer } from './format.js';
import { Rng } from './prng.js';

export interface ServiceDef {
  name: string;
  format: LineFormat;
  /** Replicas writing lines (pods or hosts). */
  replicas: number;
  /** syslog services: the program that writes. */
  program?: string;
}

export const SERVICE_CATALOGUE: readonly ServiceDef[] = [
  { name: 'api-gateway', format: 'text', replicas: 3 },
  { name: 'auth', format: 'text', replicas: 2 },
  { name: 'orders', format: 'text', replicas: 2 },
  { name: 'payments', format: 'json', replicas: 2 },
  { name: 'inventory', format: 'text', replicas: 2 },
  { name: 'notifications', format: 'json', replicas: 1 },
  { name: 'db-proxy', format: 'syslog', replicas: 2, program: 'pgbouncer' },
  { name: 'scheduler', format: 'text', replicas: 1 },
  { name: 'search', format: 'json', replicas: 2 },
  { name: 'users', format: 'text', replicas: 1 },
  { name: 'shipping', format: 'text', replicas: 1 },
  { name: 'recommendations', format: 'json', replicas: 1 },
];

export const MIN_SERVICES = 3;
export const MAX_SERVICES = SERVICE_CATALOGUE.length;
export const DEFAULT_SERVICES = SERVICE_CATALOGUE.length;

/** The writers (one per replica) of each enabled service. */
export class ServiceSet {
  readonly defs: readonly ServiceDef[];
  private readonly writers = new Map<string, Writer[]>();
  private readonly enabled: Set<string>;

  constructor(count: number, rng: Rng) {
    this.defs = SERVICE_CATALOGUE.slice(0, count);
    this.enabled = new Set(this.defs.map((d) => d.name));
    for (const d of this.defs) {
      const ws: Writer[] = [];
      const deployment = rng.hex(9);
      for (let i = 0; i < d.replicas; i++) {
        if (d.format === 'syslog') ws.push({ service: d.name, format: d.format, host: `${d.name}-${i + 1}`, program: d.program, pid: rng.int(300, 4000) });
        else ws.push({ service: d.name, format: d.format, host: `${d.name}-${deployment}-${rng.fromAlphabet('bcdfghjklmnpqrstvwxz', 1)}${rng.hex(4)}` });
      }
      this.writers.set(d.name, ws);
    }
  }

  has(service: string): boolean {
    return this.enabled.has(service);
  }

  names(): string[] {
    return this.defs.map((d) => d.name);
  }

  /** A replica of the service (which one answers is random, as behind a load balancer). */
  writer(service: string, rng: Rng): Writer {
    const ws = this.writers.get(service);
    if (!ws) throw new RangeError(`service ${service} is not enabled`);
    return ws.length === 1 ? ws[0]! : rng.pick(ws);
  }

  format(service: string): LineFormat {
    return this.writers.get(service)![0]!.format;
  }
}

const FIRST = ['maria', 'john', 'wei', 'fatima', 'lucas', 'anna', 'omar', 'sofia', 'liam', 'yuki', 'noah', 'elena', 'arjun', 'chloe', 'mateo', 'ingrid', 'kofi', 'priya', 'jonas', 'amara', 'diego', 'hana', 'ivan', 'leila', 'tomas', 'zoe', 'emeka', 'sara', 'felix', 'mei'];
const LAST = ['garcia', 'smith', 'chen', 'khan', 'silva', 'novak', 'haddad', 'rossi', 'murphy', 'tanaka', 'mueller', 'petrov', 'patel', 'dubois', 'lopez', 'berg', 'mensah', 'iyer', 'weber', 'okafor', 'torres', 'kim', 'ivanova', 'nasser', 'horvat', 'clark', 'obi', 'lindqvist', 'fischer', 'wong'];
const DOMAINS = ['example.com', 'example.org', 'mail.example.net', 'corp.example.io'];

export interface User {
  id: string;
  handle: string;
  email: string;
}

/** Users, products and addresses drawn once per corpus; traffic picks from them (some users are busier). */
export class Pools {
  readonly users: User[] = [];
  readonly skus: string[] = [];
  readonly clientIps: string[] = [];
  readonly internalIps: string[] = [];

  constructor(rng: Rng) {
    for (let i = 0; i < 1500; i++) {
      const f = rng.pick(FIRST);
      const l = rng.pick(LAST);
      this.users.push({ id: `u-${rng.digits(6)}`, handle: `${f}.${l[0]}${rng.int(1, 99)}`, email: `${f}.${l}${rng.chance(0.4) ? rng.int(1, 99) : ''}@${rng.pick(DOMAINS)}` });
    }
    for (let i = 0; i < 800; i++) this.skus.push(`SKU-${rng.digits(5)}`);
    for (let i = 0; i < 3000; i++) this.clientIps.push(`${rng.pick([23, 31, 45, 62, 77, 81, 89, 94, 103, 109, 141, 151, 176, 185, 188, 203, 212])}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`);
    for (let i = 0; i < 60; i++) this.internalIps.push(`10.0.${rng.int(0, 15)}.${rng.int(2, 254)}`);
  }

  /** A user; the first tenth of the pool makes half of the traffic. */
  user(rng: Rng): User {
    const n = this.users.length;
    return rng.chance(0.5) ? this.users[rng.int(0, Math.floor(n / 10) - 1)]! : this.users[rng.int(0, n - 1)]!;
  }

  sku(rng: Rng): string {
    return rng.pick(this.skus);
  }

  clientIp(rng: Rng): string {
    return rng.pick(this.clientIps);
  }

  internalIp(rng: Rng): string {
    return rng.pick(this.internalIps);
  }
}

/** A money amount with two decimals. */
export function amount(rng: Rng, median = 48): string {
  return Math.max(0.5, rng.logNormal(median, 0.8)).toFixed(2);
}

/** A latency in whole milliseconds (log-normal, at least 1). */
export function ms(rng: Rng, median: number, sigma = 0.5): number {
  return Math.max(1, Math.round(rng.logNormal(median, sigma)));
}
