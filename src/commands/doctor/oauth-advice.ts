/**
 * What to do about a refusal from Concur's token endpoint, by its code (docs/concur-api.md has the
 * code table). The wording names the variable to fix.
 */
export function oauthAdvice(code: number | undefined, grant: 'refresh_token' | 'password' | 'any'): string {
  switch (code) {
    case 61:
      return 'Concur does not know this app: check CONCUR_CLIENT_ID';
    case 64:
    case 5:
    case 19:
      return grant === 'password'
        ? 'check CONCUR_CLIENT_SECRET, that CONCUR_COMPANY_ID is this company’s UUID, and that CONCUR_REQUEST_TOKEN was generated for this app less than 24 h ago'
        : 'check CONCUR_CLIENT_ID and CONCUR_CLIENT_SECRET';
    case 59:
      return 'the app is disabled: ask SAP Concur to enable it';
    case 53:
      return 'the company has not connected this app: the admin generates a company request token for its App ID';
    case 54:
      return 'the app asks for more scopes than the company granted: compare the app’s scopes with docs/going-live.md';
    case 108:
      return 'the refresh token is dead (unused for 6 months, revoked, or rotated by another copy): set CONCUR_REQUEST_TOKEN to a new company request token';
    case 136:
      return 'the request token was issued for another app: generate it with this app’s App ID';
    case 134:
      return 'Concur is in maintenance: run doctor again later';
    default:
      return 'check CONCUR_CLIENT_ID, CONCUR_CLIENT_SECRET, CONCUR_COMPANY_ID and CONCUR_REQUEST_TOKEN';
  }
}
