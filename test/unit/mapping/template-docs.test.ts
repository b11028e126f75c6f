import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import {
  TEMPLATE_COLUMNS,
  compileMapping,
  prepareRow,
  resolveTemplateColumn,
} from '../../../src/shared/mapping/index.ts';
import { DROP_ENCODINGS } from '../../../src/shared/mapping/encodings.ts';

const DOC = readFileSync(new URL('../../../docs/template.md', import.meta.url), 'utf8');

it('docs/template.md documents every template column', () => {
  const missing = TEMPLATE_COLUMNS.map((c) => c.name).filter((name) => !DOC.includes(`\`${name}\``));
  expect(missing).toEqual([]);
});

it('the template has the columns issue 4 lists, matched case-insensitively', () => {
  expect(TEMPLATE_COLUMNS.map((c) => c.name).slice(0, 17)).toEqual([
    'userName',
    'givenName',
    'familyName',
    'middleName',
    'email',
    'employeeNumber',
    'active',
    'externalId',
    'title',
    'timezone',
    'preferredLanguage',
    'costCenter',
    'department',
    'division',
    'startDate',
    'terminationDate',
    'managerEmployeeNumber',
  ]);
  expect(TEMPLATE_COLUMNS).toHaveLength(20 + 8 + 28 + 3);
  expect(resolveTemplateColumn(' SPEND.CUSTOMDATA.ORGUNIT6 ')?.name).toBe('spend.customData.orgUnit6');
  expect(resolveTemplateColumn('spend.customData.custom23')).toBeUndefined();
});

it('docs/template.md says what validation accepts for roles without a spend user, and what Concur then does', () => {
  const mapper = compileMapping();
  const base = {
    userName: 'ada@example.com',
    givenName: 'Ada',
    familyName: 'Lovelace',
    email: 'ada@example.com',
    employeeNumber: '1001',
  };
  // Roles alone validate (the person may already have a spend user in Concur)...
  expect(prepareRow(2, { ...base, 'spend.roles': 'EXP_USER' }, mapper).ok).toBe(true);
  // ...a spend user field without the three required ones does not.
  expect(prepareRow(2, { ...base, 'spend.country': 'US' }, mapper).ok).toBe(false);
  const doc = DOC.replace(/\s+/g, ' ');
  expect(doc).toContain('Validation accepts roles or an approver without spend user columns');
  expect(doc).toContain('flags such rows `SPEND_USER_REQUIRED`');
  // The flag the doc names exists in the plan's list (docs/safety.md).
  expect(readFileSync(new URL('../../../docs/safety.md', import.meta.url), 'utf8')).toContain('`SPEND_USER_REQUIRED`');
});

it('docs/template.md names every encoding --encoding accepts', () => {
  for (const e of DROP_ENCODINGS.filter((x) => x !== 'auto' && !x.startsWith('utf')))
    expect(DOC.replace(/\s+/g, ' ')).toContain(`\`${e === 'latin1' ? 'latin1' : `--encoding ${e}`}\``);
});
