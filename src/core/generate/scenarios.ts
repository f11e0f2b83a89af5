/**
 * Normal traffic of the simulated shop: request workflows that cross services under one request
 * id, ambient per-service events with steady rates, health checks, metrics and background jobs.
 * Normal traffic includes benign warnings and errors (404s, declined cards, retried timeouts that
 * then succeed, failed logins), so a level word alone never tells what is anomalous.
 */
import type { Message } from './format.js';
import type { Rng } from './prng.js';
import { amount, ms, type Pools, type User } from './services.js';

/** The values one request carries through every service it touches. */
export interface FlowCtx {
  reqId: string;
  user: User;
  clientIp: string;
  method: string;
  path: string;
  status: number;
  scope: string;
  orderId: string;
  sku: string;
  items: number;
  total: string;
  currency: string;
  psp: string;
}

/** One step of a workflow: a line one service writes, some time after the previous step. */
export interface StepDef {
  id: string;
  service: string;
  /** Other services the step talks about (it is dropped when one is not running). */
  requires?: readonly string[];
  /** Milliseconds after the previous step. */
  delay(r: Rng): number;
  render(c: FlowCtx, r: Rng, elapsedMs: number): Message;
}

const CURRENCIES = ['EUR', 'EUR', 'EUR', 'USD', 'USD', 'GBP'];
const PSPS = ['stripe', 'stripe', 'adyen'];

