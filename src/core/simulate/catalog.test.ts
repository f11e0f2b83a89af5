import { describe, expect, it } from 'vitest';
import { findSensitive } from '../detect/sensitive.js';
import { Rng } from '../generate/prng.js';
import {
  ERROR_CATEGORIES, ERROR_KIND_IDS, ERROR_KINDS, INFO_KINDS, KNOWN_ERROR_KINDS, UNKNOWN_ERROR_KINDS, WARN_KINDS,
  type RenderContext, type Rendered, type Variant,
} from './catalog.js';
import { EventStream, renderJson, renderText, RESERVED_FIELD_KEYS } from './simulator.js';

const T0 = Date.UTC(2025, 2, 14, 9, 0, 0);

/** Renders a variant `n` times, each as the first line of a fresh burst. */
function renderMany(variant: Variant, n: number, seed: number): Rendered[] {
  const rng = new Rng(seed);
  const out: Rendered[] = [];
  for (let i = 0; i < n; i++) {
    const pins = new Map<string, unknown>();
    const ctx: RenderContext = {
      rng,
      now: T0 + i * 1000,
      pin: <T>(key: string, make: () => T): T => {
        if (!pins.has(key)) pins.set(key, make());
        return pins.get(key) as T;
      },
    };
    out.push(variant(ctx));
  }
  return out;
}

const asText = (r: Rendered): string => [r.message, ...r.fields.map(([k, v]) => `${k}=${String(v)}`)].join(' ');

describe('the error catalog', () => {
  it('has exactly 33 error kinds with unique, stable snake_case ids: 27 known and 6 unknown', () => {
    expect(ERROR_KINDS).toHaveLength(33);
    expect(new Set(ERROR_KIND_IDS).size).toBe(33);
    for (const id of ERROR_KIND_IDS) expect(id).toMatch(/^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$/);
    expect(ERROR_KINDS.filter((k) => k.known)).toHaveLength(27);
    expect(KNOWN_ERROR_KINDS).toHaveLength(27);
    expect(UNKNOWN_ERROR_KINDS.map((k) => k.id)).toEqual([
      'k8s_oom_killed', 'grpc_deadline_exceeded', 'es_shard_failure', 'websocket_dropped', 'feature_flag_timeout', 'cdn_origin_pull_failed',
    ]);
    expect(ERROR_KINDS.filter((k) => !k.known).map((k) => k.id)).toEqual(UNKNOWN_ERROR_KINDS.map((k) => k.id));
  });

  it('exports the 27 known kinds with their categories, covering every category', () => {
    const byCategory: Record<string, string[]> = {};
    for (const k of KNOWN_ERROR_KINDS) (byCategory[k.category] ??= []).push(k.id);
    expect(Object.keys(byCategory).sort()).toEqual([...ERROR_CATEGORIES].sort());
    // the ids runbooks will be written against: renaming one breaks them
    expect(byCategory).toEqual({
      database: ['db_connection_pool_exhausted', 'db_deadlock_detected', 'db_replication_lag', 'db_query_timeout'],
      auth: ['auth_token_expired', 'auth_jwt_signature_invalid', 'auth_account_locked'],
      payment: ['payment_card_declined', 'payment_gateway_timeout', 'payment_duplicate_charge', 'payment_fraud_check_failed'],
      security: ['security_sql_injection', 'security_brute_force', 'security_suspicious_ip', 'security_xss_attempt'],
      infrastructure: ['infra_disk_full', 'infra_high_cpu', 'infra_pod_crashloop', 'infra_dns_failure', 'infra_tls_cert_expired', 'infra_connection_refused'],
      application: ['app_null_pointer', 'app_unhandled_exception', 'app_rate_limit_exceeded'],
      data_integration: ['data_queue_backlog', 'data_webhook_delivery_failed', 'data_schema_validation_failed'],
    });
    for (const k of KNOWN_ERROR_KINDS) {
      expect(Object.keys(k).sort()).toEqual(['category', 'id', 'level', 'patterns', 'service', 'title']);
      expect(k.patterns.length).toBeGreaterThan(0);
      expect(Object.isFrozen(k)).toBe(true);
    }
    expect(Object.isFrozen(KNOWN_ERROR_KINDS)).toBe(true);
    expect(JSON.parse(JSON.stringify(KNOWN_ERROR_KINDS))).toEqual(KNOWN_ERROR_KINDS);
  });

  it('gives every error kind a service, an error level, several variants and a small burst size', () => {
    for (const k of ERROR_KINDS) {
      expect(k.service).toMatch(/^[a-z][a-z-]+$/);
      expect(['ERROR', 'CRITICAL']).toContain(k.level);
      expect(k.variants.length).toBeGreaterThanOrEqual(3);
      expect(k.burst[0]).toBeGreaterThanOrEqual(2);
      expect(k.burst[1]).toBeGreaterThanOrEqual(k.burst[0]);
      expect(k.burst[1]).toBeLessThanOrEqual(12);
    }
  });

  it('keeps its promise to runbook authors: a kind\'s patterns are in every one of its messages and in no other line', () => {
    const patterns = ERROR_KINDS.flatMap((k) => k.patterns.map((p) => ({ id: k.id, p: p.toLowerCase() })));
    const foreign = (ownId: string | undefined, text: string): string[] => patterns.filter((x) => x.id !== ownId && text.toLowerCase().includes(x.p)).map((x) => `${x.id}:${x.p}`);
    ERROR_KINDS.forEach((k, ki) => {
      k.variants.forEach((v, vi) => {
        for (const r of renderMany(v, 60, 1000 * ki + vi)) {
          for (const p of k.patterns) expect(r.message.toLowerCase(), `${k.id} variant ${vi}: ${r.message}`).toContain(p.toLowerCase());
          expect(foreign(k.id, asText(r)), `${k.id} variant ${vi}: ${asText(r)}`).toEqual([]);
        }
      });
    });
    for (const k of [...INFO_KINDS, ...WARN_KINDS]) {
      k.variants.forEach((v, vi) => {
        for (const r of renderMany(v, 200, vi)) expect(foreign(undefined, asText(r)), `${k.id}: ${asText(r)}`).toEqual([]);
      });
    }
  });

  it('uses no field key the line format owns, and writes messages on one line', () => {
    for (const k of [...ERROR_KINDS, ...INFO_KINDS, ...WARN_KINDS]) {
      k.variants.forEach((v, vi) => {
        for (const r of renderMany(v, 20, vi)) {
          expect(r.message).not.toMatch(/[\r\n]/);
          for (const [key, value] of r.fields) {
            expect(RESERVED_FIELD_KEYS.has(key), `${k.id}: ${key}`).toBe(false);
            expect(key).toMatch(/^[a-z][a-z0-9_]*$/);
            expect(String(value)).not.toMatch(/[\r\n]/);
          }
        }
      });
    }
  });

  it('has info and slow-request warning kinds with their own levels', () => {
    expect(INFO_KINDS.length).toBeGreaterThanOrEqual(10);
    for (const k of INFO_KINDS) expect([k.cls, k.level]).toEqual(['info', 'INFO']);
    expect(WARN_KINDS.map((k) => [k.id, k.cls, k.level])).toEqual([['slow_request', 'warn', 'WARN']]);
  });

  it('writes no secrets or personal data the sensitive-data detector would flag', () => {
    const stream = new EventStream(11, T0, 20);
    const flagged: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const ev = stream.next();
      for (const line of [renderText(ev), renderJson(ev)]) if (findSensitive(line).length > 0) flagged.push(line);
    }
    expect(flagged).toEqual([]);
  });
});
