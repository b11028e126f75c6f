import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/shared/logger.ts';

function capture(): { stream: Writable; lines: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return { stream, lines: () => chunks.join('') };
}

describe('logger redaction', () => {
  it('redacts tokens, secrets, emails and names at any of the first levels', () => {
    const out = capture();
    const log = createLogger({ level: 'info' }, out.stream);
    log.info(
      {
        access_token: 'tok-AAA',
        auth: { refresh_token: 'tok-BBB', client_secret: 'sec-CCC' },
        user: {
          userName: 'jane@example.com',
          name: { givenName: 'Jane', familyName: 'Roe' },
          emails: [{ value: 'jane@example.com' }],
        },
        headers: { authorization: 'Bearer tok-DDD' },
        row: 12,
      },
      'call',
    );
    const text = out.lines();
    for (const secret of ['tok-AAA', 'tok-BBB', 'sec-CCC', 'jane@example.com', 'Jane', 'Roe', 'tok-DDD']) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain('"row":12');
    expect(text).toContain('[redacted]');
  });
});