export const STEPS: Readonly<Record<string, StepDef>> = Object.fromEntries(([
  // api-gateway
  { id: 'gw.recv', service: 'api-gateway', delay: () => 0, render: (c) => ({ level: 'info', msg: 'request received', kv: [['method', c.method], ['path', c.path], ['client', c.clientIp]] }) },
  {
    id: 'gw.done', service: 'api-gateway', delay: (r) => r.int(1, 4),
    render: (c, _r, el) => ({ level: c.status >= 500 ? 'error' : c.status >= 400 ? 'warn' : 'info', msg: 'request completed', kv: [['method', c.method], ['path', c.path], ['status', c.status], ['duration_ms', el]] }),
  },
  { id: 'gw.slow', service: 'api-gateway', delay: (r) => r.int(1200, 4200), render: (c, _r, el) => ({ level: 'warn', msg: 'slow request', kv: [['method', c.method], ['path', c.path], ['duration_ms', el], ['threshold_ms', 1000]] }) },
  { id: 'gw.upstream_retry', service: 'api-gateway', requires: ['inventory'], delay: (r) => 3000 + r.int(0, 9), render: () => ({ level: 'error', msg: 'upstream timeout calling inventory, retrying', kv: [['attempt', '1/3'], ['timeout_ms', 3000]] }) },
  // auth
  { id: 'auth.validate', service: 'auth', delay: (r) => ms(r, 4, 0.4), render: (c) => ({ level: 'info', msg: 'token validated', kv: [['user_id', c.user.id], ['scope', c.scope]] }) },
  { id: 'auth.login_ok', service: 'auth', delay: (r) => ms(r, 70, 0.3), render: (c, r) => ({ level: 'info', msg: 'login succeeded', kv: [['user', c.user.handle], ['method', r.chance(0.8) ? 'password' : 'sso'], ['mfa', r.chance(0.35)]] }) },
  { id: 'auth.login_fail', service: 'auth', delay: (r) => ms(r, 70, 0.3), render: (c) => ({ level: 'warn', msg: 'login failed', kv: [['user', c.user.handle], ['reason', 'invalid_credentials'], ['client', c.clientIp]] }) },
  { id: 'auth.token_expired', service: 'auth', delay: (r) => ms(r, 3, 0.4), render: (c, r) => ({ level: 'warn', msg: 'access token expired', kv: [['user_id', c.user.id], ['expired_s_ago', r.int(1, 5000)]] }) },
  // orders
  { id: 'orders.create', service: 'orders', delay: (r) => ms(r, 25), render: (c) => ({ level: 'info', msg: 'order created', kv: [['order_id', c.orderId], ['user_id', c.user.id], ['items', c.items], ['total', c.total], ['currency', c.currency]] }) },
  { id: 'orders.fetch', service: 'orders', delay: (r) => ms(r, 12), render: (c, r) => ({ level: 'info', msg: 'order fetched', kv: [['order_id', c.orderId], ['state', r.pick(['processing', 'shipped', 'shipped', 'delivered'])]] }) },
  { id: 'orders.cancel', service: 'orders', delay: (r) => ms(r, 10), render: (c) => ({ level: 'info', msg: 'order cancelled', kv: [['order_id', c.orderId], ['reason', 'payment_declined']] }) },
  { id: 'orders.refund', service: 'orders', delay: (r) => ms(r, 15), render: (c) => ({ level: 'info', msg: 'refund requested', kv: [['order_id', c.orderId], ['amount', c.total], ['currency', c.currency]] }) },
  { id: 'orders.not_found', service: 'orders', delay: (r) => ms(r, 8), render: (c) => ({ level: 'warn', msg: 'order not found', kv: [['order_id', c.orderId], ['user_id', c.user.id]] }) },
  // inventory
  { id: 'inventory.reserve', service: 'inventory', delay: (r) => ms(r, 15), render: (c, r) => ({ level: 'info', msg: 'stock reserved', kv: [['order_id', c.orderId], ['skus', c.items], ['warehouse', r.pick(['eu-central-1', 'eu-central-1', 'us-east-2'])]] }) },
  { id: 'inventory.lookup', service: 'inventory', delay: (r) => ms(r, 6), render: (c, r) => ({ level: 'info', msg: 'stock checked', kv: [['sku', c.sku], ['available', r.int(0, 400)]] }) },
  { id: 'inventory.release', service: 'inventory', delay: (r) => ms(r, 9), render: (c) => ({ level: 'info', msg: 'stock released', kv: [['order_id', c.orderId], ['skus', c.items]] }) },
  { id: 'inventory.sku_missing', service: 'inventory', delay: (r) => ms(r, 5), render: (c) => ({ level: 'warn', msg: 'product not found', kv: [['sku', c.sku]] }) },
  // payments (JSON)
  {
    id: 'payments.charge', service: 'payments', delay: (r) => ms(r, 240, 0.6),
    render: (c, r) => ({ level: 'info', msg: 'charge authorized', kv: [['order_id', c.orderId], ['charge_id', `ch_${r.alnum(14)}`], ['amount', Number(c.total)], ['currency', c.currency], ['psp', c.psp], ['psp_latency_ms', ms(r, 180, 0.5)]] }),
  },
  { id: 'payments.retry', service: 'payments', delay: (r) => 2000 + r.int(0, 30), render: (c) => ({ level: 'warn', msg: 'psp timeout, retrying', kv: [['order_id', c.orderId], ['psp', c.psp], ['attempt', 1], ['timeout_ms', 2000]] }) },
  {
    id: 'payments.declined', service: 'payments', delay: (r) => ms(r, 300, 0.5),
    render: (c, r) => ({ level: 'error', msg: 'charge declined', kv: [['order_id', c.orderId], ['psp', c.psp], ['decline_code', r.pick(['card_declined', 'card_declined', 'insufficient_funds', 'expired_card'])]] }),
  },
  { id: 'payments.refund', service: 'payments', delay: (r) => ms(r, 260, 0.5), render: (c, r) => ({ level: 'info', msg: 'refund issued', kv: [['order_id', c.orderId], ['refund_id', `re_${r.alnum(14)}`], ['amount', Number(c.total)], ['psp', c.psp]] }) },
  // notifications (JSON)
  { id: 'notify.order', service: 'notifications', delay: (r) => ms(r, 8), render: (c) => ({ level: 'info', msg: 'order confirmation queued', kv: [['order_id', c.orderId], ['channel', 'email'], ['template', 'order_confirmation']] }) },
  { id: 'notify.smtp_retry', service: 'notifications', delay: (r) => ms(r, 30), render: () => ({ level: 'error', msg: 'smtp send failed, will retry', kv: [['relay', 'smtp-2.internal:587'], ['smtp_code', 421], ['retry_in_s', 30]] }) },
  { id: 'notify.refund', service: 'notifications', delay: (r) => ms(r, 8), render: (c) => ({ level: 'info', msg: 'refund receipt queued', kv: [['order_id', c.orderId], ['channel', 'email']] }) },
  { id: 'notify.profile', service: 'notifications', delay: (r) => ms(r, 8), render: (c) => ({ level: 'info', msg: 'profile change notice queued', kv: [['user_id', c.user.id], ['channel', 'email']] }) },
  // search (JSON)
  { id: 'search.query', service: 'search', delay: (r) => ms(r, 30), render: (_c, r) => ({ level: 'info', msg: 'search executed', kv: [['index', 'products'], ['hits', r.int(0, 900)], ['took_ms', ms(r, 25)], ['page', r.chance(0.8) ? 1 : r.int(2, 6)]] }) },
  { id: 'search.slow', service: 'search', delay: (r) => r.int(800, 3000), render: (_c, r) => ({ level: 'warn', msg: 'slow search', kv: [['index', 'products'], ['took_ms', r.int(800, 3000)], ['threshold_ms', 750]] }) },
  // users, shipping, recommendations
  { id: 'users.profile', service: 'users', delay: (r) => ms(r, 7), render: (c, r) => ({ level: 'info', msg: 'profile loaded', kv: [['user_id', c.user.id], ['cache_hit', r.chance(0.8)]] }) },
  { id: 'users.update', service: 'users', delay: (r) => ms(r, 18), render: (c, r) => ({ level: 'info', msg: 'profile updated', kv: [['user_id', c.user.id], ['fields', r.pick(['address', 'address', 'email', 'phone'])]] }) },
  { id: 'shipping.track', service: 'shipping', delay: (r) => ms(r, 40), render: (c, r) => ({ level: 'info', msg: 'tracking status fetched', kv: [['order_id', c.orderId], ['carrier', r.pick(['dhl', 'dhl', 'ups'])], ['tracking', `1Z${r.upperAlnum(16)}`]] }) },
  { id: 'reco.serve', service: 'recommendations', delay: (r) => ms(r, 20), render: (c, r) => ({ level: 'info', msg: 'recommendations served', kv: [['user_id', c.user.id], ['items', r.int(4, 12)], ['model', 'als-v7'], ['took_ms', ms(r, 15)]] }) },
] satisfies StepDef[]).map((s) => [s.id, s]));

