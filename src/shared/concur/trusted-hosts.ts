import { ProvError } from '../errors.ts';

/*
 * Where a token or a secret may go (docs/security.md#the-concur-token-in-redis): Concur's own
 * https hosts, the configured CONCUR_BASE_URL's origin (the simulator on this machine, say), and
 * origins an operator lists in CONCUR_TRUSTED_ORIGINS. A geolocation read from Redis or named by a
 * token answer is checked against this before anything is sent there.
 */

const CONCUR_DOMAIN = '.concursolutions.com';

/** The origin of an http(s) URL, or undefined. */
function originOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.origin : undefined;
  } catch {
    return undefined;
  }
}

export class TrustedHosts {
  private readonly origins: Set<string>;

  /** `baseUrl` is CONCUR_BASE_URL; `extra` are CONCUR_TRUSTED_ORIGINS. */
  constructor(baseUrl: string, extra: readonly string[] = []) {
    this.origins = new Set([baseUrl, ...extra].map(originOf).filter((o): o is string => o !== undefined));
  }

  /** Whether `url` may receive our client secret, a refresh token or a bearer token. */
  trusts(url: string): boolean {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return false;
    }
    // Credentials in a URL would be sent along; a real geolocation never has any.
    if (u.username !== '' || u.password !== '') return false;
    if (this.origins.has(u.origin)) return true;
    // https on the default port only: `https://x.concursolutions.com:8443` is not Concur's.
    return u.protocol === 'https:' && u.port === '' && u.hostname.endsWith(CONCUR_DOMAIN);
  }

  /**
   * PROV_ERR_UNTRUSTED_HOST naming where the URL came from. The URL itself is named only by its
   * origin (a path or query could carry anything).
   */
  refusal(url: string, source: string): ProvError {
    const shown = originOf(url) ?? 'a URL that does not parse';
    return new ProvError(
      'PROV_ERR_UNTRUSTED_HOST',
      `${source} points at ${shown}, which is neither https://*${CONCUR_DOMAIN}, CONCUR_BASE_URL nor one of CONCUR_TRUSTED_ORIGINS: nothing was sent there`,
      { details: { untrustedHost: shown, source } },
    );
  }
}
