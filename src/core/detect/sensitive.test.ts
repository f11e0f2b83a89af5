import { describe, expect, it } from 'vitest';
import { findSensitive, isCardNumber, maskSecret, redactSensitive, SensitiveDataDetector } from './sensitive.js';
import { input } from './test-helpers.js';

/** Each case: a line, the raw secret inside it, the kind and the mask expected. */
const CASES: [string, string, string, string][] = [
  ['using key AKIAIOSFODNN7EXAMPLE for s3', 'AKIAIOSFODNN7EXAMPLE', 'aws_access_key', 'AKIA************MPLE'],
  ['login user=bob password=hunter2 ok', 'hunter2', 'password', 'h*****2'],
  ['{"user":"bob","password":"p4ss w0rd!"}', 'p4ss w0rd!', 'password', 'p********!'],
  ['db_password: s3cr3tPassw0rd', 's3cr3tPassw0rd', 'password', 's3**********rd'],
  ['api_key=sk12345678abcdefgh', 'sk12345678abcdefgh', 'api_key', 'sk**************gh'],
  ['client_secret="zzTopSecretValue99"', 'zzTopSecretValue99', 'secret', 'zz**************99'],
  ['Authorization: Basic dXNlcjpwYXNzd29yZA==', 'dXNlcjpwYXNzd29yZA==', 'credential', 'dXNl************ZA=='],
  ['GET /me Authorization: Bearer abcdef0123456789abcdef', 'abcdef0123456789abcdef', 'bearer_token', 'abcd**************cdef'],
  ['token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U seen', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U', 'jwt', 'eyJh****************sR8U'],
  ['-----BEGIN RSA PRIVATE KEY-----', '-----BEGIN RSA PRIVATE KEY-----', 'private_key', '-----BEGIN RSA PRIVATE KEY-----'],
  ['push with ghp_abcdefghijklmnopqrstuvwxyz0123456789', 'ghp_abcdefghijklmnopqrstuvwxyz0123456789', 'github_token', 'ghp_****************6789'],
  ['slack xoxb-123456789012-abcdefghijkl', 'xoxb-123456789012-abcdefghijkl', 'slack_token', 'xoxb****************ijkl'],
  ['charge with sk_live_abcdefghijklmnop1234', 'sk_live_abcdefghijklmnop1234', 'stripe_key', 'sk_l****************1234'],
  ['connecting to postgres://admin:s3cretpw@db.example.com:5432/app', 's3cretpw', 'url_credentials', 's******w'],
  ['mail sent to john.doe@example.com', 'john.doe@example.com', 'email', 'j***@example.com'],
  ['paid with 4111 1111 1111 1111 today', '4111 1111 1111 1111', 'credit_card', '4111********1111'],
  ['card=5500-0000-0000-0004', '5500-0000-0000-0004', 'credit_card', '5500********0004'],
  ['amex 378282246310005', '378282246310005', 'credit_card', '3782*******0005'],
  ['ssn 123-45-6789 on file', '123-45-6789', 'ssn', '***-**-6789'],
];

describe('findSensitive', () => {
  it.each(CASES)('finds and masks %s', (line, secret, kind, masked) => {
    const found = findSensitive(line);
    expect(found).toHaveLength(1);
    expect(found[0]!.kind).toBe(kind);
    expect(found[0]!.masked).toBe(masked);
    expect(line.slice(found[0]!.start, found[0]!.end)).toBe(secret);
  });

  it('never returns a raw secret of six characters or more in its output', () => {
    for (const [line, secret, kind] of CASES) {
      if (kind === 'private_key' || kind === 'email') continue;
      const text = JSON.stringify(findSensitive(line).map(({ kind: k, masked }) => ({ k, masked })));
      expect(text, line).not.toContain(secret);
      // nor any 8-character run of it
      for (let i = 0; i + 8 <= secret.length; i++) expect(text, line).not.toContain(secret.slice(i, i + 8));
    }
  });

  it('ignores placeholders, states and paths after secret-looking keys', () => {
    for (const line of ['password=****', 'password: required', 'token=null', 'pwd=/home/app', 'password=<redacted>', 'auth: failed', 'check pass; user unknown', 'tokens=5', 'bypass=1234567', 'Auth successful for job_1 (auth:SIMPLE)', 'credentials: kerberos', 'Bad activity token: android.os.BinderProxy@2bd79ce']) {
      expect(findSensitive(line), line).toEqual([]);
    }
  });

  it('does not take ids, timestamps and block numbers for card numbers', () => {
    expect(isCardNumber('4111111111111111')).toBe(true);
    expect(isCardNumber('4111111111111112')).toBe(false); // Luhn
    expect(isCardNumber('1445144423722000')).toBe(false); // no card brand starts with 1
    for (const line of ['block blk_-1608999687919862906 done', 'blk_38865049064139660 terminating', 'ts=1445144423722 took 12ms', 'id 9999999999999995']) {
      expect(findSensitive(line), line).toEqual([]);
    }
  });

  it('does not read the password part of a URL as an e-mail address', () => {
    const found = findSensitive('redis://user:pw123456@cache.example.com:6379');
    expect(found.map((f) => f.kind)).toEqual(['url_credentials']);
  });

  it('redacts text by its spans', () => {
    expect(redactSensitive('login password=hunter2 from john@example.org')).toBe('login password=h*****2 from j***@example.org');
    expect(redactSensitive('nothing to see')).toBe('nothing to see');
  });

  it('reveals nothing of short values and little of long ones', () => {
    expect(maskSecret('abcde')).toBe('*****');
    expect(maskSecret('abcdefgh')).toBe('a******h');
    expect(maskSecret('a'.repeat(100))).toBe(`aaaa${'*'.repeat(16)}aaaa`);
  });
});

describe('SensitiveDataDetector', () => {
  it('reports a secret with severity high and tag security, and never the raw value', () => {
    const d = new SensitiveDataDetector();
    const [f] = d.observe(input({ template: 'login password=<*> token=<*>', message: 'login password=hunter22 token=abcdefghijklmnop', params: ['hunter22'] }));
    expect(f).toBeDefined();
    expect(f!.detector).toBe('sensitive_data');
    expect(f!.severity).toBe('high');
    expect(f!.tags).toEqual(['security']);
    expect(f!.reason).toBe('line contains 2 sensitive values: password h******2, token ab************op (shown masked)');
    const all = JSON.stringify(f);
    expect(all).not.toContain('hunter22');
    expect(all).not.toContain('abcdefghijklmnop');
  });

  it('finds value secrets through the parameters when the template has no telling words', () => {
    const d = new SensitiveDataDetector();
    const [f] = d.observe(input({ template: 'charged <*> ok', message: 'charged 4111-1111-1111-1111 ok', params: ['4111-1111-1111-1111'] }));
    expect(f!.evidence).toMatchObject({ matches: [{ kind: 'credit_card', masked: '4111********1111' }] });
    expect(f!.tags).toEqual(['security', 'pii']);
    const [g] = d.observe(input({ templateId: 't2', template: 'charged card <*> <*> <*> <*> ok', message: 'charged card 4111 1111 1111 1111 ok', params: ['4111', '1111', '1111', '1111'] }));
    expect(g!.evidence).toMatchObject({ matches: [{ kind: 'credit_card' }] });
  });

  it('finds a password in a URL even when URL syntax in it split the parameters', () => {
    const d = new SensitiveDataDetector();
    const message = 'connecting to database url=postgres://app_rw:Winter976#tai@db-proxy:6432/shop?sslmode=require';
    const [f] = d.observe(input({ template: 'connecting to database <*>', message, params: ['Winter976', '6432/shop?sslmode'] }));
    expect(f!.evidence).toMatchObject({ matches: [{ kind: 'url_credentials' }] });
    expect(JSON.stringify(f)).not.toContain('Winter976#tai');
    expect(d.observe(input({ templateId: 't3', template: 'connecting to database <*>', message: 'connecting to database url=postgres://db-proxy:6432/shop', params: ['postgres://db-proxy:6432/shop'] }))).toEqual([]);
  });

  it('scores e-mail addresses low and can leave them out', () => {
    const line = input({ template: 'mail to <*>', message: 'mail to jane@example.com', params: ['jane@example.com'] });
    const [f] = new SensitiveDataDetector().observe(line);
    expect(f!.severity).toBe('low');
    expect(f!.score).toBeLessThan(0.5);
    expect(new SensitiveDataDetector({ reportEmails: false }).observe(line)).toEqual([]);
  });

  it('stays quiet on ordinary lines', () => {
    const d = new SensitiveDataDetector();
    expect(d.observe(input({ template: 'PacketResponder <*> for block <*> terminating', message: 'PacketResponder 1 for block blk_38865049064139660 terminating', params: ['1', 'blk_38865049064139660'] }))).toEqual([]);
    expect(d.observe(input({ templateId: 't2', template: 'took <*> ms at <*>', message: 'took 1445144423722 ms at 10.0.0.1', params: ['1445144423722', '10.0.0.1'] }))).toEqual([]);
  });
});

describe('SensitiveDataDetector on templates', () => {
  it('reads the message when the template has a secret key, even when the value was generalised away', () => {
    const d = new SensitiveDataDetector();
    // the miner merged "login password=hunterx token=abc…" into a template whose slot hides the value
    const [f] = d.observe(input({ template: 'login password=<*> <*>', message: 'login password=hunterx token=abcdefgh', params: [] }));
    expect(f!.evidence).toMatchObject({ count: 2, matches: [{ kind: 'password', masked: 'h*****x' }, { kind: 'token', masked: 'a******h' }] });
  });

  it('stays quiet on authentication messages that carry no secret', () => {
    const d = new SensitiveDataDetector();
    expect(d.observe(input({ template: 'authentication failure; logname= uid=<*> euid=<*> tty=NODEVssh ruser= rhost=<*>', message: 'authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4', params: ['0', '0', '218.188.2.4'] }))).toEqual([]);
  });
});