export interface Variant {
  name: string;
  weight: number;
  steps: readonly string[];
  status: number;
  /** Services the variant is about (it is left out when one is not running). */
  requires?: readonly string[];
}

export interface Workflow {
  name: string;
  weight: number;
  method: string;
  scope: string;
  requires?: readonly string[];
  path(c: FlowCtx, r: Rng): string;
  variants: readonly Variant[];
}

const CHECKOUT_MAIN = ['gw.recv', 'auth.validate', 'orders.create', 'inventory.reserve', 'payments.charge', 'notify.order', 'gw.done'];

export const WORKFLOWS: readonly Workflow[] = [
  {
    name: 'checkout', weight: 14, method: 'POST', scope: 'orders:write', path: () => '/api/v1/checkout',
    variants: [
      { name: 'ok', weight: 88, status: 201, steps: CHECKOUT_MAIN },
      { name: 'psp-retry', weight: 4, status: 201, requires: ['payments'], steps: ['gw.recv', 'auth.validate', 'orders.create', 'inventory.reserve', 'payments.retry', 'payments.charge', 'notify.order', 'gw.done'] },
      { name: 'declined', weight: 5, status: 402, requires: ['payments'], steps: ['gw.recv', 'auth.validate', 'orders.create', 'inventory.reserve', 'payments.declined', 'inventory.release', 'orders.cancel', 'gw.done'] },
      { name: 'smtp-retry', weight: 3, status: 201, requires: ['notifications'], steps: ['gw.recv', 'auth.validate', 'orders.create', 'inventory.reserve', 'payments.charge', 'notify.smtp_retry', 'notify.order', 'gw.done'] },
    ],
  },
  {
    name: 'browse', weight: 30, method: 'GET', scope: 'catalog:read', requires: ['inventory'], path: (c) => `/api/v1/products/${c.sku}`,
    variants: [
      { name: 'ok', weight: 93, status: 200, steps: ['gw.recv', 'inventory.lookup', 'reco.serve', 'gw.done'] },
      { name: 'not-found', weight: 5, status: 404, steps: ['gw.recv', 'inventory.sku_missing', 'gw.done'] },
      { name: 'upstream-retry', weight: 2, status: 200, steps: ['gw.recv', 'gw.upstream_retry', 'inventory.lookup', 'reco.serve', 'gw.done'] },
    ],
  },
  {
    name: 'search', weight: 20, method: 'GET', scope: 'catalog:read', requires: ['search'], path: () => '/api/v1/search',
    variants: [
      { name: 'ok', weight: 95, status: 200, steps: ['gw.recv', 'search.query', 'gw.done'] },
      { name: 'slow', weight: 5, status: 200, steps: ['gw.recv', 'search.slow', 'gw.done'] },
    ],
  },
  {
    name: 'login', weight: 10, method: 'POST', scope: 'session', path: () => '/api/v1/login',
    variants: [
      { name: 'ok', weight: 88, status: 200, steps: ['gw.recv', 'auth.login_ok', 'users.profile', 'gw.done'] },
      { name: 'bad-password', weight: 12, status: 401, steps: ['gw.recv', 'auth.login_fail', 'gw.done'] },
    ],
  },
  {
    name: 'order-status', weight: 12, method: 'GET', scope: 'orders:read', path: (c) => `/api/v1/orders/${c.orderId}`,
    variants: [
      { name: 'ok', weight: 94, status: 200, steps: ['gw.recv', 'auth.validate', 'orders.fetch', 'shipping.track', 'gw.done'] },
      { name: 'not-found', weight: 3, status: 404, steps: ['gw.recv', 'auth.validate', 'orders.not_found', 'gw.done'] },
      { name: 'token-expired', weight: 3, status: 401, steps: ['gw.recv', 'auth.token_expired', 'gw.done'] },
    ],
  },
  {
    name: 'profile-update', weight: 5, method: 'PUT', scope: 'profile:write', requires: ['users'], path: () => '/api/v1/users/me',
    variants: [{ name: 'ok', weight: 1, status: 200, steps: ['gw.recv', 'auth.validate', 'users.update', 'notify.profile', 'gw.done'] }],
  },
  {
    name: 'refund', weight: 1.5, method: 'POST', scope: 'orders:write', requires: ['payments'], path: (c) => `/api/v1/orders/${c.orderId}/refund`,
    variants: [{ name: 'ok', weight: 1, status: 200, steps: ['gw.recv', 'auth.validate', 'orders.refund', 'payments.refund', 'notify.refund', 'gw.done'] }],
  },
];

