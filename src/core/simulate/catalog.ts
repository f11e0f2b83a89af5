/**
 * What the built-in log simulator writes: the normal traffic of a small online shop (about 70% of
 * lines), 33 kinds of production errors (about 20%) and slow-request warnings (about 10%).
 *
 * 27 error kinds are *known*: runbooks are written against KNOWN_ERROR_KINDS, each of which lists
 * the `patterns` its lines always carry. 6 kinds are *unknown* on purpose (no runbook will match
 * them, so they exercise the LLM / heuristic analysis path).
 *
 * Contract with runbook authors (enforced by catalog.test.ts): every message of an error kind
 * contains each of its patterns (case-insensitively), and no line of any other kind, info or warning
 * contains any of them. A runbook whose patterns are a kind's patterns therefore matches exactly
 * that kind, and the unknown kinds match no runbook written this way.
 *
 * Values are realistic but safe: IPs from the documentation ranges (RFC 5737) or 10/8, hosts under
 * `.internal` or `example.com`, no e-mail addresses, card numbers, tokens or passwords, so no
 * simulated line trips the sensitive-data detector.
 */
import type { Rng } from '../generate/prng.js';

export type EventClass = 'info' | 'error' | 'warn';

export type ErrorCategory = 'database' | 'auth' | 'payment' | 'security' | 'infrastructure' | 'application' | 'data_integration';

export const ERROR_CATEGORIES: readonly ErrorCategory[] = ['database', 'auth', 'payment', 'security', 'infrastructure', 'application', 'data_integration'];

/** Level words as they are written in a line. */
export type SimLevel = 'INFO' | 'WARN' | 'ERROR' | 'CRITICAL';

/** The target share of each class of line over a run. */
export const CLASS_MIX: Readonly<Record<EventClass, number>> = Object.freeze({ info: 0.7, error: 0.2, warn: 0.1 });

export type FieldValue = string | number | boolean;

/** A message and its trailing `key=value` fields (request_id is added by the simulator). */
export interface Rendered {
  message: string;
  fields: ReadonlyArray<readonly [string, FieldValue]>;
}

/**
 * What a variant draws its values from. `pin` keeps a value for the whole burst (the same attacker
 * IP, database host or pod across an incident's lines); outside a burst it simply makes the value.
 */
export interface RenderContext {
  rng: Rng;
  /** The line's time (epoch ms), for values such as expiry times. */
  now: number;
  pin<T>(key: string, make: () => T): T;
}

export type Variant = (c: RenderContext) => Rendered;

export interface ErrorKind {
  /** Stable id (snake_case); runbooks and tests refer to it. Never rename. */
  id: string;
  title: string;
  category: ErrorCategory;
  /** True for the 27 kinds runbooks know, false for the 6 left to the LLM / heuristic path. */
  known: boolean;
  service: string;
  level: 'ERROR' | 'CRITICAL';
  /** Phrases every message of this kind contains and no other line does (case-insensitive). */
  patterns: readonly string[];
  /** How many lines one burst (incident) of this kind has: [min, max]. */
  burst: readonly [number, number];
  /** Message shapes; one burst keeps one variant (the same code path logs the same line). */
  variants: readonly Variant[];
}

/** A kind of normal line (info) or slow-request warning. */
export interface TrafficKind {
  id: string;
  cls: 'info' | 'warn';
  level: 'INFO' | 'WARN';
  /** Relative frequency within its class. */
  weight: number;
  services: readonly string[];
  variants: readonly Variant[];
}

// ---------------------------------------------------------------------------------------------
// values

/** Kubernetes-style suffix characters: no vowels, and none of the letters of short patterns. */
const POD_ALPHABET = 'bcdfghjkmnpqrtvwz2456789';
const DOC_NETS = ['203.0.113', '198.51.100', '192.0.2'];
const USERNAMES = ['a.kowalski', 'j.nguyen', 'm.garcia', 's.patel', 'l.moreau', 'k.tanaka', 'd.okafor', 'e.larsen', 'r.silva', 'n.ivanova', 't.becker', 'h.kim'];
const PROVIDERS = ['stripe', 'stripe', 'adyen', 'braintree'];
const CURRENCIES = ['EUR', 'EUR', 'USD', 'USD', 'GBP'];
const REGIONS = ['eu-west-1', 'eu-central-1', 'us-east-1'];

const internalIp = (r: Rng): string => `10.${r.int(0, 3)}.${r.int(0, 255)}.${r.int(2, 254)}`;
const externalIp = (r: Rng): string => `${r.pick(DOC_NETS)}.${r.int(2, 254)}`;
const userId = (r: Rng): string => `usr_${r.digits(6)}`;
const orderId = (r: Rng): string => `ord_${r.digits(8)}`;
const paymentId = (r: Rng): string => `pay_${r.digits(8)}`;
const sku = (r: Rng): string => `SKU-${r.digits(5)}`;
const amount = (r: Rng): string => (Math.round(r.logNormal(48, 0.8) * 100) / 100).toFixed(2);
const podName = (r: Rng, deployment: string): string => `${deployment}-${r.fromAlphabet(POD_ALPHABET, 10)}-${r.fromAlphabet(POD_ALPHABET, 5)}`;
const node = (r: Rng): string => `ip-10-0-${r.int(1, 9)}-${r.int(10, 250)}.${r.pick(REGIONS)}.compute.internal`;
const pgHost = (r: Rng): string => r.pick(['pg-primary-01', 'pg-primary-02']) + '.prod.internal';
const replicaHost = (r: Rng): string => `pg-replica-0${r.int(1, 4)}.prod.internal`;
const iso = (ms: number): string => new Date(ms).toISOString();
/** A whole second some time before `now` (an expiry that has passed). */
const secondsBefore = (now: number, s: number): string => iso(Math.floor(now / 1000 - s) * 1000);

const API_PATHS = [
  ['GET', '/api/v1/products'], ['GET', '/api/v1/products/{id}'], ['GET', '/api/v1/cart'], ['POST', '/api/v1/cart/items'],
  ['POST', '/api/v1/checkout'], ['GET', '/api/v1/orders'], ['GET', '/api/v1/orders/{id}'], ['GET', '/api/v1/search'],
  ['POST', '/api/v1/auth/login'], ['GET', '/api/v1/users/me'], ['PUT', '/api/v1/users/me/address'], ['GET', '/api/v1/recommendations'],
] as const;

