import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { TEMPLATE_COLUMNS, resolveTemplateColumn } from '../../../src/shared/mapping/index.ts';

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