/** Share of successful requests that log a slow-request warning before completing. */
export const SLOW_SHARE = 0.03;

/** A workflow with only the steps and variants of the running services. */
export interface ActiveWorkflow {
  def: Workflow;
  variants: Variant[];
  weights: number[];
}

/** The workflows that make sense with the running services, steps of absent services left out. */
export function activeWorkflows(has: (service: string) => boolean): ActiveWorkflow[] {
  const out: ActiveWorkflow[] = [];
  for (const w of WORKFLOWS) {
    if (w.requires && !w.requires.every(has)) continue;
    const variants: Variant[] = [];
    for (const v of w.variants) {
      if (v.requires && !v.requires.every(has)) continue;
      const steps = v.steps.filter((id) => {
        const s = STEPS[id]!;
        return has(s.service) && (!s.requires || s.requires.every(has));
      });
      if (steps.length >= 3) variants.push({ ...v, steps });
    }
    if (variants.length > 0) out.push({ def: w, variants, weights: variants.map((v) => v.weight) });
  }
  return out;
}

/** Every step-to-step transition of normal sessions (`a>b`), slow warnings included. */
export function normalTransitions(workflows: readonly ActiveWorkflow[]): Set<string> {
  const out = new Set<string>();
  const add = (steps: readonly string[]): void => {
    for (let i = 1; i < steps.length; i++) out.add(`${steps[i - 1]}>${steps[i]}`);
  };
  for (const w of workflows) {
    for (const v of w.variants) {
      add(v.steps);
      if (v.status < 400) add(withSlowWarning(v.steps));
    }
  }
  return out;
}

/** The steps with a slow-request warning before the response. */
export function withSlowWarning(steps: readonly string[]): string[] {
  return [...steps.slice(0, -1), 'gw.slow', steps[steps.length - 1]!];
}

