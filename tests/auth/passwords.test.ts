import { describe, expect, it } from 'vitest';
import {
  hashPassword,
  MAX_PASSWORD_LENGTH,
  parseHash,
  SCRYPT_LOG_N,
  verifyPassword,
} from '../../src/auth/passwords.js';

describe('password hashes', () => {
  it('uses scrypt with N=2^15, r=8, p=1 and a random salt, in a self-describing string', async () => {
    const a = await hashPassword('hunter22');
    const b = await hashPassword('hunter22');
    expect(SCRYPT_LOG_N).toBe(15);
    expect(a).toMatch(/^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(a).not.toBe(b); // salted
    expect(a).not.toContain('hunter22');
    expect(parseHash(a)).toMatchObject({ ln: 15, r: 8, p: 1 });
  });

  it('verifies the right password and refuses a wrong one', async () => {
    const hash = await hashPassword('s3cret pass');
    expect(await verifyPassword('s3cret pass', hash)).toBe(true);
    expect(await verifyPassword('s3cret pasS', hash)).toBe(false);
    expect(await verifyPassword('', hash)).toBe(false);
  });

  it('treats composed and decomposed Unicode spellings as one password', async () => {
    const hash = await hashPassword('caf\u00e9', 10);
    expect(await verifyPassword('cafe\u0301', hash)).toBe(true);
  });

  it('says no, after a full hash, for a missing, malformed or hostile stored hash', async () => {
    for (const stored of [
      null,
      undefined,
      '',
      'plaintext',
      '$scrypt$ln=15,r=8,p=1$$',
      '$scrypt$ln=30,r=8,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5', // 2^30: would need 128 GiB
      '$scrypt$ln=15,r=99,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5',
      '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA',
    ]) {
      expect(await verifyPassword('anything', stored)).toBe(false);
    }
  });

  it('refuses passwords over the length limit without hashing them', async () => {
    const long = 'x'.repeat(MAX_PASSWORD_LENGTH + 1);
    const hash = await hashPassword(long, 10);
    expect(await verifyPassword(long, hash)).toBe(false);
  });

  it('accepts cheaper stored hashes within bounds and refuses to make ones below them', async () => {
    const cheap = await hashPassword('pw', 10);
    expect(cheap.startsWith('$scrypt$ln=10,')).toBe(true);
    expect(await verifyPassword('pw', cheap)).toBe(true);
    await expect(hashPassword('pw', 4)).rejects.toThrow(RangeError);
  });
});
