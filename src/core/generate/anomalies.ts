/**
 * What injected anomalies say: never-seen errors, flood messages, leaked secrets, odd one-off lines
 * and broken request flows. Normal traffic (scenarios.ts) never uses these words, so a new error is
 * new and a secret pattern only appears where it is labelled.
 */
import type { Level, Message } from './format.js';
import type { Rng } from './prng.js';
import type { Pools } from './services.js';
import type { ActiveWorkflow } from './scenarios.js';

export const ANOMALY_KINDS = ['new_error', 'spike', 'flood', 'broken_sequence', 'leaked_secret', 'rare_outlier'] as const;
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

// ---------------------------------------------------------------------------------------------
// new_error: a message family never logged before, with word slots so every episode is distinct

interface NewErrorFamily {
  id: string;
  services: readonly string[];
  slots: readonly (readonly string[])[];
  render(words: readonly string[], r: Rng): { msg: string; kv?: Message['kv'] };
}

const hexAddr = (r: Rng): string => `0x${r.hex(12)}`;

export const NEW_ERROR_FAMILIES: readonly NewErrorFamily[] = [
  {
    id: 'oom', services: ['orders', 'payments', 'search', 'recommendations'],
    slots: [['checkout', 'pricing', 'thumbnail', 'ledger', 'export', 'webhook', 'fanout', 'reconciliation', 'tax', 'coupon', 'render', 'audit']],
    render: ([w], r) => ({ msg: `OutOfMemoryError in ${w} worker pool`, kv: [['requested_bytes', r.int(1_000_000, 900_000_000)], ['heap_max_mb', r.pick([512, 1024, 2048])]] }),
  },
  {
    id: 'cert', services: ['payments', 'api-gateway', 'shipping', 'auth'],
    slots: [['psp-gateway', 'fraud-scorer', 'tax-api', 'ledger-api', 'address-validator', 'fx-rates', 'loyalty-api', 'sms-relay', 'identity-provider', 'warehouse-bridge']],
    render: ([w], r) => ({ msg: `certificate expired for upstream ${w}`, kv: [['not_after', `2026-${String(r.int(1, 10)).padStart(2, '0')}-${String(r.int(10, 28))}T00:00:00Z`], ['fingerprint', r.hex(40)]] }),
  },
  {
    id: 'segfault', services: ['search', 'recommendations', 'inventory', 'api-gateway'],
    slots: [['libcrypto', 'libjemalloc', 'libpq', 'libvips', 'libuv', 'libzstd', 'libicu', 'libcurl', 'libgrpc', 'libprotobuf']],
    render: ([w], r) => ({ msg: `worker segfault in ${w}`, kv: [['at', hexAddr(r)], ['ip', hexAddr(r)], ['sp', hexAddr(r)], ['error', 4]] }),
  },
  {
    id: 'deadlock', services: ['orders', 'inventory', 'payments'],
    slots: [['ledger_entries', 'stock_levels', 'coupons', 'invoices', 'carts', 'shipments', 'refunds', 'price_rules', 'wallets', 'reservations']],
    render: ([w], r) => ({ msg: `deadlock detected on table ${w}`, kv: [['tx_a', r.int(100000, 999999)], ['tx_b', r.int(100000, 999999)], ['wait_ms', r.int(1000, 5000)]] }),
  },
  {
    id: 'quota', services: ['scheduler', 'orders', 'search'],
    slots: [['scratch', 'uploads', 'wal', 'exports', 'thumbnails', 'spool', 'journal', 'artifacts']],
    render: ([w], r) => ({ msg: `disk quota exceeded on volume ${w}`, kv: [['used_gb', r.int(101, 130)], ['quota_gb', 100]] }),
  },
  {
    id: 'grpc', services: ['orders', 'payments', 'api-gateway', 'recommendations'],
    slots: [['PricingService', 'FraudService', 'LedgerService', 'TaxService', 'CatalogService', 'RankingService'], ['GetQuote', 'Score', 'Append', 'Compute', 'Resolve', 'Lookup']],
    render: ([a, b], r) => ({ msg: `gRPC deadline exceeded calling ${a} method ${b}`, kv: [['deadline_ms', r.pick([250, 500, 1000])], ['peer', `10.0.${r.int(0, 15)}.${r.int(2, 254)}:50051`]] }),
  },
  {
    id: 'es', services: ['search'],
    slots: [['products', 'orders', 'audit', 'reviews', 'suggestions', 'customers']],
    render: ([w], r) => ({ msg: `Elasticsearch shard failure on index ${w}`, kv: [['shard', r.int(0, 11)], ['reason', 'circuit_breaking_exception']] }),
  },
  {
    id: 'flag', services: ['api-gateway', 'orders', 'users'],
    slots: [['new_checkout_flow', 'one_click_pay', 'smart_search', 'dynamic_pricing', 'gift_cards', 'express_shipping', 'loyalty_points', 'dark_mode']],
    render: ([w], r) => ({ msg: `feature flag evaluation timed out for ${w}`, kv: [['timeout_ms', r.pick([50, 100, 200])], ['fallback', 'default']] }),
  },
  {
    id: 'oomkill', services: ['scheduler', 'orders', 'search', 'recommendations'],
    slots: [['pricing-worker', 'image-resizer', 'pdf-renderer', 'ledger-sync', 'email-renderer', 'feed-builder']],
    render: ([w], r) => ({ msg: `container ${w} OOMKilled by kubelet`, kv: [['limit_mib', r.pick([256, 512, 1024])], ['restarts', r.int(1, 9)]] }),
  },
  {
    id: 'websocket', services: ['api-gateway', 'notifications', 'shipping'],
    slots: [['live-tracking', 'support-chat', 'price-stream', 'stock-stream', 'order-events']],
    render: ([w], r) => ({ msg: `WebSocket stream ${w} dropped unexpectedly`, kv: [['close_code', 1006], ['open_s', r.int(1, 4000)], ['subscribers', r.int(10, 800)]] }),
  },
  {
    id: 'cdn', services: ['api-gateway'],
    slots: [['catalog', 'checkout', 'marketing', 'account', 'static']],
    render: ([w], r) => ({ msg: `CDN origin pull failed for ${w} assets`, kv: [['status', r.pick([502, 503, 504])], ['pop', `${r.pick(['FRA', 'AMS', 'IAD', 'SIN'])}${r.int(1, 60)}`]] }),
  },
  {
    id: 'npe', services: ['orders', 'payments', 'shipping', 'users'],
    slots: [['CartMerger', 'PriceCalculator', 'CouponValidator', 'AddressNormalizer', 'InvoiceBuilder', 'RefundPolicy'], ['apply', 'merge', 'validate', 'compute', 'build', 'resolve']],
    render: ([a, b], r) => ({ msg: `NullPointerException in ${a}.${b}`, kv: [['thread', `http-nio-8080-exec-${r.int(1, 64)}`]] }),
  },
  {
    id: 'schema', services: ['orders', 'inventory', 'notifications', 'search'],
    slots: [['OrderPlaced', 'PaymentCaptured', 'StockAdjusted', 'UserRegistered', 'ShipmentDispatched'], ['discount_code', 'gift_wrap', 'tax_region', 'loyalty_tier', 'device_fingerprint']],
    render: ([a, b], r) => ({ msg: `schema validation failed for ${a} event: unknown field ${b}`, kv: [['offset', r.int(1000, 9_999_999)], ['partition', r.int(0, 11)]] }),
  },
  {
    id: 'rebalance', services: ['orders', 'inventory', 'notifications', 'search'],
    slots: [['order-events-consumer', 'stock-projector', 'email-dispatcher', 'audit-writer', 'search-indexer', 'price-watcher']],
    render: ([w], r) => ({ msg: `consumer group ${w} rebalance failed, member fenced`, kv: [['generation', r.int(10, 900)], ['members', r.int(2, 12)]] }),
  },
  {
    id: 'panic', services: ['api-gateway', 'search', 'shipping'],
    slots: [['pricing', 'routing', 'ratelimit', 'session', 'ledger', 'catalog']],
    render: ([w], r) => ({ msg: `panic: assignment to entry in nil map in package ${w}`, kv: [['goroutine', r.int(10, 9000)]] }),
  },
  {
    id: 'dns', services: ['payments', 'shipping', 'notifications', 'orders'],
    slots: [['fraud-scorer', 'tax-api', 'ledger-api', 'carrier-gateway', 'sms-relay', 'geo-lookup']],
    render: ([w], r) => ({ msg: `DNS resolution failed for ${w}.svc.cluster.local`, kv: [['resolver', `10.96.0.${r.int(10, 12)}:53`], ['error', 'SERVFAIL']] }),
  },
];