/** Fresh request values. */
export function newFlowCtx(w: Workflow, status: number, pools: Pools, r: Rng): FlowCtx {
  const items = r.chance(0.6) ? 1 : r.int(2, 5);
  const c: FlowCtx = {
    reqId: `req-${r.hex(12)}`,
    user: pools.user(r),
    clientIp: pools.clientIp(r),
    method: w.method,
    path: '',
    status,
    scope: w.scope,
    orderId: `ord-${r.digits(7)}`,
    sku: pools.sku(r),
    items,
    total: amount(r, 30 * items),
    currency: r.pick(CURRENCIES),
    psp: r.pick(PSPS),
  };
  c.path = w.path(c, r);
  return c;
}

/** An event a service logs on its own at a steady rate (per second, at traffic factor 1). */
export interface AmbientDef {
  id: string;
  service: string;
  rate: number;
  /** Follows the traffic curve (user-driven) rather than a flat rate (system-driven). */
  diurnal: boolean;
  /** Can be the subject of an injected spike. */
  spikeable: boolean;
  render(r: Rng, p: Pools): Message;
}

const conn = (r: Rng, p: Pools): string => `C-0x${r.hex(12)}: shop/app_rw@${p.internalIp(r)}:${r.int(32768, 60999)}`;

export const AMBIENT: readonly AmbientDef[] = [
  { id: 'auth.refresh', service: 'auth', rate: 0.9, diurnal: true, spikeable: true, render: (r, p) => ({ level: 'info', msg: 'access token refreshed', kv: [['user_id', p.user(r).id], ['client', r.pick(['web', 'web', 'ios', 'android'])], ['ttl_s', 3600]] }) },
  { id: 'auth.reset', service: 'auth', rate: 0.03, diurnal: true, spikeable: true, render: (r, p) => ({ level: 'info', msg: 'password reset email requested', kv: [['email', p.user(r).email], ['client', p.clientIp(r)]] }) },
  { id: 'orders.cart', service: 'orders', rate: 1.1, diurnal: true, spikeable: true, render: (r, p) => ({ level: 'info', msg: 'cart updated', kv: [['cart_id', `c-${r.hex(10)}`], ['user_id', p.user(r).id], ['items', r.int(1, 9)]] }) },
  { id: 'orders.lock', service: 'orders', rate: 0.04, diurnal: true, spikeable: true, render: (r) => ({ level: 'warn', msg: 'optimistic lock conflict, retrying', kv: [['order_id', `ord-${r.digits(7)}`], ['attempt', 1]] }) },
  { id: 'gw.ratelimit', service: 'api-gateway', rate: 0.05, diurnal: true, spikeable: true, render: (r, p) => ({ level: 'warn', msg: 'rate limit exceeded', kv: [['client', p.clientIp(r)], ['route', '/api/v1/search'], ['limit', '100/min']] }) },
  { id: 'gw.reset', service: 'api-gateway', rate: 0.05, diurnal: true, spikeable: true, render: (r) => ({ level: 'error', msg: 'upstream connection reset, request retried', kv: [['upstream', r.pick(['orders', 'inventory', 'auth'])], ['attempt', 2], ['outcome', 'ok']] }) },
  { id: 'gw.tls', service: 'api-gateway', rate: 0.02, diurnal: false, spikeable: true, render: (r, p) => ({ level: 'warn', msg: 'TLS handshake failed', kv: [['client', p.clientIp(r)], ['reason', r.chance(0.7) ? 'unknown_ca' : 'protocol_version']] }) },
  { id: 'inventory.sync', service: 'inventory', rate: 0.35, diurnal: false, spikeable: true, render: (r, p) => ({ level: 'info', msg: 'stock level synced', kv: [['sku', p.sku(r)], ['warehouse', r.chance(0.7) ? 'eu-central-1' : 'us-east-2'], ['qty', r.int(0, 2500)]] }) },
  { id: 'inventory.kafka', service: 'inventory', rate: 0.008, diurnal: false, spikeable: false, render: (r) => ({ level: 'error', msg: 'failed to publish stock event, will retry', kv: [['topic', 'stock-events'], ['partition', r.int(0, 11)], ['error', 'NOT_LEADER_FOR_PARTITION']] }) },
  { id: 'payments.webhook', service: 'payments', rate: 0.3, diurnal: true, spikeable: true, render: (r) => ({ level: 'info', msg: 'psp webhook received', kv: [['psp', r.pick(PSPS)], ['event', r.chance(0.85) ? 'charge.succeeded' : 'payout.paid'], ['event_id', `evt_${r.alnum(16)}`], ['latency_ms', ms(r, 12)]] }) },
  { id: 'notify.push', service: 'notifications', rate: 0.6, diurnal: true, spikeable: true, render: (r) => ({ level: 'info', msg: 'push notification delivered', kv: [['device', r.chance(0.55) ? 'ios' : 'android'], ['latency_ms', ms(r, 90)]] }) },
  { id: 'notify.bounce', service: 'notifications', rate: 0.08, diurnal: true, spikeable: true, render: (r) => ({ level: 'warn', msg: 'email bounced', kv: [['reason', r.chance(0.7) ? 'mailbox_full' : 'unknown_recipient'], ['message_id', `msg-${r.hex(12)}`]] }) },
  { id: 'db.login', service: 'db-proxy', rate: 0.8, diurnal: true, spikeable: true, render: (r, p) => ({ level: 'info', msg: `${conn(r, p)} login attempt: db=shop user=app_rw tls=TLSv1.3/TLS_AES_256_GCM_SHA384` }) },
  { id: 'db.close', service: 'db-proxy', rate: 0.8, diurnal: true, spikeable: true, render: (r, p) => ({ level: 'info', msg: `${conn(r, p)} closing because: client close request (age=${r.int(1, 900)}s)` }) },
  { id: 'db.wait', service: 'db-proxy', rate: 0.02, diurnal: true, spikeable: true, render: (r, p) => ({ level: 'warn', msg: `${conn(r, p)} pooler error: query_wait_timeout` }) },
  { id: 'search.autocomplete', service: 'search', rate: 1.0, diurnal: true, spikeable: true, render: (r) => ({ level: 'info', msg: 'autocomplete served', kv: [['prefix_len', r.int(1, 12)], ['suggestions', r.int(0, 10)], ['took_ms', ms(r, 4)]] }) },
  { id: 'search.partial', service: 'search', rate: 0.03, diurnal: true, spikeable: true, render: (r) => ({ level: 'warn', msg: 'query returned partial results', kv: [['index', 'products'], ['shards_ok', `${r.int(3, 4)}/5`], ['took_ms', ms(r, 600)]] }) },
  { id: 'users.session', service: 'users', rate: 0.3, diurnal: true, spikeable: true, render: (r, p) => ({ level: 'info', msg: 'session started', kv: [['user_id', p.user(r).id], ['device', r.pick(['desktop', 'mobile', 'mobile', 'tablet'])]] }) },
  { id: 'shipping.label', service: 'shipping', rate: 0.12, diurnal: false, spikeable: true, render: (r) => ({ level: 'info', msg: 'shipping label created', kv: [['shipment_id', `shp-${r.digits(8)}`], ['weight_g', r.int(80, 12000)], ['carrier', r.chance(0.7) ? 'dhl' : 'ups']] }) },
  { id: 'reco.cache', service: 'recommendations', rate: 0.05, diurnal: false, spikeable: true, render: (r) => ({ level: 'info', msg: 'embedding cache refreshed', kv: [['entries', r.int(20000, 90000)], ['took_ms', ms(r, 300)]] }) },
  { id: 'scheduler.lease', service: 'scheduler', rate: 0.066, diurnal: false, spikeable: true, render: () => ({ level: 'debug', msg: 'leader lease renewed', kv: [['lease', 'scheduler-leader'], ['ttl_s', 15]] }) },
];

