import { describe, expect, it } from 'vitest';
import { createEventSigner, verifyEventSignature } from '../../../src/simulator/ess/signer.ts';

describe('event signer', () => {
  it('signs the raw body so that only the same bytes verify with the published key', () => {
    const signer = createEventSigner();
    const body = JSON.stringify({ id: 'e1', facts: { success: true } });
    const signature = signer.sign(body);
    expect(verifyEventSignature(signer.publicKeyPem, body, signature)).toBe(true);
    expect(verifyEventSignature(signer.publicKeyPem, body.replace('true', 'false'), signature)).toBe(false);
    expect(verifyEventSignature(createEventSigner().publicKeyPem, body, signature)).toBe(false);
    expect(verifyEventSignature(signer.publicKeyPem, body, 'not-base64-signature')).toBe(false);
  });
});