const CODENAME_A = ['amber', 'brisk', 'cobalt', 'dusky', 'ember', 'frosty', 'gilded', 'hollow', 'ivory', 'jade', 'keen', 'lunar', 'misty', 'noble', 'onyx', 'pale', 'quiet', 'rapid', 'silver', 'tawny', 'umber', 'vivid', 'woven', 'young', 'zesty'];
const CODENAME_B = ['falcon', 'badger', 'cedar', 'delta', 'egret', 'fjord', 'glacier', 'heron', 'island', 'juniper', 'kestrel', 'lynx', 'meadow', 'nebula', 'otter', 'pine', 'quarry', 'raven', 'summit', 'tundra', 'upland', 'valley', 'willow', 'yarrow', 'zephyr'];

/** n written in letters (a, b, …, z, ba, bb, …): a word that never holds a digit. */
function letterSerial(n: number): string {
  let s = '';
  do {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26);
  } while (n > 0);
  return s;
}

/** A never-seen error: its family, the service that logs it, its level and how to render a line of it. */
export interface NewErrorPick {
  key: string;
  service: string;
  level: Level;
  /** The message without values, for labels. */
  title: string;
  render(r: Rng): Message;
}

/**
 * Picks a new error not used before in this corpus (`used` is updated). Word slots give ~200
 * distinct errors; beyond that a code name (`amber-falcon`) in the first slot, and past ~18,000 a
 * letter serial after it, keep them distinct.
 */
