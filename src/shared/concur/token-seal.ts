import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { ProvError } from '../errors.ts';

/*
 * The company token is stored sealed (docs/security.md#the-concur-token-in-redis): AES-256-GCM
 * with a random 96-bit IV per write and the Redis key name as additional data, so a record copied
 * under another company's key, altered, or written with another key fails to open instead of
 * being used.
 */

/** What a sealed record holds; the geolocation is inside, so nobody without the key can move it. */
export interface SealedToken {
  accessToken: string;
  refreshToken: string | undefined;
  geolocation: string;
  expiresAt: number;
  refreshAt: number;
}

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A 32-byte key as base64 (44 characters with its `=`, or 43 without) or hex (64 characters). */
export function decodeTokenKey(text: string): Buffer | undefined {
  const value = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/]{43}=?$/.test(value)) {
    const key = Buffer.from(value, 'base64');
    return key.length === 32 ? key : undefined;
  }
  return undefined;
}

/**
 * The key when TOKEN_ENCRYPTION_KEY is unset, which config allows only against a simulator on this
 * machine: derived from the client and company ids, so every process of one setup agrees on it
 * whatever else it is given. It protects nothing (the ids are not secret), and needs not: a
 * simulator's tokens open nothing real; the record keeps one format everywhere.
 */
export function localTokenKey(clientId: string, companyId: string): Buffer {
  return Buffer.from(hkdfSync('sha256', `${clientId}:${companyId}`, 'provision-token-store', 'local simulator', 32));
}

export class TokenSealer {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new ProvError('PROV_ERR_CONFIG', 'TOKEN_ENCRYPTION_KEY must be 32 bytes');
  }

  /** `v1.<base64url of iv | tag | ciphertext>`, bound to `context` (the Redis key name). */
  seal(token: SealedToken, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context));
    const payload = JSON.stringify({
      a: token.accessToken,
      r: token.refreshToken ?? null,
      g: token.geolocation,
      e: token.expiresAt,
      f: token.refreshAt,
    });
    const body = Buffer.concat([cipher.update(payload, 'utf8'), cipher.final()]);
    return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
  }

  /** The record, or undefined when it does not open (another key, altered, or not ours). */
  open(sealed: string, context: string): SealedToken | undefined {
    const [version, data] = sealed.split('.', 2);
    if (version !== VERSION || data === undefined) return undefined;
    const raw = Buffer.from(data, 'base64url');
    if (raw.length <= IV_BYTES + TAG_BYTES) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      const text = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString();
      const p = JSON.parse(text) as { a?: unknown; r?: unknown; g?: unknown; e?: unknown; f?: unknown };
      if (typeof p.a !== 'string' || typeof p.g !== 'string' || typeof p.e !== 'number' || typeof p.f !== 'number')
        return undefined;
      return {
        accessToken: p.a,
        refreshToken: typeof p.r === 'string' ? p.r : undefined,
        geolocation: p.g,
        expiresAt: p.e,
        refreshAt: p.f,
      };
    } catch {
      return undefined;
    }
  }

  /**
   * Names a refresh token without revealing it: the write script compares it with the stored one
   * (a keyed hash, so a reader of Redis cannot test guesses against it).
   */
  refreshTag(refreshToken: string): string {
    return createHmac('sha256', this.key).update(`refresh-token:${refreshToken}`).digest('hex');
  }
}