function apiCall(r: Rng): { method: string; path: string } {
  const [method, path] = r.pick(API_PATHS);
  return { method, path: path.replace('{id}', r.digits(5)) };
}

// ---------------------------------------------------------------------------------------------
// the 27 known error kinds

const DEFAULT_BURST: readonly [number, number] = [3, 8];

const KNOWN: readonly ErrorKind[] = [
  // database
  {
    id: 'db_connection_pool_exhausted', title: 'Database connection pool exhausted', category: 'database', known: true,
    service: 'order-service', level: 'ERROR', patterns: ['connection pool exhausted'], burst: [4, 10],
    variants: [
      ({ rng: r, pin }) => ({ message: 'Database connection pool exhausted: timed out waiting for a free connection', fields: [['pool', 'orders-primary'], ['active', 50], ['idle', 0], ['waiting', r.int(12, 140)], ['wait_ms', r.int(5000, 30000)], ['host', pin('db', () => pgHost(r))]] }),
      ({ rng: r }) => ({ message: `HikariPool-1 - connection pool exhausted, request timed out after ${r.pick([10000, 30000])}ms`, fields: [['total', 40], ['active', 40], ['waiting', r.int(20, 90)]] }),
      ({ rng: r, pin }) => ({ message: 'Cannot acquire DB connection: connection pool exhausted', fields: [['max_size', 50], ['in_use', 50], ['queue', r.int(5, 60)], ['db', pin('db', () => pgHost(r))]] }),
    ],
  },
  {
    id: 'db_deadlock_detected', title: 'Database deadlock detected', category: 'database', known: true,
    service: 'inventory-service', level: 'ERROR', patterns: ['deadlock detected'], burst: DEFAULT_BURST,
    variants: [
      ({ rng: r }) => ({ message: `deadlock detected: process ${r.int(20000, 65000)} waits for ShareLock on transaction ${r.digits(7)}; blocked by process ${r.int(20000, 65000)}`, fields: [['table', 'inventory_items'], ['sqlstate', '40P01']] }),
      ({ rng: r }) => ({ message: `Transaction rolled back: deadlock detected while reserving stock, retry ${r.int(1, 3)}/3`, fields: [['sku', sku(r)], ['order_id', orderId(r)]] }),
      ({ rng: r, pin }) => ({ message: 'Deadlock detected on UPDATE stock_levels, transaction aborted', fields: [['warehouse', pin('wh', () => r.pick(['AMS-1', 'FRA-2', 'DUB-1']))], ['lock', 'RowExclusiveLock'], ['duration_ms', r.int(900, 4200)]] }),
    ],
  },
  {
    id: 'db_replication_lag', title: 'Database replication lag', category: 'database', known: true,
    service: 'reporting-service', level: 'ERROR', patterns: ['replication lag'], burst: [3, 6],
    variants: [
      ({ rng: r, pin }) => ({ message: `Replica ${pin('replica', () => replicaHost(r))} replication lag ${r.float(12, 95).toFixed(1)}s exceeds threshold 10s`, fields: [['primary', 'pg-primary-01.prod.internal'], ['wal_behind_mb', r.int(80, 2400)]] }),
      ({ rng: r, pin }) => ({ message: 'Routing reads to primary: replication lag too high', fields: [['replica', pin('replica', () => replicaHost(r))], ['lag_s', r.int(15, 120)], ['max_lag_s', 10]] }),
      ({ rng: r, pin }) => ({ message: `Stale read detected, replication lag of ${r.int(11, 90)}s on read replica`, fields: [['replica', pin('replica', () => replicaHost(r))], ['report', r.pick(['daily_revenue', 'stock_summary', 'open_orders'])]] }),
    ],
  },
  {
    id: 'db_query_timeout', title: 'Database query timeout', category: 'database', known: true,
    service: 'user-service', level: 'ERROR', patterns: ['query timeout'], burst: DEFAULT_BURST,
    variants: [
      ({ rng: r }) => ({ message: `Query timeout after ${r.pick([5000, 10000, 30000])}ms, canceling statement`, fields: [['query', r.pick(['get_order_history', 'list_addresses', 'find_user_by_handle'])], ['db', 'users'], ['rows_scanned', r.int(100000, 9000000)]] }),
      ({ rng: r, pin }) => ({ message: 'DB query timeout: statement exceeded statement_timeout', fields: [['statement_timeout_ms', 10000], ['host', pin('db', () => pgHost(r))], ['user_id', userId(r)]] }),
      ({ rng: r }) => ({ message: `QueryTimeoutException: query timeout (${r.int(10, 30)}s) while loading user profile`, fields: [['user_id', userId(r)], ['attempt', `${r.int(1, 3)}/3`]] }),
    ],
  },
  // auth
  {
    id: 'auth_token_expired', title: 'Access token expired', category: 'auth', known: true,
    service: 'auth-service', level: 'ERROR', patterns: ['token expired'], burst: [4, 10],
    variants: [
      ({ rng: r }) => ({ message: `Access token expired ${r.int(1, 7200)}s ago, request rejected`, fields: [['user_id', userId(r)], ['client', r.pick(['web', 'ios', 'android'])], ['status', 401]] }),
      ({ rng: r, now }) => ({ message: 'Refresh failed: refresh token expired, session terminated', fields: [['user_id', userId(r)], ['session_id', `sess_${r.hex(12)}`], ['expired_at', secondsBefore(now, r.int(60, 86400))]] }),
      ({ rng: r }) => ({ message: 'Session validation failed: token expired', fields: [['user_id', userId(r)], ['issued_s_ago', r.int(3600, 90000)], ['ttl_s', 3600]] }),
    ],
  },
  {
    id: 'auth_jwt_signature_invalid', title: 'JWT signature invalid', category: 'auth', known: true,
    service: 'auth-service', level: 'ERROR', patterns: ['JWT signature'], burst: DEFAULT_BURST,
    variants: [
      ({ rng: r, pin }) => ({ message: 'JWT signature verification failed: signature does not match', fields: [['alg', 'RS256'], ['kid', pin('kid', () => `key-${r.hex(8)}`)], ['client_ip', pin('ip', () => externalIp(r))]] }),
      ({ rng: r, pin }) => ({ message: 'Rejected request: invalid JWT signature', fields: [['issuer', pin('iss', () => r.pick(['https://id.example.com', 'https://login.partner.example.com']))], ['path', apiCall(r).path], ['status', 401]] }),
      ({ rng: r, pin }) => ({ message: 'JWT signature invalid: unknown signing key', fields: [['kid', pin('kid', () => `key-${r.hex(8)}`)], ['jwks_age_s', r.int(30, 86400)], ['client_ip', pin('ip', () => externalIp(r))]] }),
    ],
  },
  {
    id: 'auth_account_locked', title: 'Account locked', category: 'auth', known: true,
    service: 'auth-service', level: 'ERROR', patterns: ['account locked'], burst: [2, 5],
    variants: [
      ({ rng: r, pin }) => ({ message: `Account locked after ${r.int(5, 10)} failed login attempts`, fields: [['user', pin('user', () => r.pick(USERNAMES))], ['lockout_minutes', 30], ['client_ip', pin('ip', () => externalIp(r))]] }),
      ({ rng: r, pin, now }) => ({ message: 'Login rejected: account locked', fields: [['user', pin('user', () => r.pick(USERNAMES))], ['locked_until', pin('until', () => secondsBefore(now, -1800))], ['status', 423]] }),
      ({ rng: r, pin }) => ({ message: 'Account locked by security policy', fields: [['user_id', pin('uid', () => userId(r))], ['policy', r.pick(['max_failed_logins', 'impossible_travel'])]] }),
    ],
  },
  // payment
  {
    id: 'payment_card_declined', title: 'Card declined', category: 'payment', known: true,
    service: 'payment-service', level: 'ERROR', patterns: ['card declined'], burst: [4, 10],
    variants: [
      ({ rng: r }) => ({ message: `Card declined: ${r.pick(['insufficient_funds', 'do_not_honor', 'expired_card', 'incorrect_cvc'])}`, fields: [['order_id', orderId(r)], ['amount', amount(r)], ['currency', r.pick(CURRENCIES)], ['provider', 'stripe']] }),
      ({ rng: r }) => ({ message: 'Payment failed - card declined by issuer', fields: [['payment_id', paymentId(r)], ['decline_code', r.pick(['generic_decline', 'do_not_honor', 'lost_card'])], ['card_brand', r.pick(['visa', 'mastercard', 'amex'])], ['card_last4', r.digits(4)]] }),
      ({ rng: r }) => ({ message: 'Charge not captured: card declined (3-D Secure authentication failed)', fields: [['order_id', orderId(r)], ['provider', 'adyen'], ['refusal_reason', r.pick(['Refused', '3D Not Authenticated'])]] }),
    ],
  },
  {
    id: 'payment_gateway_timeout', title: 'Payment gateway timeout', category: 'payment', known: true,
    service: 'payment-service', level: 'ERROR', patterns: ['payment gateway timeout'], burst: [4, 10],
    variants: [
      ({ rng: r, pin }) => ({ message: `Payment gateway timeout after ${r.pick([15000, 30000])}ms`, fields: [['provider', pin('psp', () => r.pick(PROVIDERS))], ['order_id', orderId(r)], ['endpoint', '/v1/payment_intents']] }),
      ({ rng: r, pin }) => ({ message: `Charge aborted: payment gateway timeout (attempt ${r.int(1, 3)}/3)`, fields: [['provider', pin('psp', () => r.pick(PROVIDERS))], ['payment_id', paymentId(r)], ['amount', amount(r)]] }),
      ({ rng: r, pin }) => ({ message: 'Payment gateway timeout: no response from upstream, marking payment pending', fields: [['provider', pin('psp', () => r.pick(PROVIDERS))], ['payment_id', paymentId(r)], ['elapsed_ms', r.int(30000, 31000)]] }),
    ],
  },
  {
    id: 'payment_duplicate_charge', title: 'Duplicate charge', category: 'payment', known: true,
    service: 'payment-service', level: 'CRITICAL', patterns: ['duplicate charge'], burst: [2, 4],
    variants: [
      ({ rng: r }) => ({ message: 'Duplicate charge detected: order captured twice', fields: [['order_id', orderId(r)], ['payment_ids', `${paymentId(r)},${paymentId(r)}`], ['amount', amount(r)], ['currency', r.pick(CURRENCIES)]] }),
      ({ rng: r }) => ({ message: 'Possible duplicate charge: idempotency key reused with a different amount', fields: [['idempotency_key', `idem-${r.hex(12)}`], ['order_id', orderId(r)], ['provider', r.pick(PROVIDERS)]] }),
      ({ rng: r }) => ({ message: `Customer charged ${r.int(2, 3)} times for one order (duplicate charge), refund required`, fields: [['order_id', orderId(r)], ['user_id', userId(r)], ['amount', amount(r)]] }),
    ],
  },
  {
    id: 'payment_fraud_check_failed', title: 'Fraud check failed', category: 'payment', known: true,
    service: 'payment-service', level: 'ERROR', patterns: ['fraud check failed'], burst: DEFAULT_BURST,
    variants: [
      ({ rng: r }) => ({ message: 'Fraud check failed: risk score above threshold, transaction blocked', fields: [['risk_score', r.int(76, 99)], ['threshold', 75], ['order_id', orderId(r)], ['amount', amount(r)]] }),
      ({ rng: r, pin }) => ({ message: `Transaction blocked: fraud check failed (rule=${r.pick(['velocity_card_country_mismatch', 'ip_country_mismatch', 'many_cards_one_device'])})`, fields: [['payment_id', paymentId(r)], ['client_ip', pin('ip', () => externalIp(r))]] }),
      ({ rng: r }) => ({ message: 'Fraud check failed: provider returned review_required', fields: [['provider', 'sift'], ['order_id', orderId(r)], ['score', r.float(0.8, 0.99).toFixed(2)]] }),
    ],
  },
  // security
  {
    id: 'security_sql_injection', title: 'SQL injection attempt', category: 'security', known: true,
    service: 'api-gateway', level: 'ERROR', patterns: ['SQL injection'], burst: [4, 12],
    variants: [
      ({ rng: r, pin }) => ({ message: `Possible SQL injection attempt blocked: payload="${r.pick(["' OR '1'='1", "1; DROP TABLE users--", "' UNION SELECT username, password_hash FROM users--", "1' AND SLEEP(5)--"])}"`, fields: [['client_ip', pin('ip', () => externalIp(r))], ['path', '/api/v1/products'], ['param', r.pick(['q', 'sort', 'id'])], ['status', 403]] }),
      ({ rng: r, pin }) => ({ message: 'WAF rule 942100 matched: SQL injection detected in query string', fields: [['client_ip', pin('ip', () => externalIp(r))], ['path', apiCall(r).path], ['action', 'block']] }),
      ({ rng: r, pin }) => ({ message: 'Request rejected: SQL injection pattern in request body', fields: [['client_ip', pin('ip', () => externalIp(r))], ['field', r.pick(['coupon_code', 'search', 'address_line1'])], ['user_agent', 'sqlmap/1.7.2#stable']] }),
    ],
  },
  {
    id: 'security_brute_force', title: 'Brute force login', category: 'security', known: true,
    service: 'auth-service', level: 'ERROR', patterns: ['brute force'], burst: [5, 12],
    variants: [
      ({ rng: r, pin }) => ({ message: `Brute force login detected: ${r.int(30, 400)} failed attempts in 60s`, fields: [['client_ip', pin('ip', () => externalIp(r))], ['distinct_users', r.int(1, 80)]] }),
      ({ rng: r, pin }) => ({ message: 'Possible brute force attack on a single account', fields: [['user', pin('user', () => r.pick(USERNAMES))], ['client_ip', pin('ip', () => externalIp(r))], ['failures_5m', r.int(20, 120)]] }),
      ({ rng: r, pin }) => ({ message: 'Blocking client after brute force detection', fields: [['client_ip', pin('ip', () => externalIp(r))], ['block_minutes', 60], ['failures', r.int(50, 600)]] }),
    ],
  },
  {
    id: 'security_suspicious_ip', title: 'Suspicious IP', category: 'security', known: true,
    service: 'api-gateway', level: 'ERROR', patterns: ['suspicious IP'], burst: [3, 8],
    variants: [
      ({ rng: r, pin }) => ({ message: `Request from suspicious IP ${pin('ip', () => externalIp(r))} blocked`, fields: [['threat_list', r.pick(['spamhaus-drop', 'tor-exit', 'abuseipdb'])], ['path', apiCall(r).path]] }),
      ({ rng: r, pin }) => ({ message: `Suspicious IP activity: ${r.int(30, 300)} endpoints probed in 10s`, fields: [['client_ip', pin('ip', () => externalIp(r))], ['status_404', r.int(25, 280)]] }),
      ({ rng: r, pin }) => ({ message: 'Denied login from suspicious IP (reputation below threshold)', fields: [['client_ip', pin('ip', () => externalIp(r))], ['reputation', r.int(0, 19)], ['country', r.pick(['RU', 'CN', 'KP', 'IR', 'BR', 'NG'])]] }),
    ],
  },
  {
    id: 'security_xss_attempt', title: 'XSS attempt', category: 'security', known: true,
    service: 'api-gateway', level: 'ERROR', patterns: ['XSS'], burst: [3, 8],
    variants: [
      ({ rng: r, pin }) => ({ message: `XSS attempt blocked: payload="${r.pick(['<script>alert(1)</script>', '<img src=x onerror=alert(document.cookie)>', 'javascript:alert(1)', '<svg onload=fetch(`//203.0.113.9`)>'])}"`, fields: [['client_ip', pin('ip', () => externalIp(r))], ['field', r.pick(['review_text', 'display_name', 'q'])], ['status', 400]] }),
      ({ rng: r, pin }) => ({ message: 'WAF rule 941100 matched: XSS attack detected in request parameters', fields: [['client_ip', pin('ip', () => externalIp(r))], ['path', r.pick(['/api/v1/reviews', '/api/v1/search', '/api/v1/users/me'])], ['action', 'block']] }),
      ({ rng: r, pin }) => ({ message: 'Stored XSS payload rejected by input sanitizer', fields: [['user_id', pin('uid', () => userId(r))], ['field', 'review_text'], ['length', r.int(40, 900)]] }),
    ],
  },
  // infrastructure
  {
    id: 'infra_disk_full', title: 'Disk full', category: 'infrastructure', known: true,
    service: 'log-shipper', level: 'CRITICAL', patterns: ['disk full'], burst: [3, 6],
    variants: [
      ({ rng: r, pin }) => ({ message: `Disk full on ${pin('mount', () => r.pick(['/var/lib/postgresql', '/var/log', '/data']))} (${r.float(99, 100).toFixed(1)}% used)`, fields: [['node', pin('node', () => node(r))], ['free_mb', r.int(0, 40)]] }),
      ({ rng: r, pin }) => ({ message: 'Write failed: ENOSPC no space left on device (disk full)', fields: [['path', pin('mount', () => r.pick(['/data/uploads', '/var/log/app']))], ['node', pin('node', () => node(r))], ['bytes', r.int(4096, 1048576)]] }),
      ({ rng: r, pin }) => ({ message: 'Buffer flush aborted: disk full, dropping log chunks', fields: [['node', pin('node', () => node(r))], ['dropped_chunks', r.int(1, 60)], ['buffer', '/var/lib/fluent-bit']] }),
    ],
  },
  {
    id: 'infra_high_cpu', title: 'High CPU usage', category: 'infrastructure', known: true,
    service: 'search-service', level: 'ERROR', patterns: ['high CPU'], burst: [3, 6],
    variants: [
      ({ rng: r, pin }) => ({ message: `High CPU usage: ${r.int(92, 100)}% for 5m`, fields: [['pod', pin('pod', () => podName(r, 'search-service'))], ['limit_cores', 2], ['throttled_pct', r.int(20, 80)]] }),
      ({ rng: r, pin }) => ({ message: 'Shedding load due to high CPU', fields: [['node', pin('node', () => node(r))], ['load1', r.float(14, 40).toFixed(2)], ['cores', 8], ['rejected', r.int(10, 500)]] }),
      ({ rng: r, pin }) => ({ message: `Sustained high CPU on worker, p99 latency ${r.int(1800, 6000)}ms`, fields: [['pod', pin('pod', () => podName(r, 'search-service'))], ['cpu_pct', r.int(90, 100)]] }),
    ],
  },
  {
    id: 'infra_pod_crashloop', title: 'Pod in CrashLoopBackOff', category: 'infrastructure', known: true,
    service: 'kube-controller', level: 'CRITICAL', patterns: ['CrashLoopBackOff'], burst: [3, 6],
    variants: [
      ({ rng: r, pin }) => ({ message: `Pod ${pin('pod', () => podName(r, 'checkout-service'))} in CrashLoopBackOff`, fields: [['namespace', 'prod'], ['restarts', r.int(5, 60)], ['last_exit_code', r.pick([1, 2, 255])]] }),
      ({ rng: r, pin }) => ({ message: 'Back-off restarting failed container: CrashLoopBackOff', fields: [['pod', pin('pod', () => podName(r, 'notification-service'))], ['container', 'app'], ['backoff_s', r.pick([40, 80, 160, 300])]] }),
      ({ rng: r, pin }) => ({ message: 'Deployment rollout stalled, replicas in CrashLoopBackOff', fields: [['deployment', pin('deploy', () => r.pick(['checkout-service', 'cart-service', 'pricing-service']))], ['ready', `${r.int(0, 1)}/3`]] }),
    ],
  },
  {
    id: 'infra_dns_failure', title: 'DNS resolution failure', category: 'infrastructure', known: true,
    service: 'api-gateway', level: 'ERROR', patterns: ['DNS resolution failed'], burst: DEFAULT_BURST,
    variants: [
      ({ rng: r, pin }) => ({ message: `DNS resolution failed for ${pin('dnsHost', () => r.pick(['api.stripe.com', 'inventory-service.prod.svc.cluster.local', 'redis-cache-01.prod.internal']))}: SERVFAIL`, fields: [['resolver', '10.0.0.2:53'], ['attempts', 3]] }),
      ({ rng: r, pin }) => ({ message: 'getaddrinfo EAI_AGAIN: DNS resolution failed', fields: [['host', pin('dnsHost', () => r.pick(['search-service.prod.svc.cluster.local', 'hooks.partner.example.com']))], ['elapsed_ms', r.int(5000, 5100)]] }),
      ({ rng: r }) => ({ message: 'DNS resolution failed: lookup returned NXDOMAIN', fields: [['name', r.pick(['payments-v2.prod.internal', 'legacy-catalog.prod.internal'])], ['resolver', 'coredns']] }),
    ],
  },
  {
    id: 'infra_tls_cert_expired', title: 'TLS certificate expired', category: 'infrastructure', known: true,
    service: 'api-gateway', level: 'CRITICAL', patterns: ['certificate expired'], burst: [3, 8],
    variants: [
      ({ rng: r, pin, now }) => ({ message: 'TLS handshake failed: certificate expired', fields: [['upstream', pin('tlsHost', () => r.pick(['partner-api.example.com:443', 'shipping.example.net:443']))], ['not_after', pin('notAfter', () => secondsBefore(now, r.int(60, 72 * 3600)))]] }),
      ({ rng: r, pin, now }) => ({ message: 'x509: certificate expired or is not yet valid', fields: [['host', pin('tlsHost', () => r.pick(['auth.example.com', 'cdn.example.com']))], ['verify_time', secondsBefore(now, 0)]] }),
      ({ rng: r }) => ({ message: `Serving certificate expired ${r.int(1, 9)} hours ago, clients failing handshake`, fields: [['listener', 'https:443'], ['cn', '*.shop.example.com'], ['handshake_errors', r.int(20, 900)]] }),
    ],
  },
  {
    id: 'infra_connection_refused', title: 'Connection refused', category: 'infrastructure', known: true,
    service: 'cart-service', level: 'ERROR', patterns: ['connection refused'], burst: [4, 10],
    variants: [
      ({ rng: r, pin }) => ({ message: `dial tcp ${pin('addr', () => `${internalIp(r)}:6379`)}: connect: connection refused`, fields: [['target', 'redis-cache'], ['retry_in_ms', r.pick([100, 200, 400, 800])]] }),
      ({ rng: r, pin }) => ({ message: 'Upstream connect error: connection refused', fields: [['upstream', pin('up', () => r.pick(['inventory-service:8080', 'pricing-service:8080']))], ['attempt', `${r.int(1, 3)}/3`]] }),
      ({ rng: r, pin }) => ({ message: `ECONNREFUSED: connection refused to ${pin('addr', () => `${internalIp(r)}:5432`)}`, fields: [['pool', 'carts'], ['elapsed_ms', r.int(1, 15)]] }),
    ],
  },
  // application
  {
    id: 'app_null_pointer', title: 'Null pointer exception', category: 'application', known: true,
    service: 'order-service', level: 'ERROR', patterns: ['NullPointerException'], burst: DEFAULT_BURST,
    variants: [
      ({ rng: r }) => ({ message: `java.lang.NullPointerException: Cannot invoke "Address.getCountry()" because "shipping" is null at com.shop.orders.ShippingQuote.compute(ShippingQuote.java:${r.int(80, 240)})`, fields: [['order_id', orderId(r)]] }),
      ({ rng: r }) => ({ message: 'NullPointerException in OrderMapper.toDto', fields: [['order_id', orderId(r)], ['thread', `http-nio-8080-exec-${r.int(1, 64)}`]] }),
      ({ rng: r }) => ({ message: `Request failed with NullPointerException at com.shop.orders.DiscountService.apply(DiscountService.java:${r.int(40, 120)})`, fields: [['coupon', r.pick(['SPRING25', 'WELCOME10', 'FREESHIP'])], ['user_id', userId(r)]] }),
    ],
  },
  {
    id: 'app_unhandled_exception', title: 'Unhandled exception', category: 'application', known: true,
    service: 'checkout-service', level: 'ERROR', patterns: ['Unhandled exception'], burst: DEFAULT_BURST,
    variants: [
      ({ rng: r }) => ({ message: `Unhandled exception in request handler POST /api/v1/checkout: IllegalStateException: cart ${r.digits(6)} already checked out`, fields: [['status', 500]] }),
      ({ rng: r }) => ({ message: "Unhandled exception in job send_digest: KeyError: 'locale'", fields: [['job_id', `job_${r.digits(7)}`], ['queue', 'default']] }),
      ({ rng: r }) => ({ message: 'Unhandled exception: TypeError: Cannot read properties of undefined (reading \'price\')', fields: [['route', '/api/v1/cart/items'], ['sku', sku(r)], ['status', 500]] }),
    ],
  },
  {
    id: 'app_rate_limit_exceeded', title: 'Rate limit exceeded', category: 'application', known: true,
    service: 'api-gateway', level: 'ERROR', patterns: ['rate limit exceeded'], burst: [4, 12],
    variants: [
      ({ rng: r, pin }) => ({ message: 'Rate limit exceeded: 1000 requests/min, responding 429', fields: [['client_id', pin('client', () => `cli_${r.digits(5)}`)], ['path', apiCall(r).path], ['retry_after_s', r.int(5, 60)]] }),
      ({ rng: r }) => ({ message: 'Upstream rate limit exceeded, backing off', fields: [['provider', r.pick(['sendgrid', 'twilio', 'shippo'])], ['retry_after_s', r.int(10, 120)], ['queued', r.int(10, 900)]] }),
      ({ rng: r, pin }) => ({ message: `Per-user rate limit exceeded (${r.int(101, 400)}/100 per minute)`, fields: [['user_id', pin('uid', () => userId(r))], ['route', '/api/v1/search']] }),
    ],
  },
  // data / integration
  {
    id: 'data_queue_backlog', title: 'Message queue backlog', category: 'data_integration', known: true,
    service: 'fulfillment-worker', level: 'ERROR', patterns: ['queue backlog'], burst: [3, 6],
    variants: [
      ({ rng: r, pin }) => ({ message: 'Message queue backlog growing: consumers not keeping up', fields: [['topic', pin('topic', () => r.pick(['order-events', 'stock-updates']))], ['consumer_group', 'fulfillment'], ['lag', r.int(20000, 400000)]] }),
      ({ rng: r }) => ({ message: `Queue backlog of ${r.int(50, 900)}k messages on emails queue`, fields: [['consumers', r.int(1, 4)], ['oldest_message_age_s', r.int(300, 7200)]] }),
      ({ rng: r }) => ({ message: 'RabbitMQ queue backlog above threshold', fields: [['queue', 'shipments.create'], ['messages', r.int(10000, 250000)], ['threshold', 10000]] }),
    ],
  },
  {
    id: 'data_webhook_delivery_failed', title: 'Webhook delivery failed', category: 'data_integration', known: true,
    service: 'notification-service', level: 'ERROR', patterns: ['webhook delivery failed'], burst: DEFAULT_BURST,
    variants: [
      ({ rng: r, pin }) => ({ message: `Webhook delivery failed: POST ${pin('hook', () => r.pick(['https://hooks.partner.example.com/orders', 'https://erp.example.net/api/webhooks/shop']))} returned ${r.pick([500, 502, 503, 504])}`, fields: [['event', 'order.created'], ['attempt', `${r.int(1, 5)}/5`]] }),
      ({ rng: r }) => ({ message: 'Webhook delivery failed after 5 attempts, moved to dead letter queue', fields: [['subscription', `whsub_${r.digits(5)}`], ['event', r.pick(['order.shipped', 'refund.created'])]] }),
      ({ rng: r, pin }) => ({ message: 'Webhook delivery failed: endpoint timed out', fields: [['url', pin('hook', () => 'https://hooks.partner.example.com/orders')], ['timeout_ms', 10000], ['event_id', `evt_${r.digits(8)}`]] }),
    ],
  },
  {
    id: 'data_schema_validation_failed', title: 'Schema validation failed', category: 'data_integration', known: true,
    service: 'ingest-service', level: 'ERROR', patterns: ['schema validation failed'], burst: DEFAULT_BURST,
    variants: [
      ({ rng: r }) => ({ message: `Schema validation failed for event order.created v${r.int(2, 4)}: missing required field 'currency'`, fields: [['producer', 'order-service'], ['offset', r.digits(7)]] }),
      ({ rng: r }) => ({ message: 'Partner feed rejected: schema validation failed at $.items[3].price (expected number, got string)', fields: [['partner', r.pick(['acme-supply', 'northwind'])], ['file', `feed-${r.digits(8)}.json`]] }),
      ({ rng: r }) => ({ message: 'Schema validation failed: payload does not match registry schema', fields: [['subject', r.pick(['payments-value', 'shipments-value'])], ['schema_id', r.int(100, 400)]] }),
    ],
  },
];

// ---------------------------------------------------------------------------------------------
// the 6 unknown error kinds (no runbook on purpose)

const UNKNOWN: readonly ErrorKind[] = [
  {
    id: 'k8s_oom_killed', title: 'Kubernetes OOM kill', category: 'infrastructure', known: false,
    service: 'kubelet', level: 'CRITICAL', patterns: ['OOMKilled'], burst: [2, 5],
    variants: [
      ({ rng: r, pin }) => ({ message: `Container search-indexer in pod ${pin('pod', () => podName(r, 'search-indexer'))} terminated: OOMKilled (exit code 137)`, fields: [['memory_limit', '2Gi'], ['restart_count', r.int(1, 12)]] }),
      ({ rng: r, pin }) => ({ message: 'Pod container OOMKilled, memory limit reached', fields: [['pod', pin('pod', () => podName(r, 'recommendation-api'))], ['limit_mb', 1024], ['working_set_mb', r.int(1020, 1024)], ['node', pin('node', () => node(r))]] }),
      ({ rng: r, pin }) => ({ message: 'Last state: Terminated reason=OOMKilled', fields: [['pod', pin('pod', () => podName(r, 'report-builder'))], ['exit_code', 137], ['started_s_ago', r.int(30, 900)]] }),
    ],
  },
  {
    id: 'grpc_deadline_exceeded', title: 'gRPC deadline exceeded', category: 'application', known: false,
    service: 'recommendation-api', level: 'ERROR', patterns: ['deadline exceeded'], burst: DEFAULT_BURST,
    variants: [
      ({ rng: r }) => ({ message: 'rpc error: code = DeadlineExceeded desc = context deadline exceeded', fields: [['method', r.pick(['/inventory.v1.StockService/Reserve', '/pricing.v1.PriceService/Quote'])], ['deadline_ms', r.pick([200, 500, 1000])]] }),
      ({ rng: r }) => ({ message: `gRPC call failed: status 4 (deadline exceeded) after ${r.int(500, 2100)}ms`, fields: [['rpc_service', 'ml.v1.Ranker'], ['peer', `${internalIp(r)}:50051`]] }),
      ({ rng: r }) => ({ message: 'Fallback to popular items: ranking deadline exceeded', fields: [['grpc_status', 'DEADLINE_EXCEEDED'], ['user_id', userId(r)], ['budget_ms', 150]] }),
    ],
  },
  {
    id: 'es_shard_failure', title: 'Elasticsearch shard failure', category: 'database', known: false,
    service: 'search-service', level: 'ERROR', patterns: ['shard failure'], burst: [3, 8],
    variants: [
      ({ rng: r, pin }) => ({ message: `Elasticsearch shard failure: index=products-v${pin('idx', () => r.int(7, 12))} shard=${r.int(0, 5)}`, fields: [['node', `es-data-0${r.int(1, 6)}`], ['reason', 'search_phase_execution_exception']] }),
      ({ rng: r }) => ({ message: 'SearchPhaseExecutionException: all shards failed (shard failure on primary and replica)', fields: [['index', 'orders-2025.03'], ['took_ms', r.int(20, 800)]] }),
      ({ rng: r }) => ({ message: `Partial results returned: ${r.int(1, 4)} shard failure(s) of 6`, fields: [['index', 'products'], ['query', 'full_text']] }),
    ],
  },
  {
    id: 'websocket_dropped', title: 'WebSocket connection dropped', category: 'application', known: false,
    service: 'realtime-gateway', level: 'ERROR', patterns: ['WebSocket'], burst: [4, 10],
    variants: [
      ({ rng: r }) => ({ message: 'WebSocket connection dropped: code=1006 (abnormal closure)', fields: [['session', `ws_${r.hex(10)}`], ['open_s', r.int(1, 3600)], ['client_ip', externalIp(r)]] }),
      ({ rng: r }) => ({ message: `Lost ${r.int(40, 900)} WebSocket clients at once, reconnect storm expected`, fields: [['pod', podName(r, 'realtime-gateway')]] }),
      ({ rng: r }) => ({ message: 'WebSocket ping timeout, connection dropped by proxy', fields: [['idle_s', 60], ['channel', r.pick(['order-status', 'cart-sync', 'notifications'])]] }),
    ],
  },
  {
    id: 'feature_flag_timeout', title: 'Feature-flag evaluation timeout', category: 'application', known: false,
    service: 'checkout-service', level: 'ERROR', patterns: ['feature flag'], burst: [4, 10],
    variants: [
      ({ rng: r, pin }) => ({ message: `Feature flag evaluation timed out after ${r.pick([250, 500])}ms, serving default`, fields: [['flag', pin('flag', () => r.pick(['new-checkout-flow', 'express-shipping', 'bnpl-payments']))], ['default', false], ['provider', 'launchdarkly']] }),
      ({ rng: r }) => ({ message: 'Feature flag service unreachable, evaluation timeout', fields: [['flags_pending', r.int(3, 40)], ['sdk', 'openfeature-node']] }),
      ({ rng: r, pin }) => ({ message: 'Stale feature flag values in use: evaluation timeout on refresh', fields: [['flag', pin('flag', () => r.pick(['new-checkout-flow', 'express-shipping']))], ['age_s', r.int(60, 1800)]] }),
    ],
  },
  {
    id: 'cdn_origin_pull_failed', title: 'CDN origin pull failure', category: 'infrastructure', known: false,
    service: 'cdn-edge', level: 'ERROR', patterns: ['origin pull'], burst: [4, 10],
    variants: [
      ({ rng: r, pin }) => ({ message: `CDN origin pull failed: origin returned ${r.pick([502, 503, 504])}`, fields: [['pop', pin('pop', () => r.pick(['FRA', 'AMS', 'LHR', 'IAD']))], ['path', `/static/js/app.${r.hex(8)}.js`], ['origin', 'assets-origin.prod.internal']] }),
      ({ rng: r, pin }) => ({ message: 'Serving stale object: origin pull timed out', fields: [['pop', pin('pop', () => r.pick(['FRA', 'AMS', 'LHR']))], ['path', `/images/products/${r.digits(5)}.webp`], ['age_s', r.int(600, 86400)]] }),
      ({ rng: r }) => ({ message: 'Edge cache miss and origin pull error (TLS handshake with origin aborted)', fields: [['pop', r.pick(['IAD', 'SFO'])], ['origin', 'assets-origin.prod.internal'], ['status', 525]] }),
    ],
  },
];

/** All 33 error kinds: the 27 known ones, then the 6 unknown ones. */
export const ERROR_KINDS: readonly ErrorKind[] = Object.freeze([...KNOWN, ...UNKNOWN]);

/** Plain data about a known error kind (what runbooks are written against). */
export interface KnownErrorKind {
  id: string;
  title: string;
  category: ErrorCategory;
  service: string;
  level: 'ERROR' | 'CRITICAL';
  patterns: readonly string[];
}

const describeKind = (k: ErrorKind): KnownErrorKind => Object.freeze({ id: k.id, title: k.title, category: k.category, service: k.service, level: k.level, patterns: k.patterns });

/** The 27 error kinds runbooks know, with their categories and the patterns their lines carry. */
export const KNOWN_ERROR_KINDS: readonly KnownErrorKind[] = Object.freeze(KNOWN.map(describeKind));

/** The 6 error kinds no runbook covers (the LLM / heuristic analysis handles them). */
export const UNKNOWN_ERROR_KINDS: readonly KnownErrorKind[] = Object.freeze(UNKNOWN.map(describeKind));

export const ERROR_KIND_IDS: readonly string[] = Object.freeze(ERROR_KINDS.map((k) => k.id));

// ---------------------------------------------------------------------------------------------
// normal traffic (info) and slow-request warnings

const EDGE_SERVICES = ['api-gateway', 'order-service', 'user-service', 'search-service', 'checkout-service', 'cart-service'];

export const INFO_KINDS: readonly TrafficKind[] = [
  {
    id: 'http_request_served', cls: 'info', level: 'INFO', weight: 34, services: ['api-gateway'],
    variants: [
      ({ rng: r }) => {
        const { method, path } = apiCall(r);
        return { message: 'Request completed', fields: [['method', method], ['path', path], ['status', method === 'POST' ? r.pick([200, 201, 201]) : 200], ['duration_ms', Math.round(r.logNormal(38, 0.6))], ['client_ip', externalIp(r)]] };
      },
      ({ rng: r }) => {
        const { method, path } = apiCall(r);
        return { message: `${method} ${path} ${method === 'PUT' ? 204 : 200} ${Math.round(r.logNormal(25, 0.5))}ms`, fields: [['bytes', r.int(120, 48000)]] };
      },
    ],
  },
  {
    id: 'user_login', cls: 'info', level: 'INFO', weight: 5, services: ['auth-service'],
    variants: [({ rng: r }) => ({ message: 'User login succeeded', fields: [['user_id', userId(r)], ['method', r.pick(['password', 'password', 'sso', 'oauth_google'])], ['mfa', r.chance(0.4)]] })],
  },
  {
    id: 'session_refreshed', cls: 'info', level: 'INFO', weight: 4, services: ['auth-service'],
    variants: [({ rng: r }) => ({ message: 'Session refreshed', fields: [['user_id', userId(r)], ['ttl_s', 3600], ['client', r.pick(['web', 'ios', 'android'])]] })],
  },
  {
    id: 'order_created', cls: 'info', level: 'INFO', weight: 6, services: ['order-service'],
    variants: [({ rng: r }) => ({ message: 'Order created', fields: [['order_id', orderId(r)], ['user_id', userId(r)], ['items', r.int(1, 6)], ['total', amount(r)], ['currency', r.pick(CURRENCIES)]] })],
  },
  {
    id: 'payment_captured', cls: 'info', level: 'INFO', weight: 5, services: ['payment-service'],
    variants: [
      ({ rng: r }) => ({ message: 'Payment captured', fields: [['payment_id', paymentId(r)], ['order_id', orderId(r)], ['amount', amount(r)], ['currency', r.pick(CURRENCIES)], ['provider', r.pick(PROVIDERS)]] }),
      ({ rng: r }) => ({ message: 'Refund completed', fields: [['payment_id', paymentId(r)], ['amount', amount(r)], ['reason', r.pick(['customer_request', 'out_of_stock'])]] }),
    ],
  },
  {
    id: 'cache_access', cls: 'info', level: 'INFO', weight: 8, services: ['catalog-service'],
    variants: [
      ({ rng: r }) => ({ message: 'Cache hit', fields: [['key', `product:${r.digits(5)}`], ['ttl_remaining_s', r.int(1, 600)]] }),
      ({ rng: r }) => ({ message: 'Cache miss, loaded from database', fields: [['key', `product:${r.digits(5)}`], ['load_ms', r.int(3, 40)]] }),
    ],
  },
  {
    id: 'job_completed', cls: 'info', level: 'INFO', weight: 6, services: ['job-runner', 'fulfillment-worker'],
    variants: [
      ({ rng: r }) => ({ message: 'Job completed', fields: [['job', r.pick(['send_order_confirmation', 'generate_invoice', 'sync_stock', 'reindex_product'])], ['job_id', `job_${r.digits(7)}`], ['duration_ms', Math.round(r.logNormal(240, 0.7))]] }),
      ({ rng: r }) => ({ message: 'Scheduled task finished', fields: [['task', r.pick(['cleanup_stale_sessions', 'rotate_logs', 'compact_carts'])], ['removed', r.int(0, 4000)]] }),
    ],
  },
  {
    id: 'email_sent', cls: 'info', level: 'INFO', weight: 4, services: ['notification-service'],
    variants: [
      ({ rng: r }) => ({ message: 'Email sent', fields: [['template', r.pick(['order_confirmation', 'shipping_update', 'password_reset_link', 'weekly_digest'])], ['user_id', userId(r)], ['provider', 'sendgrid']] }),
      ({ rng: r }) => ({ message: 'Webhook delivered', fields: [['event', r.pick(['order.created', 'order.shipped'])], ['status', 200], ['duration_ms', r.int(40, 400)]] }),
    ],
  },
  {
    id: 'search_served', cls: 'info', level: 'INFO', weight: 5, services: ['search-service'],
    variants: [({ rng: r }) => ({ message: 'Search served', fields: [['q_len', r.int(3, 32)], ['hits', r.int(0, 1800)], ['took_ms', r.int(4, 90)]] })],
  },
  {
    id: 'inventory_reserved', cls: 'info', level: 'INFO', weight: 4, services: ['inventory-service'],
    variants: [({ rng: r }) => ({ message: 'Stock reserved', fields: [['sku', sku(r)], ['qty', r.int(1, 4)], ['order_id', orderId(r)], ['remaining', r.int(0, 900)]] })],
  },
  {
    id: 'messages_consumed', cls: 'info', level: 'INFO', weight: 4, services: ['fulfillment-worker'],
    variants: [({ rng: r }) => ({ message: 'Consumed batch', fields: [['topic', r.pick(['order-events', 'stock-updates'])], ['partition', r.int(0, 11)], ['messages', r.int(1, 50)], ['lag', r.int(0, 40)]] })],
  },
  {
    id: 'health_check', cls: 'info', level: 'INFO', weight: 3, services: ['api-gateway', 'order-service', 'payment-service'],
    variants: [({ rng: r }) => ({ message: 'Health check passed', fields: [['checks', 'db,cache,queue'], ['duration_ms', r.int(1, 12)]] })],
  },
  {
    id: 'pool_stats', cls: 'info', level: 'INFO', weight: 2, services: ['order-service', 'user-service'],
    variants: [({ rng: r }) => ({ message: 'DB pool stats', fields: [['active', r.int(2, 30)], ['idle', r.int(10, 40)], ['waiting', 0]] })],
  },
];

export const WARN_KINDS: readonly TrafficKind[] = [
  {
    id: 'slow_request', cls: 'warn', level: 'WARN', weight: 1, services: EDGE_SERVICES,
    variants: [
      ({ rng: r }) => {
        const { method, path } = apiCall(r);
        return { message: 'Slow request', fields: [['method', method], ['path', path], ['duration_ms', Math.round(r.logNormal(2200, 0.45)) + 1000], ['threshold_ms', 1000]] };
      },
      ({ rng: r }) => {
        const { method, path } = apiCall(r);
        return { message: `Slow request: ${method} ${path} took ${(r.logNormal(2.4, 0.4) + 1).toFixed(2)}s`, fields: [['threshold_ms', 1000]] };
      },
    ],
  },
];