export function pickNewError(r: Rng, used: Set<string>, enabled: readonly string[]): NewErrorPick {
  const has = (s: string): boolean => enabled.includes(s);
  const textLike = enabled.filter((s) => s !== 'db-proxy');
  for (let attempt = 0; ; attempt++) {
    const f = r.pick(NEW_ERROR_FAMILIES);
    const words = f.slots.map((s) => r.pick(s));
    if (attempt >= 40) words[0] = `${r.pick(CODENAME_A)}-${r.pick(CODENAME_B)}`;
    // past ~18,000 errors the code names run out too: a letter serial keeps every key distinct
    if (attempt >= 80) words[0] += `-${letterSerial(used.size)}`;
    const key = `${f.id}:${words.join(':')}`;
    if (used.has(key)) continue;
    used.add(key);
    const candidates = f.services.filter(has);
    const service = candidates.length > 0 ? r.pick(candidates) : r.pick(textLike);
    // most are logged as errors, but a real share is logged at a level that hides them
    const level: Level = r.pick(['error', 'error', 'error', 'error', 'error', 'error', 'fatal', 'warn', 'info', 'info']);
    const title = f.render(words, r).msg;
    return { key, service, level, title, render: (q) => ({ level, ...f.render(words, q) }) };
  }
}

// ---------------------------------------------------------------------------------------------
// flood: one message, identical every time, repeated hundreds of times within seconds

interface FloodFamily {
  id: string;
  service: string;
  make(r: Rng, p: Pools): Message;
}

