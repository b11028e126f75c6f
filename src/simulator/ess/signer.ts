import { createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';

/**
 * The event-signing key. Concur does not document the scheme; we use the reference's guess:
 * base64 RSA-SHA256 (PKCS#1 v1.5) over the raw request body. A fresh key per simulator build.
 */
export interface EventSigner {
  readonly publicKeyPem: string;
  sign(rawBody: string): string;
}

export function createEventSigner(): EventSigner {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return {
    publicKeyPem,
    sign: (rawBody) => signWith(privateKey, rawBody),
  };
}

function signWith(key: KeyObject, rawBody: string): string {
  return sign('sha256', Buffer.from(rawBody, 'utf8'), key).toString('base64');
}

/** Checks a `Concur-Signature` against a PEM public key (what a receiver does). */
export function verifyEventSignature(publicKeyPem: string, rawBody: string | Buffer, signature: string): boolean {
  try {
    return verify(
      'sha256',
      typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody,
      createPublicKey(publicKeyPem),
      Buffer.from(signature, 'base64'),
    );
  } catch {
    return false;
  }
}