/** Health-check probes (every HEALTH_EVERY_MS) and runtime metrics (every METRICS_EVERY_MS) of each service. */
export const HEALTH_EVERY_MS = 15_000;
export const METRICS_EVERY_MS = 60_000;

const HEALTH_CHECKS: Record<string, string> = {
  'api-gateway': 'upstreams', auth: 'db,cache', orders: 'db,queue', payments: 'db,psp', inventory: 'db,cache',
  notifications: 'queue,smtp', scheduler: 'db,lock', search: 'cluster', users: 'db,cache', shipping: 'db', recommendations: 'model,cache',
};

export function healthMessage(service: string, r: Rng): Message {
  return { level: 'debug', msg: 'health check ok', kv: [['checks', HEALTH_CHECKS[service] ?? 'db'], ['latency_ms', ms(r, 2, 0.6)]] };
}

/** Runtime metrics; `load` is the traffic factor, `base` the service's usual request rate. */
export function metricsMessage(service: string, syslog: boolean, load: number, r: Rng): Message {
  if (syslog) {
    const xacts = Math.round(40 * load * r.float(0.85, 1.15));
    const queries = Math.round(xacts * r.float(2.6, 3.4));
    return { level: 'info', msg: `stats: ${xacts} xacts/s, ${queries} queries/s, in ${queries * r.int(150, 220)} B/s, out ${queries * r.int(700, 1100)} B/s, xact ${ms(r, 1400, 0.3)} us, query ${ms(r, 320, 0.3)} us, wait ${ms(r, 12, 0.6)} us` };
  }
  const rps = (service === 'api-gateway' ? 4.5 : 1.2) * load * r.float(0.85, 1.15);
  return {
    level: 'info', msg: 'runtime metrics',
    kv: [['rps', Number(rps.toFixed(1))], ['p50_ms', ms(r, 18, 0.2)], ['p99_ms', ms(r, 240, 0.3)], ['heap_mb', r.int(180, 420)], ['gc_pause_ms', ms(r, 4, 0.6)], ['open_conns', r.int(8, 64)]],
  };
}