export const FLOOD_FAMILIES: readonly FloodFamily[] = [
  { id: 'db-refused', service: 'orders', make: () => ({ level: 'error', msg: 'connection refused to db-proxy:6432 (ECONNREFUSED), retrying', kv: [['pool', 'orders-rw']] }) },
  { id: 'cache-fallback', service: 'inventory', make: (r, p) => ({ level: 'warn', msg: 'redis unavailable, falling back to database', kv: [['key', `stock:${p.sku(r)}`]] }) },
  { id: 'circuit-open', service: 'api-gateway', make: (r) => ({ level: 'error', msg: 'circuit breaker open, rejecting request', kv: [['upstream', r.pick(['payments', 'orders', 'inventory'])], ['route', '/api/v1/checkout']] }) },
  { id: 'smtp-reject', service: 'notifications', make: () => ({ level: 'error', msg: 'smtp relay rejected message', kv: [['relay', 'smtp-1.internal:587'], ['smtp_code', 421], ['reason', 'too many connections']] }) },
  { id: 'jwks', service: 'auth', make: () => ({ level: 'warn', msg: 'JWKS refresh failed, using cached keys', kv: [['url', 'https://idp.example.com/.well-known/jwks.json'], ['error', 'timeout']] }) },
  { id: 'pool-full', service: 'db-proxy', make: (r, p) => ({ level: 'warn', msg: `C-0x${r.hex(12)}: shop/app_rw@${p.internalIp(r)}:${r.int(32768, 60999)} pooler error: no more connections allowed (max_client_conn)` }) },
  { id: 'idempotency', service: 'payments', make: (r) => ({ level: 'error', msg: 'idempotency key conflict', kv: [['key', `idem_${r.alnum(20)}`], ['order_id', `ord-${r.digits(7)}`]] }) },
  { id: 'job-lock', service: 'scheduler', make: () => ({ level: 'error', msg: 'failed to acquire job lock, retrying', kv: [['lock', 'jobs/report-export'], ['holder', 'scheduler-0']] }) },
  { id: 'es-rejected', service: 'search', make: () => ({ level: 'error', msg: 'bulk request rejected: es_rejected_execution_exception', kv: [['index', 'products'], ['queue_capacity', 200]] }) },
  { id: 'retry-storm', service: 'api-gateway', make: (r) => ({ level: 'warn', msg: 'retrying upstream request', kv: [['upstream', r.pick(['orders', 'auth'])], ['attempt', '2/3'], ['backoff_ms', 0]] }) },
];

// ---------------------------------------------------------------------------------------------
// leaked_secret: credentials and card numbers written into a log line

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** base64url (no padding) of an ASCII string. */
export function base64Url(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i += 3) {
    const a = text.charCodeAt(i);
    const b = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
    const c = i + 2 < text.length ? text.charCodeAt(i + 2) : 0;
    const n = (a << 16) | (b << 8) | c;
    out += B64URL[(n >> 18) & 63]! + B64URL[(n >> 12) & 63]!;
    if (i + 1 < text.length) out += B64URL[(n >> 6) & 63]!;
    if (i + 2 < text.length) out += B64URL[n & 63]!;
  }
  return out;
}

