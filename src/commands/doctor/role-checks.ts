import { SPEND_ROLE_CODES, roleCodesOf } from '../../shared/concur/spend.ts';
import { fail, notChecked, pass, reasonOf, warn, type Check } from './check.ts';
import { unknownRoleUse } from './drop-checks.ts';
import { concurCall, concurMessage, type DoctorEnv } from './env.ts';

// The company's spend role codes (GET /profile/spend/v4/Users/roleCodes) against the codes the
// mapping and the drop use: a code Concur does not have fails that person's whole spend role list.

export async function roleCodesCheck(env: DoctorEnv): Promise<Check> {
  if (!env.token) return notChecked('spend.role-codes', 'no company token (token.grant)');
  let codes: Set<string>;
  try {
    const res = await concurCall(env, { method: 'GET', path: SPEND_ROLE_CODES });
    if (res.status < 200 || res.status >= 300)
      return warn(
        'spend.role-codes',
        `GET ${SPEND_ROLE_CODES}: ${concurMessage(res)}: role codes are not checked before sending; the app needs spend.user.general.read, and the company UPS (ups.reachable)`,
      );
    codes = new Set(roleCodesOf(res.body));
  } catch (err) {
    return warn(
      'spend.role-codes',
      `GET ${SPEND_ROLE_CODES}: ${reasonOf(err)}: role codes are not checked before sending`,
    );
  }
  if (codes.size === 0)
    return warn('spend.role-codes', 'Concur listed no role codes: role codes are not checked before sending');
  const problems: string[] = [];
  const fromMapping = (env.mappingRoles ?? []).filter((c) => !codes.has(c));
  if (fromMapping.length > 0) problems.push(`the mapping file writes ${fromMapping.join(', ')}`);
  const fromDrop = env.dropRoles ? unknownRoleUse(env.dropRoles, codes) : [];
  if (fromDrop.length > 0) problems.push(`the drop uses ${fromDrop.join(', ')}`);
  if (problems.length > 0)
    return fail(
      'spend.role-codes',
      `not among Concur's ${codes.size} role codes: ${problems.join('; ')}; fix the file, or ask the Concur admin to enable the role`,
    );
  const used = new Set([...(env.mappingRoles ?? []), ...(env.dropRoles?.keys() ?? [])]);
  return pass(
    'spend.role-codes',
    `Concur lists ${codes.size} role codes${used.size > 0 ? `; the ${used.size} the mapping and drop use are among them` : ''}`,
  );
}
