// Password hashing: scrypt from node:crypto (memory-hard), stored as a PHC-style string that carries its own
// parameters and salt, so the cost can be raised later without invalidating stored hashes.
import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';

/** log2 of scrypt's N for new hashes: N = 2^15 with r = 8 needs 32 MiB per hash. */
export const SCRYPT_LOG_N = 15;
export const SCRYPT_R = 8;
export const SCRYPT_P = 1;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Longest password accepted: longer ones only cost hashing time and are never legitimate. */
export const MAX_PASSWORD_LENGTH = 1024;

// Limits for hashes read back from the database, so a corrupt or hostile row cannot make one login
// allocate gigabytes. Verification accepts cheaper hashes than we make (ln >= 10) for older rows.
const LIMITS = { ln: [10, 20], r: [1, 32], p: [1, 16], salt: [8, 64], key: [16, 64] } as const;

interface Parsed {
  ln: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

function derive(password: string, salt: Buffer, keyLength: number, ln: number, r: number, p: number) {
  const options: ScryptOptions = { N: 2 ** ln, r, p, maxmem: 256 * 2 ** ln * r * p };
  return new Promise<Buffer>((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, keyLength, options, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

const b64 = (buf: Buffer) => buf.toString('base64').replace(/=+$/, '');

function within(value: number, [min, max]: readonly [number, number]): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

export function parseHash(encoded: string): Parsed | undefined {
  const m = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(
    encoded,
  );
  if (!m) return undefined;
  const [ln, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const salt = Buffer.from(m[4] ?? '', 'base64');
  const key = Buffer.from(m[5] ?? '', 'base64');
  const ok =
    within(ln, LIMITS.ln) &&
    within(r, LIMITS.r) &&
    within(p, LIMITS.p) &&
    within(salt.length, LIMITS.salt) &&
    within(key.length, LIMITS.key);
  return ok ? { ln, r, p, salt, key } : undefined;
}

/** Hashes with the given cost (default: the production cost). Lower costs are for tests and benchmarks. */
export async function hashPassword(password: string, logN = SCRYPT_LOG_N): Promise<string> {
  if (!within(logN, LIMITS.ln)) throw new RangeError(`scrypt ln must be ${LIMITS.ln.join('..')}`);
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, KEY_BYTES, logN, SCRYPT_R, SCRYPT_P);
  return `$scrypt$ln=${logN},r=${SCRYPT_R},p=${SCRYPT_P}$${b64(salt)}$${b64(key)}`;
}

let dummy: Promise<Parsed> | undefined;

/** A hash of a random password nobody knows, made once: what unknown users are checked against. */
function dummyHash(): Promise<Parsed> {
  dummy ??= hashPassword(randomBytes(18).toString('base64')).then((h) => parseHash(h) as Parsed);
  return dummy;
}

/**
 * True when the password matches. A missing, malformed or out-of-bounds hash is checked against the dummy
 * hash instead, so that every "no" costs about the same time as a real check and reveals nothing.
 */
export async function verifyPassword(password: string, encoded: string | null | undefined): Promise<boolean> {
  const parsed = encoded ? parseHash(encoded) : undefined;
  const target = parsed ?? (await dummyHash());
  const tooLong = password.length > MAX_PASSWORD_LENGTH;
  const candidate = await derive(
    tooLong ? '' : password,
    target.salt,
    target.key.length,
    target.ln,
    target.r,
    target.p,
  );
  const equal = timingSafeEqual(candidate, target.key);
  return equal && parsed !== undefined && !tooLong;
}

/** Makes the dummy hash now, so the first unknown-user login is not the one that pays for it. */
export async function warmUpPasswords(): Promise<void> {
  await dummyHash();
}