/** One line of a background job run, logged by `service` `delay` ms after the previous one. */
export interface JobStep {
  service: string;
  delay(r: Rng): number;
  render(r: Rng, day: string): Message;
}

export interface JobDef {
  name: string;
  everyMs: number;
  requires: readonly string[];
  /** Expected duration; a run over it logs a warning. */
  expectedMs: number;
  steps(r: Rng): JobStep[];
}

export const JOBS: readonly JobDef[] = [
  {
    name: 'session-cleanup', everyMs: 300_000, requires: ['scheduler', 'auth'], expectedMs: 5_000,
    steps: () => [{ service: 'auth', delay: (r) => ms(r, 900), render: (r) => ({ level: 'info', msg: 'expired sessions purged', kv: [['deleted', r.int(40, 2600)], ['took_ms', ms(r, 700)]] }) }],
  },
  {
    name: 'cache-warmup', everyMs: 600_000, requires: ['scheduler', 'inventory'], expectedMs: 10_000,
    steps: () => [{ service: 'inventory', delay: (r) => ms(r, 2500), render: (r) => ({ level: 'info', msg: 'cache warmed', kv: [['entries', r.int(5000, 30000)], ['took_ms', ms(r, 2400)]] }) }],
  },
  {
    name: 'report-export', everyMs: 900_000, requires: ['scheduler', 'orders'], expectedMs: 20_000,
    steps: () => [{ service: 'orders', delay: (r) => ms(r, 6000), render: (r, day) => ({ level: 'info', msg: 'order report exported', kv: [['rows', r.int(2000, 90000)], ['file', `/exports/orders-${day}.csv`]] }) }],
  },
  {
    name: 'search-reindex', everyMs: 1_800_000, requires: ['scheduler', 'search'], expectedMs: 30_000,
    steps: (r) => {
      const n = r.int(3, 6);
      return Array.from({ length: n }, (_, i) => ({ service: 'search', delay: (q: Rng) => ms(q, 2500), render: (q: Rng) => ({ level: 'info' as const, msg: 'reindex batch done', kv: [['index', 'products'], ['batch', `${i + 1}/${n}`], ['docs', q.int(900, 1000)]] as const }) }));
    },
  },
  {
    name: 'db-backup', everyMs: 3_600_000, requires: ['scheduler'], expectedMs: 60_000,
    steps: () => [{ service: 'scheduler', delay: (r) => ms(r, 25000, 0.3), render: (r, day) => ({ level: 'info', msg: 'backup uploaded', kv: [['target', `s3://shop-backups/db/${day}.dump`], ['bytes', r.int(800_000_000, 2_000_000_000)]] }) }],
  },
];

export function jobStarted(name: string, runId: string): Message {
  return { level: 'info', msg: 'job started', kv: [['job', name], ['run_id', runId]] };
}

export function jobFinished(name: string, runId: string, durationMs: number, expectedMs: number): Message {
  if (durationMs > expectedMs) return { level: 'warn', msg: 'job exceeded its expected duration', kv: [['job', name], ['run_id', runId], ['duration_ms', durationMs], ['expected_ms', expectedMs]] };
  return { level: 'info', msg: 'job finished', kv: [['job', name], ['run_id', runId], ['duration_ms', durationMs], ['status', 'success']] };
}
