import { describe, expect, it } from 'vitest';
import { maskMessage, maskToken } from './mask.js';

const masked = (msg: string): string => maskMessage(msg).tokens.join(' ');
const params = (msg: string): string[] => maskMessage(msg).params;

describe('maskMessage', () => {
  it('replaces integers, decimals, negatives and hex with <*> and keeps them as parameters', () => {
    expect(masked('took 12 ms and 0.25 s, offset -3, flags 0x1F')).toBe('took <*> ms and <*> s, offset <*>, flags <*>');
    expect(params('took 12 ms and 0.25 s, offset -3, flags 0x1F')).toEqual(['12', '0.25', '-3', '0x1F']);
  });

  it('masks a UUID, a MAC address and an IPv6 address as one value each', () => {
    expect(masked('id 123e4567-e89b-12d3-a456-426614174000 mac 00:1a:2b:3c:4d:5e ip fe80::1ff:fe23:4567:890a')).toBe('id <*> mac <*> ip <*>');
  });

  it('masks IPv4 addresses with and without ports, and host:port endpoints, as one value', () => {
    expect(masked('from 10.0.0.1 to 10.250.19.102:50010 via /10.10.34.11:45307 and node-1.example.org:8030')).toBe('from <*> to <*> via <*> and <*>');
    expect(params('to 10.250.19.102:50010')).toEqual(['10.250.19.102:50010']);
  });

  it('masks URLs, e-mail addresses and file paths whole, even without digits', () => {
    expect(masked('GET https://example.org/a/b?x=y for ops@example.org at /var/log/app/current.log')).toBe('GET <*> for <*> at <*>');
    expect(masked('wrote ./out/result.csv and C:\\logs\\app.log')).toBe('wrote <*> and <*>');
  });

  it('masks dates and times, and dates written with month and weekday names as one value', () => {
    expect(masked('at 2024-01-15T14:23:45.123Z and 12:34:56')).toBe('at <*> and <*>');
    const m = maskMessage('connection at Sun Jul 3 23:16:09 2005 closed');
    expect(m.tokens.join(' ')).toBe('connection at <*> closed');
    expect(m.params).toEqual(['Sun Jul 3 23:16:09 2005']);
  });

  it('masks long ids such as block and job ids as one value', () => {
    expect(masked('block blk_-1608999687919862906 job job_201511101024_0001 attempt appattempt_1445144423722_0020_000001')).toBe('block <*> job <*> attempt <*>');
  });

  it('masks only the value of key=value and key:value tokens', () => {
    expect(masked('uid=0 euid=1000 (uid=0) ret:42 size=10,total=20')).toBe('uid=<*> euid=<*> (uid=<*>) ret:<*> size=<*>,total=<*>');
  });

  it('masks digits inside words at punctuation boundaries', () => {
    expect(masked('Initializing CPU#1 audit(1122475254.170:0)')).toBe('Initializing CPU#<*> audit(<*>:<*>)');
  });

  it('leaves a full stop after a value in the template, but not a path\'s last dot or an ellipsis', () => {
    expect(masked('started on port 55904.')).toBe('started on port <*>.');
    expect(params('started on port 55904.')).toEqual(['55904']);
    expect(masked('enabled on CPU#0. mapped to ffff3000.')).toBe('enabled on CPU#<*>. mapped to <*>.');
    expect(params('enabled on CPU#0.')).toEqual(['0']);
    expect(masked('connect to host-7:8030. done')).toBe('connect to <*>. done');
    expect(masked('wrote /tmp/part-00318. and v2..')).toBe('wrote <*> and <*>');
    expect(params('wrote /tmp/part-00318. and v2..')).toEqual(['/tmp/part-00318.', 'v2..']);
  });

  it('masks true, false and null as values, alone or as the value of a key', () => {
    expect(masked('visible true ready=false,mode=null name=bob')).toBe('visible <*> ready=<*>,mode=<*> name=bob');
  });

  it('reads key="a quoted value" as one token and masks it only when it holds a digit', () => {
    expect(maskMessage('acquire tag="View Lock", name=x').tokens).toEqual(['acquire', 'tag="View Lock",', 'name=x']);
    expect(masked('job tag="batch 42" done')).toBe('job tag="<*>" done');
    // an unclosed quote is an ordinary character
    expect(maskMessage('say tag="open and more').tokens).toEqual(['say', 'tag="open', 'and', 'more']);
  });

  it('leaves words without values untouched', () => {
    expect(masked('Starting quorum peer')).toBe('Starting quorum peer');
    const ps: string[] = [];
    const t = 'plain';
    expect(maskToken(t, ps)).toBe(t);
    expect(ps).toEqual([]);
  });

  it('never overlaps masks: every parameter is a piece of the message, in order', () => {
    const msg = 'GET /api/v1/users/42 from 192.168.1.10:5555 user=alice@example.org took 12.5ms at 2024-01-15 14:23:45 id=blk_-42';
    const { params: ps } = maskMessage(msg);
    let from = 0;
    for (const p of ps) {
      const at = msg.indexOf(p, from);
      expect(at, `parameter ${p} out of order or overlapping`).toBeGreaterThanOrEqual(from);
      from = at + p.length;
    }
  });

  it('keeps the tail of a message beyond maxTokens as one final value', () => {
    const m = maskMessage('a b c d e f g', 4);
    expect(m.tokens).toEqual(['a', 'b', 'c', '<*>']);
    expect(m.params).toEqual(['d e f g']);
    expect(m.truncatedTokens).toBe(true);
  });

  it('handles an empty message and white space only', () => {
    expect(maskMessage('').tokens).toEqual([]);
    expect(maskMessage('   \t ').tokens).toEqual([]);
  });
});
