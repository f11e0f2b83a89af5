import { describe, expect, it } from 'vitest';
import { keyedIdOf, MAX_SESSION_KEY_CHARS, sessionKeyOf } from './session-key.js';

const rec = (message: string, requestId?: string) => (requestId === undefined ? { message } : { message, requestId });

describe('sessionKeyOf', () => {
  it('takes the record request id before anything in the message', () => {
    expect(sessionKeyOf(rec('block blk_123 done', 'req-abc'), ['blk_123'])).toBe('req-abc');
  });

  it('finds HDFS block ids, negative ones included', () => {
    expect(sessionKeyOf(rec('x'), ['1', 'blk_-1608999687919862906', '/10.0.0.1:50010'])).toBe('blk_-1608999687919862906');
    expect(sessionKeyOf(rec('x'), ['blk_38865049064139660'])).toBe('blk_38865049064139660');
    expect(sessionKeyOf(rec('x'), ['blk_abc'])).toBeUndefined();
  });

  it('finds OpenStack request ids and UUIDs', () => {
    expect(sessionKeyOf(rec('x'), ['req-3a9f3d8c-1a6e-4e1e-8a2a-6a7c7a0e1b2c'])).toBe('req-3a9f3d8c-1a6e-4e1e-8a2a-6a7c7a0e1b2c');
    expect(sessionKeyOf(rec('x'), ['10.0.0.1', 'b9000564-fe1a-409b-b8cc-1e88b294cd1d'])).toBe('b9000564-fe1a-409b-b8cc-1e88b294cd1d');
    expect(sessionKeyOf(rec('x'), ['b9000564-fe1a-409b-b8cc-1e88b294cd1'])).toBeUndefined();
  });

  it('finds Hadoop and YARN job, application, container and attempt ids, and rejects look-alikes', () => {
    expect(sessionKeyOf(rec('x'), ['attempt_1445144423722_0020_m_000002_0'])).toBe('attempt_1445144423722_0020_m_000002_0');
    expect(sessionKeyOf(rec('x'), ['container_e17_1445144423722_0020_01_000001'])).toBe('container_e17_1445144423722_0020_01_000001');
    expect(sessionKeyOf(rec('x'), ['application_1445144423722_0020'])).toBe('application_1445144423722_0020');
    expect(sessionKeyOf(rec('x'), ['job_1445144423722_0020'])).toBe('job_1445144423722_0020');
    expect(sessionKeyOf(rec('x'), ['task_2_0'])).toBeUndefined();
    expect(sessionKeyOf(rec('x'), ['job_name_x'])).toBeUndefined();
  });

  it('prefers an unmistakable id over an earlier bare hex value', () => {
    expect(sessionKeyOf(rec('x'), ['113d3a99c3da401fbd62cc2caa5b96d2', 'req-3a9f3d8c-1a6e-4e1e-8a2a-6a7c7a0e1b2c'])).toBe('req-3a9f3d8c-1a6e-4e1e-8a2a-6a7c7a0e1b2c');
  });

  it('reads request, trace and session id keys from the message', () => {
    expect(sessionKeyOf(rec('done request_id=abc123 in 5ms'), ['abc123', '5'])).toBe('abc123');
    expect(sessionKeyOf(rec('{"traceId": "t-77", "msg": "ok"}'), [])).toBe('t-77');
    expect(sessionKeyOf(rec('X-Request-ID: 9f8e7d'), [])).toBe('9f8e7d');
    expect(sessionKeyOf(rec('commit txn=884 ok'), ['884'])).toBe('884');
    expect(sessionKeyOf(rec('session_id=null'), [])).toBeUndefined();
  });

  it('does not take ordinary words after request or session as ids', () => {
    expect(keyedIdOf('request: GET /index.html')).toBeUndefined();
    expect(keyedIdOf('pam_unix(sshd:session): session opened for user root')).toBeUndefined();
    expect(keyedIdOf('subrequest_id=5')).toBeUndefined();
  });

  it('falls back to a trace-shaped hex value, but not to plain numbers', () => {
    expect(sessionKeyOf(rec('x'), ['4bf92f3577b34da6a3ce929d0e0e4736'])).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(sessionKeyOf(rec('x'), ['00f067aa0ba902b7'])).toBe('00f067aa0ba902b7');
    expect(sessionKeyOf(rec('x'), ['1234567890123456'])).toBeUndefined();
    expect(sessionKeyOf(rec('x'), ['deadbeefdeadbeef'])).toBeUndefined();
  });

  it('returns undefined for lines without ids', () => {
    expect(sessionKeyOf(rec('Receiving 42 bytes from /10.0.0.1:80'), ['42', '/10.0.0.1:80'])).toBeUndefined();
  });

  it('cuts absurdly long keys so bounded maps stay bounded in bytes too', () => {
    const long = 'r'.repeat(500);
    expect(sessionKeyOf(rec('x', long), [])!.length).toBe(MAX_SESSION_KEY_CHARS);
  });
});
