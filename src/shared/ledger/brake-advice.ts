/*
 * What the failure brake tells the operator to check, by the error code most of the drop's failed
 * rows carry (docs/safety.md#the-failure-brake). A Concur outage is not a mapping problem: the
 * advice follows the cause. Rendered into the ledger's Lua prelude (scripts.ts).
 */

/** Advice per error code (our PROV_ERR_* codes, or a row state for failures without one). */
export const BRAKE_ADVICE: Readonly<Record<string, string>> = {
  PROV_ERR_RETRYABLE:
    "Concur kept failing or timing out (5xx, 408, network errors): check Concur's status and the network to CONCUR_BASE_URL; the rows are not at fault",
  PROV_ERR_RATE_LIMITED:
    'Concur kept answering 429: lower IDENTITY_MAX_RPS / UPS_MAX_RPS or run fewer workers, and ask SAP about the limits',
  PROV_ERR_AUTH:
    "Concur refused the credentials: check CONCUR_CLIENT_ID, CONCUR_CLIENT_SECRET and the company's refresh token (provision doctor)",
  PROV_ERR_RESPONSE:
    'Concur answered with bodies we could not read: check that CONCUR_BASE_URL is the Concur API of your data center',
  PROV_ERR_INVALID:
    "Concur rejected the rows' data: check the mapping and the values the report names (provision report DROP --states identity_failed,extension_failed)",
  PROV_ERR_NOT_FOUND:
    'Concur lacks people or items the rows refer to (managers, approvers, list items): check they exist, or are earlier in the file',
  PROV_ERR_CONFLICT: "Concur holds other people with the rows' userName or employeeNumber: check the file's keys",
  PROV_ERR_IDENTITY_CONFLICT:
    "the rows' userName and employeeNumber point at different Concur people: check the file's keys",
  PROV_ERR_USERNAME_TAKEN:
    "another Concur company holds the rows' userNames: check the userName convention (e.g. the e-mail domain)",
  PROV_ERR_INPUT: 'the rows failed validation: check the mapping and the file',
  PROV_ERR_INTERNAL: 'the workers failed the rows: check the worker logs',
  timed_out:
    "Concur did not finish the rows' provisions in time: check Concur's status; replay the rows later (provision replay DROP)",
};

/** For an error code that is Concur's own (an extension's message code) or not listed above. */
export const BRAKE_ADVICE_DEFAULT =
  "check the rows' messages in the report (provision report DROP --states identity_failed,extension_failed,timed_out) and the mapping";

/** The advice for a dominant error code. */
export function brakeAdvice(code: string): string {
  return BRAKE_ADVICE[code] ?? BRAKE_ADVICE_DEFAULT;
}
