import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/shared/config.ts';
import { isProvError } from '../../../src/shared/errors.ts';
import {
  createConcurClient,
  MemoryTokenStore,
  type HttpRequest,
  type HttpResponse,
  type HttpTransport,
} from '../../../src/shared/concur/index.ts';

const SECRETS = {
  clientSecret: 'CLIENT-SECRET-c0ffee',
  requestToken: 'REQUEST-TOKEN-beef01',
  refreshToken: 'REFRESH-TOKEN-cafe02',
};
const issuedAccess = ['ACCESS-TOKEN-aaa111', 'ACCESS-TOKEN-bbb222', 'ACCESS-TOKEN-eee555'];
const issuedRefresh = ['REFRESH-TOKEN-ccc333', 'REFRESH-TOKEN-ddd444', 'REFRESH-TOKEN-fff666'];
const allSecrets = [...Object.values(SECRETS), ...issuedAccess, ...issuedRefresh];

/** An in-memory Concur: token grants, one 401, then assorted errors echoing nothing secret. */
class FakeConcur implements HttpTransport {
  grants = 0;
  apiCalls = 0;
  requests: HttpRequest[] = [];

  async request(req: HttpRequest): Promise<HttpResponse> {
    this.requests.push(req);
    const reply = (status: number, body: unknown): HttpResponse => ({
      status,
      headers: {},
      body,
      correlationId: `corr-${this.requests.length}`,
      path: req.path ?? '/',
    });
    if (req.path === '/oauth2/v0/token') {
      if (req.form?.refresh_token === SECRETS.refreshToken)
        return reply(400, { error: 'invalid_grant', error_description: 'bad or expired refresh token', code: 108 });
      const i = this.grants++;
      return reply(200, {
        access_token: issuedAccess[i],
        refresh_token: issuedRefresh[i],
        expires_in: '3600',
        geolocation: 'https://us.api.concursolutions.com',
      });
    }
    this.apiCalls += 1;
    if (this.apiCalls === 1) return reply(401, { status: '401' });
    if (this.apiCalls === 2) return reply(200, { id: 'u-1', userName: 'someone@example.com' });
    if (this.apiCalls === 3)
      return reply(400, {
        status: '400',
        detail: 'Invalid attribute',
        'urn:ietf:params:scim:api:messages:concur:2.0:Error': {
          messages: [{ code: 'INVALID_INPUT', message: 'bad', schemaPath: 'title' }],
        },
      });
    return reply(401, { status: '401' });
  }

  async close(): Promise<void> {}
}

describe('secrets stay out of logs and errors', () => {
  it('no credential or token appears in any log line (trace level, no redaction) or error', async () => {
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk.toString());
        cb();
      },
    });
    // A bare pino without redaction: the client itself must never hand a secret to the logger.
    const log = pino({ level: 'trace' }, stream);
    const config = loadConfig({
      CONCUR_CLIENT_SECRET: SECRETS.clientSecret,
      CONCUR_REQUEST_TOKEN: SECRETS.requestToken,
      CONCUR_REFRESH_TOKEN: SECRETS.refreshToken,
    });
    const fake = new FakeConcur();
    const client = createConcurClient({ config, log, transport: fake, tokenStore: new MemoryTokenStore() });

    const errors: unknown[] = [];
    const user = await client.identity.get('u-1'); // refused refresh token → request token; 401 → refresh → 200
    expect(user.id).toBe('u-1');
    await client.identity
      .patch('u-1', { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [] })
      .catch((e: unknown) => errors.push(e));
    await client.identity.get('u-1').catch((e: unknown) => errors.push(e)); // 401, refresh, 401 → auth

    // The secrets were really used (so the test could have caught a leak).
    expect(
      fake.requests.some(
        (r) => r.form?.client_secret === SECRETS.clientSecret && r.form.password === SECRETS.requestToken,
      ),
    ).toBe(true);
    expect(fake.requests.some((r) => r.headers?.authorization === `Bearer ${issuedAccess[1]}`)).toBe(true);
    expect(errors.map((e) => (isProvError(e) ? e.code : e))).toEqual(['PROV_ERR_INVALID', 'PROV_ERR_AUTH']);

    const text = chunks.join('');
    expect(text).toContain('concur token obtained');
    expect(text).toContain('concur answered 401');
    const errorText = errors
      .map((e) =>
        isProvError(e) ? `${e.message} ${JSON.stringify(e.toJSON())} ${JSON.stringify(e.details)}` : String(e),
      )
      .join('\n');
    for (const secret of allSecrets) {
      expect(text).not.toContain(secret);
      expect(errorText).not.toContain(secret);
    }
    await client.close();
  });
});
