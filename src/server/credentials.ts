/**
 * Passwords and API keys, with node:crypto only (no home-made crypto):
 * - passwords: scrypt with a random salt; the parameters are stored with the hash
 *   (`scrypt$N$r$p$salt$hash`, base64), so they can be raised later without breaking old hashes;
 * - API keys: 32 random bytes (`vgl_` + base64url), stored as their sha256; shown once.
 */
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

function scrypt(password: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

// OWASP's scrypt floor is N=2^17 r=8 p=1 for interactive logins on a server; 2^15 keeps a login
// under ~100 ms on a small machine while staying far beyond brute force for real passwords
const N = 1 << 15;
const R = 8;
const P = 1;
const KEYLEN = 32;
const maxmem = (n: number, r: number): number => 128 * n * r * 2;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, KEYLEN, { N, r: R, p: P, maxmem: maxmem(N, R) });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [n, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (![n, r, p].every((x) => Number.isInteger(x) && x > 0) || n > 1 << 20) return false;
  const salt = Buffer.from(parts[4]!, 'base64');
  const want = Buffer.from(parts[5]!, 'base64');
  const got = await scrypt(password, salt, want.length, { N: n, r, p, maxmem: maxmem(n, r) });
  return got.length === want.length && timingSafeEqual(got, want);
}

/** A hash to compare against when the project does not exist, so a wrong name takes as long as a wrong password. */
export const DUMMY_PASSWORD_HASH = `scrypt$${N}$${R}$${P}$${Buffer.alloc(16).toString('base64')}$${Buffer.alloc(KEYLEN).toString('base64')}`;

export const API_KEY_PREFIX = 'vgl_';

export function newApiKey(): { key: string; hash: string; prefix: string } {
  const key = API_KEY_PREFIX + randomBytes(32).toString('base64url');
  return { key, hash: hashApiKey(key), prefix: key.slice(0, API_KEY_PREFIX.length + 6) };
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}
