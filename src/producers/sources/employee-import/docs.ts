import { ROLE_CODES, TRANSLATIONS } from './codes.ts';
import { LAYOUTS, UNSUPPORTED, type Target } from './layouts.ts';

/*
 * The tables of docs/employee-import.md, rendered from the layouts and the code tables so the doc
 * says exactly what the code does (a unit test compares them).
 */

const SHORT: Record<string, string> = {
  'urn:ietf:params:scim:schemas:extension:': '',
};

function where(t: Target): string {
  switch (t.to) {
    case 'key':
      return 'the person (`employeeNumber`)';
    case 'identity':
      return t.field === 'sapUserUuid'
        ? '`sap:2.0:User:userUuid`'
        : `\`${['middleName', 'honorificPrefix', 'honorificSuffix', 'givenName', 'familyName'].includes(t.field) ? `name.${t.field}` : t.field === 'email' ? 'emails[work]' : t.field}\``;
    case 'phone':
      return `\`phoneNumbers[${t.type}]\``;
    case 'phoneExtension':
      return 'appended to the work phone as `;ext=`';
    case 'address':
      return `\`addresses[${t.type}].${t.sub}\``;
    case 'email':
      return `\`emails[${t.type}]\``;
    case 'entitlement':
      return `entitlement \`${t.name}\``;
    case 'travelUser':
      return 'entitlement `Travel` (option `travelUser`: or role `TRAVEL_USER`)';
    case 'spend':
      return `\`spend:User:${t.attr}\``;
    case 'custom':
      return `\`spend:User:customData[${t.id}]\``;
    case 'pref':
      return `\`spend:${t.urn}:${t.attr}\``;
    case 'payroll':
      return `\`Payroll:adp.${t.attr}\``;
    case 'role':
      return `role \`${t.code}\` (Y adds, N removes)`;
    case 'approver':
      return `\`spend:Approver:${t.kind}\` (${t.primary ? 'primary' : 'second'})`;
    case 'biManager':
      return '`spend:User:biManager`';
    case 'travel':
      return `\`travel:User:${t.attr === 'ruleClass' ? 'ruleClass.name' : t.attr}\``;
    case 'travelName':
      return '`travel:User:name.hasNoMiddleName`';
    case 'travelManager':
      return '`travel:User:manager`';
    case 'travelCustom':
      return '`travel:User:customFields` (`Name=Value`)';
    case 'password':
      return 'not sent (one warning per drop)';
    case 'none':
      return `not sent: ${t.why}`;
  }
}

function shorten(s: string): string {
  let out = s;
  for (const [long, short] of Object.entries(SHORT)) out = out.replaceAll(long, short);
  return out;
}

/** Per record type: every field that goes somewhere (Future Use fields left out). */
export function renderMappingTable(): string {
  const out: string[] = [];
  const l305 = LAYOUTS.get('305')!;
  for (const [type, layout] of LAYOUTS) {
    // The 300 is the 305's first 86 fields: only where it differs.
    const differs = (position: number, name: string) => type !== '300' || l305.fields[position - 1]?.name !== name;
    out.push(`#### ${type} ${layout.sapName}: ${layout.what} (${layout.fields.length} fields)`, '');
    if (type === '300') out.push('Fields 1-86 of the 305, except:', '');
    out.push('| # | field | v4 target |', '| --- | --- | --- |');
    for (const f of layout.fields) {
      if (f.position === 1 || (f.target.to === 'none' && f.target.why === 'Future Use')) continue;
      if (!differs(f.position, f.name)) continue;
      out.push(`| ${f.position} | ${f.name} | ${shorten(where(f.target))} |`);
    }
    out.push('');
  }
  return out.join('\n');
}

export function renderUnsupportedTable(): string {
  const out = ['| type | SAP record | what |', '| --- | --- | --- |'];
  for (const [type, u] of UNSUPPORTED) out.push(`| ${type} | ${u.sapName} | ${u.what} |`);
  return out.join('\n');
}

export function renderTranslationTable(): string {
  const out = ['| what | legacy | v4 |', '| --- | --- | --- |'];
  for (const [what, table] of Object.entries(TRANSLATIONS)) {
    for (const [from, to] of Object.entries(table)) out.push(`| ${what} | \`${from}\` | \`${String(to)}\` |`);
  }
  for (const [from, to] of Object.entries(ROLE_CODES)) out.push(`| 400 role | \`${from}\` | \`${to}\` |`);
  return out.join('\n');
}
