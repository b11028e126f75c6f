/**
 * The default drop template: the column names a drop uses when it comes without a mapping file,
 * and the names a mapping file renames to. docs/template.md documents each column (a unit test
 * keeps the two in step).
 */

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const SPEND_USER = 'urn:ietf:params:scim:schemas:extension:spend:2.0:User';
const SPEND_ROLE = 'urn:ietf:params:scim:schemas:extension:spend:2.0:Role';
const SPEND_APPROVER = 'urn:ietf:params:scim:schemas:extension:spend:2.0:Approver';
const TRAVEL_USER = 'urn:ietf:params:scim:schemas:extension:travel:2.0:User';

export type ColumnKind = 'text' | 'boolean' | 'date' | 'list';

export interface TemplateColumn {
  name: string;
  /** Where the value lands in Concur (SCIM attribute path). */
  concur: string;
  kind: ColumnKind;
  required?: boolean;
}

/** The `spend:2.0:User` attributes a row carries (besides `customData`), as `SpendData` keys. */
export const SPEND_USER_FIELDS = [
  'country',
  'reimbursementCurrency',
  'locale',
  'ledgerCode',
  'stateProvince',
  'cashAdvanceAccountCode',
] as const;

/** Concur's spend custom fields: `spend.customData.<id>` columns. */
export const CUSTOM_DATA_IDS: readonly string[] = [
  ...Array.from({ length: 22 }, (_, i) => `custom${i + 1}`),
  ...Array.from({ length: 6 }, (_, i) => `orgUnit${i + 1}`),
];

const col = (name: string, concur: string, kind: ColumnKind = 'text', required = false): TemplateColumn =>
  required ? { name, concur, kind, required } : { name, concur, kind };

export const IDENTITY_COLUMNS: readonly TemplateColumn[] = [
  col('userName', 'userName', 'text', true),
  col('givenName', 'name.givenName', 'text', true),
  col('familyName', 'name.familyName', 'text', true),
  col('middleName', 'name.middleName'),
  col('email', 'emails[type eq "work"].value', 'text', true),
  col('employeeNumber', `${ENTERPRISE}:employeeNumber`, 'text', true),
  col('active', 'active', 'boolean'),
  col('externalId', 'externalId'),
  col('title', 'title'),
  col('timezone', 'timezone'),
  col('preferredLanguage', 'preferredLanguage'),
  col('costCenter', `${ENTERPRISE}:costCenter`),
  col('department', `${ENTERPRISE}:department`),
  col('division', `${ENTERPRISE}:division`),
  col('startDate', `${ENTERPRISE}:startDate`, 'date'),
  col('terminationDate', `${ENTERPRISE}:terminationDate`, 'date'),
  col('managerEmployeeNumber', `${ENTERPRISE}:manager.value (resolved from the manager's employeeNumber)`),
  // An explicit change of a person's key (docs/matching.md): the value Concur holds now.
  col(
    'previousEmployeeNumber',
    `(matching) the person's current ${ENTERPRISE}:employeeNumber, changed to employeeNumber`,
  ),
  col('previousUserName', "(matching) the person's current userName, changed to userName"),
  // When the row's data is true in the HR system: an older row never undoes a newer one (docs/safety.md).
  col('asOf', '(ordering) never sent: the time the row is as of'),
];

export const SPEND_COLUMNS: readonly TemplateColumn[] = [
  col('spend.country', `${SPEND_USER}:country`),
  col('spend.reimbursementCurrency', `${SPEND_USER}:reimbursementCurrency`),
  col('spend.locale', `${SPEND_USER}:locale`),
  col('spend.ledgerCode', `${SPEND_USER}:ledgerCode`),
  col('spend.stateProvince', `${SPEND_USER}:stateProvince`),
  col('spend.cashAdvanceAccountCode', `${SPEND_USER}:cashAdvanceAccountCode`),
  col('spend.roles', `${SPEND_ROLE}:roles[].roleName`, 'list'),
  col('spend.reportApproverEmployeeNumber', `${SPEND_APPROVER}:report[primary].approver.employeeNumber`),
  ...CUSTOM_DATA_IDS.map((id) => col(`spend.customData.${id}`, `${SPEND_USER}:customData[id eq "${id}"].value`)),
];

export const TRAVEL_COLUMNS: readonly TemplateColumn[] = [
  col('travel.ruleClass', `${TRAVEL_USER}:ruleClass.id (digits) or ruleClass.name`),
  col('travel.groups', `${TRAVEL_USER}:groups`, 'list'),
  col('travel.managerEmployeeNumber', `${TRAVEL_USER}:manager.employeeNumber`),
];

export const TEMPLATE_COLUMNS: readonly TemplateColumn[] = [...IDENTITY_COLUMNS, ...SPEND_COLUMNS, ...TRAVEL_COLUMNS];

export const REQUIRED_COLUMNS: readonly string[] = TEMPLATE_COLUMNS.filter((c) => c.required).map((c) => c.name);

const byLowerName = new Map(TEMPLATE_COLUMNS.map((c) => [c.name.toLowerCase(), c] as const));

/**
 * The template column a header names, matched case-insensitively after trimming
 * (`UserName`, ` email ` and `Spend.Country` all resolve). Undefined when it is not a template column.
 */
export function resolveTemplateColumn(name: string): TemplateColumn | undefined {
  return byLowerName.get(name.trim().toLowerCase());
}