/** A card number of the given prefix and length that passes the Luhn check. */
export function luhnCard(r: Rng, prefix: string, length: number): string {
  let s = prefix;
  while (s.length < length - 1) s += String(r.int(0, 9));
  let sum = 0;
  for (let i = 0; i < s.length; i++) {
    let d = Number(s[s.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return s + String((10 - (sum % 10)) % 10);
}

/** True when a digit string passes the Luhn check. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

const PASSWORD_WORDS = ['Summer', 'Winter', 'Welcome', 'Shop', 'Admin', 'Spring', 'Secret', 'Passw0rd', 'Dragon', 'Monkey'];
const password = (r: Rng): string => `${r.pick(PASSWORD_WORDS)}${r.int(1, 2026)}${r.pick(['!', '#', '$', '*', '.', ''])}${r.fromAlphabet('abcdefghijkmnpqrstuvwxyz', r.int(0, 3))}`;

function jwt(r: Rng, p: Pools): string {
  const header = base64Url('{"alg":"HS256","typ":"JWT"}');
  const iat = 1_790_000_000 + r.int(0, 9_000_000);
  const payload = base64Url(JSON.stringify({ sub: p.user(r).id, email: p.user(r).email, role: r.pick(['customer', 'customer', 'admin']), iat, exp: iat + 3600 }));
  return `${header}.${payload}.${r.fromAlphabet(B64URL, 43)}`;
}

interface SecretKind {
  id: string;
  /** Preferred service, and the fallback when it is not running (always running). */
  service: string;
  fallback: string;
  what: string;
  make(r: Rng, p: Pools): Message;
}

export const SECRET_KINDS: readonly SecretKind[] = [
  { id: 'ldap-password', service: 'auth', fallback: 'auth', what: 'password in an LDAP bind', make: (r) => ({ level: 'debug', msg: 'ldap bind', kv: [['dn', 'cn=svc-orders,ou=services,dc=shop,dc=internal'], ['password', password(r)]] }) },
  { id: 'dsn-password', service: 'orders', fallback: 'orders', what: 'password in a database URL', make: (r) => ({ level: 'info', msg: 'connecting to database', kv: [['url', `postgres://app_rw:${password(r)}@db-proxy:6432/shop?sslmode=require`]] }) },
  {
    id: 'aws-key', service: 'scheduler', fallback: 'orders', what: 'AWS access key',
    make: (r) => ({ level: 'info', msg: 'uploading export to s3', kv: [['bucket', 'shop-exports'], ['aws_access_key_id', `AKIA${r.fromAlphabet('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}`], ['aws_secret_access_key', r.fromAlphabet(B64, 40)]] }),
  },
  { id: 'bearer', service: 'api-gateway', fallback: 'api-gateway', what: 'bearer token in forwarded headers', make: (r) => ({ level: 'debug', msg: 'forwarding upstream request', kv: [['headers', `Authorization: Bearer ${r.alnum(40)}`], ['upstream', 'orders']] }) },
  { id: 'jwt', service: 'users', fallback: 'auth', what: 'JWT session token', make: (r, p) => ({ level: 'warn', msg: 'rejected session token', kv: [['token', jwt(r, p)], ['reason', 'signature mismatch']] }) },
  {
    id: 'private-key', service: 'payments', fallback: 'orders', what: 'private key',
    make: (r) => ({ level: 'error', msg: 'failed to parse signing key', kv: [['key', `-----BEGIN RSA PRIVATE KEY-----\nMIIEow${r.fromAlphabet(B64, 58)}\n${r.fromAlphabet(B64, 64)}\n`]] }),
  },
  {
    id: 'card-number', service: 'payments', fallback: 'orders', what: 'card number',
    make: (r) => {
      const card = r.chance(0.6) ? luhnCard(r, '4', 16) : luhnCard(r, String(r.int(51, 55)), 16);
      return { level: 'debug', msg: 'charge request payload', kv: [['card_number', card], ['exp', `${String(r.int(1, 12)).padStart(2, '0')}/${r.int(27, 31)}`], ['amount', Number((r.int(500, 40000) / 100).toFixed(2))]] };
    },
  },
  { id: 'github-token', service: 'scheduler', fallback: 'orders', what: 'GitHub token in a clone URL', make: (r) => ({ level: 'info', msg: 'cloning config repository', kv: [['url', `https://x-access-token:ghp_${r.alnum(36)}@github.com/shop/config.git`]] }) },
  { id: 'stripe-key', service: 'payments', fallback: 'orders', what: 'Stripe live secret key', make: (r) => ({ level: 'info', msg: 'psp client initialised', kv: [['psp', 'stripe'], ['api_key', `sk_live_${r.alnum(24)}`]] }) },
];

/** Patterns of the secrets above; a labelled leaked_secret line matches one, and no other line does. */
export const SECRET_PATTERNS: readonly RegExp[] = [
  /\bpassword"?\s*[=:]\s*"?[^\s",}]{3,}/i,
  /:\/\/[^\s:/@]+:[^\s@/]+@/,
  /\bAKIA[0-9A-Z]{16}\b/,
  /\bBearer [A-Za-z0-9._~+/-]{20,}/,
  /\beyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /\bghp_[A-Za-z0-9]{36}\b/,
  /\bsk_live_[A-Za-z0-9]{16,}/,
];

/** True when the text holds a secret: one of the patterns, or a 13–19 digit number passing Luhn. */
export function containsSecret(text: string): boolean {
  if (SECRET_PATTERNS.some((p) => p.test(text))) return true;
  for (const m of text.matchAll(/(?<!\d)\d{13,19}(?!\d)/g)) if (luhnValid(m[0])) return true;
  return false;
}

// ---------------------------------------------------------------------------------------------
// rare_outlier: single odd lines unlike anything else. Every variant draws its words at random
// from large spaces (random bytes, fragments, frames, columns), so that even when thousands are
// asked for, each odd shape stays rare.

const MOJIBAKE = ['Ã¤', 'Ã¶', 'Ã¼', 'ÃŸ', 'Ã©', 'â€™', 'â€œ', 'â€“', 'ï¿½', '�', 'Â', 'Ð¿', 'Ñ€', 'æ–‡', 'å­—', 'Ã¨', 'Ã±', 'Ã§'];
const JUNK = 'ÿþýüøõñ¿¡§¶¤¦¨©®°±µ·»¼½¾×÷ÆÐØÞßæðøþ!#$%&*+;<>?@^_`|~ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const JAVA_PACKAGES = ['com.shop.orders', 'com.shop.payments', 'com.shop.inventory', 'com.shop.common.events', 'com.shop.pricing', 'org.springframework.aop.framework', 'org.hibernate.engine.jdbc', 'io.netty.channel', 'java.util.concurrent', 'reactor.core.publisher'];
const JAVA_CLASSES = ['EventPublisher', 'OrderService', 'ReflectiveMethodInvocation', 'ThreadPoolExecutor', 'AbstractChannelHandlerContext', 'BatchingBatch', 'StockLedger', 'PriceRuleEngine', 'FluxFlatMap', 'RetryTemplate', 'OutboxRelay', 'JdbcCoordinator'];
const JAVA_METHODS = ['publish', 'create', 'proceed', 'runWorker', 'invokeChannelRead', 'execute', 'apply', 'onNext', 'drainLoop', 'doWithRetry', 'flush', 'afterTransaction'];
const JAVA_EXCEPTIONS = ['java.lang.IllegalStateException: Queue full', 'java.util.ConcurrentModificationException', 'java.lang.IllegalArgumentException: bucket must be positive', 'java.lang.UnsupportedOperationException: read-only view', 'java.lang.ArrayIndexOutOfBoundsException: Index out of range', 'java.lang.ClassCastException: cannot be cast'];
const SQL_COLUMNS = ['o.id', 'o.user_id', 'o.total', 'o.currency', 'o.state', 'i.sku', 'i.qty', 'i.price', 'c.email', 'c.country', 's.carrier', 's.tracking', 'p.psp', 'p.charge_id', 'o.created_at', 'o.updated_at'];
const SQL_TABLES = ['orders o', 'order_items i', 'customers c', 'shipments s', 'payments p'];
const KERNEL_DRIVERS = ['usb', 'nvme', 'e1000e', 'ixgbe', 'xhci_hcd', 'ata', 'sd', 'EXT4-fs', 'XFS', 'virtio_net', 'cgroup', 'audit'];
const KERNEL_EVENTS = ['new high-speed USB device using', 'link becomes ready', 'mounted filesystem with ordered data mode', 'detected capacity change', 'renamed from', 'entered promiscuous mode', 'left promiscuous mode', 'reset adapter', 'Write Protect is off', 'Mode Sense', 'failed command: READ FPDMA QUEUED', 'hard resetting link', 'callbacks suppressed', 'page allocation stall'];
const BAR_CHARS = ['=', '#', '-', '*', '█', '▒'];
const MIGRATIONS = ['orders', 'order_items', 'customers', 'shipments', 'payments', 'coupons', 'invoices', 'wallets', 'stock_levels', 'price_rules', 'reviews', 'carts'];
const MIGRATION_PHASES = ['copying', 'backfilling', 'reindexing', 'validating', 'swapping', 'vacuuming'];

/** An odd line: `raw` lines are written as they are, others in the service's format. */
export interface OutlierLine {
  variant: string;
  service: string;
  message?: Message;
  raw?: string;
}

/**
 * One rare, odd-looking line. `normalLine` renders an ordinary line of a service at the current
 * time (for the torn-write variant, where two lines were written into each other).
 */
export function makeOutlier(r: Rng, p: Pools, enabled: readonly string[], normalLine: (service: string) => string): OutlierLine {
  const has = (s: string): boolean => enabled.includes(s);
  const variant = r.pick(['hexdump', 'torn-write', 'mojibake', 'flat-stacktrace', 'binary-junk', 'kernel', 'ansi', 'sql-dump']);
  switch (variant) {
    case 'hexdump': {
      const bytes = Array.from({ length: 16 }, () => r.int(0, 255));
      const hex = bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ');
      const ascii = bytes.map((b) => (b >= 33 && b < 127 ? String.fromCharCode(b) : '.')).join('');
      const offset = r.int(0, 4095).toString(16).padStart(4, '0');
      const service = has('db-proxy') ? 'db-proxy' : 'api-gateway';
      return { variant, service, message: { level: 'debug', msg: `packet dump ${offset}: ${hex} |${ascii}|` } };
    }
    case 'torn-write': {
      const a = normalLine(r.pick(['api-gateway', 'auth', 'orders']));
      const b = normalLine(r.pick(['api-gateway', 'auth', 'orders']));
      return { variant, service: 'api-gateway', raw: a.slice(0, Math.floor(a.length * r.float(0.35, 0.7))) + b };
    }
    case 'mojibake': {
      let s = '';
      const n = r.int(8, 20);
      for (let i = 0; i < n; i++) s += r.pick(MOJIBAKE) + (r.chance(0.3) ? ' ' : '');
      return { variant, service: r.pick(['orders', 'api-gateway', 'auth']), message: { level: 'info', msg: `customer note: ${s.trim()}` } };
    }
    case 'flat-stacktrace': {
      const frames = Array.from({ length: r.int(3, 7) }, () => {
        const cls = r.pick(JAVA_CLASSES);
        return `at ${r.pick(JAVA_PACKAGES)}.${cls}.${r.pick(JAVA_METHODS)}(${cls}.java:${r.int(20, 900)})`;
      }).join(' ');
      return { variant, service: r.pick(['orders', 'payments', 'inventory'].filter(has)), message: { level: 'warn', msg: `${r.pick(JAVA_EXCEPTIONS)} ${frames}` } };
    }
    case 'binary-junk': {
      let s = '';
      const n = r.int(24, 90);
      for (let i = 0; i < n; i++) s += r.chance(0.12) ? ' ' : r.fromAlphabet(JUNK, 1);
      return { variant, service: r.pick(['orders', 'auth', 'api-gateway']), raw: s.trim() || 'ÿþ' };
    }
    case 'kernel': {
      const ts = `${r.int(1000, 99999)}.${String(r.int(0, 999999)).padStart(6, '0')}`;
      const device = r.pick([`sd${r.fromAlphabet('abcdef', 1)}`, `eth${r.int(0, 3)}`, `nvme${r.int(0, 3)}n1`, `veth${r.hex(7)}`, `${r.int(1, 4)}-${r.int(1, 8)}`]);
      return { variant, service: 'api-gateway', raw: `[${ts.padStart(13)}] ${r.pick(KERNEL_DRIVERS)} ${device}: ${r.pick(KERNEL_EVENTS)}` };
    }
    case 'ansi': {
      const done = r.int(5, 95);
      const c = r.pick(BAR_CHARS);
      const bar = c.repeat(Math.floor(done / 5)) + '>' + ' '.repeat(20 - Math.floor(done / 5));
      return { variant, service: has('scheduler') ? 'scheduler' : 'orders', message: { level: 'info', msg: `\u001b[32m[${bar}]\u001b[0m ${done}% \u001b[1m${r.pick(MIGRATION_PHASES)} ${r.pick(MIGRATIONS)}\u001b[0m` } };
    }
    default: {
      const t = r.shuffle([...SQL_TABLES]).slice(0, 3);
      const cols = r.shuffle([...SQL_COLUMNS]).slice(0, r.int(3, 8)).join(', ');
      const ids = Array.from({ length: r.int(5, 20) }, () => r.int(1000, 9_999_999)).join(', ');
      return { variant, service: 'orders', message: { level: 'debug', msg: `SELECT ${cols} FROM ${t[0]} JOIN ${t[1]} USING (order_id) JOIN ${t[2]} USING (order_id) WHERE order_id IN (${ids}) ORDER BY created_at DESC LIMIT ${r.int(10, 500)}` } };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// broken_sequence: a request flow that leaves the paths normal sessions follow

/** Steps found between the first and last step of some workflow, per workflow list. */
const MIDDLE_STEPS = new WeakMap<readonly ActiveWorkflow[], string[]>();

export interface BrokenFlow {
  workflow: ActiveWorkflow;
  variantIndex: number;
  steps: string[];
  /** Index of the step where the sequence first leaves normal transitions (the labelled one). */
  breakAt: number;
  description: string;
}

/**
 * A mutated request flow: a step skipped, two steps swapped (or the response sent early), a step
 * repeated, or a step of another workflow inserted. Only mutations that create a transition no
 * normal session has are kept, and the labelled step is the first one reached by such a transition.
 */
export function breakFlow(r: Rng, workflows: readonly ActiveWorkflow[], normal: ReadonlySet<string>): BrokenFlow {
  let middleSteps = MIDDLE_STEPS.get(workflows);
  if (!middleSteps) {
    middleSteps = [...new Set(workflows.flatMap((w) => w.variants.flatMap((v) => v.steps.slice(1, -1))))].sort();
    MIDDLE_STEPS.set(workflows, middleSteps);
  }
  const weights = workflows.map((x) => x.def.weight);
  for (let attempt = 0; attempt < 100; attempt++) {
    const w = workflows[r.weightedIndex(weights)]!;
    const vi = r.weightedIndex(w.weights);
    const base = w.variants[vi]!.steps;
    const steps = [...base];
    const mutation = r.pick(['skip', 'skip', 'swap', 'repeat', 'foreign']);
    const k = r.int(1, steps.length - 2);
    let description: string;
    if (mutation === 'skip') {
      const [gone] = steps.splice(k, 1);
      description = `step ${gone} skipped`;
    } else if (mutation === 'swap') {
      const a = steps[k]!;
      steps[k] = steps[k + 1]!;
      steps[k + 1] = a;
      description = steps[k] === 'gw.done' ? `response sent before ${a}` : `${steps[k]} before ${a}`;
    } else if (mutation === 'repeat') {
      steps.splice(k, 0, steps[k]!);
      description = `step ${steps[k]} repeated`;
    } else {
      const extra = r.pick(middleSteps);
      steps.splice(k, 0, extra);
      description = `unexpected step ${extra}`;
    }
    for (let i = 1; i < steps.length; i++) {
      if (!normal.has(`${steps[i - 1]}>${steps[i]}`)) {
        return { workflow: w, variantIndex: vi, steps, breakAt: i, description: `${w.def.name} flow: ${description} (${steps[i - 1]} -> ${steps[i]})` };
      }
    }
  }
  // unreachable in practice: repeating a middle step always makes a new transition
  const w = workflows[0]!;
  const steps = [...w.variants[0]!.steps];
  steps.splice(1, 0, steps[1]!);
  return { workflow: w, variantIndex: 0, steps, breakAt: 2, description: `${w.def.name} flow: step ${steps[1]} repeated (${steps[1]} -> ${steps[2]})` };
}

