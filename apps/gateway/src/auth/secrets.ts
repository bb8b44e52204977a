import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number, options: object) => Promise<Buffer>;
const PARAMS = { N: 16_384, r: 8, p: 1 };

/** `scrypt$<salt>$<hash>`, both base64url: a slow hash, so a stolen table does not give the passwords away. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, 32, PARAMS);
  return `scrypt$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64url'), expected.length, PARAMS);
  return timingSafeEqual(actual, expected);
}

/** API keys are long random strings; a fast hash is enough to keep them out of the table. */
export const newApiKey = (): string => `gj_${randomBytes(24).toString('base64url')}`;
export const hashApiKey = (key: string): string => createHash('sha256').update(key).digest('hex');
export const newPassword = (): string => randomBytes(15).toString('base64url');
