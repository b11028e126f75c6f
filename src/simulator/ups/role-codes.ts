// Concur's Spend role codes (the "Spend Role Codes" page of the UPS reference, summarised in
// docs/concur-api.md#spend-role-codes): what `GET /profile/spend/v4/Users/roleCodes` lists and the
// only codes the Role extension accepts. The pipeline keeps its own list (src/shared/mapping): the
// simulator shares nothing with the client, so a mistake in one is caught by the other.

export type ProductArea = 'Expense' | 'Request' | 'Invoice' | 'Reporting';

export interface SpendRoleCode {
  roleCode: string;
  roleName: string;
  /** The product tabs of User Permissions that list the role. */
  productAreas: ProductArea[];
  /** The role may carry groups (`roleGroups`); without one it applies to the global group. */
  groupAware: boolean;
}

type Row = [code: string, name: string, products: ProductArea[], groupAware: boolean];

const ROWS: Row[] = [
  ['SHD_APP_CENTER_ADMIN', 'App Center Listing Administrator', ['Expense'], false],
  ['EXP_ATTENDEE_ADMIN', 'Attendee Administrator', ['Expense'], true],
  ['EXP_ATTENDEE_ADMIN_RO', 'Attendee Administrator (Read only)', ['Expense'], true],
  ['SHD_AUTHORIZED_APPROVER', 'Authorized Approver', ['Expense'], false],
  ['SHD_BILLING_ATTRIBUTES_USER', 'Billing Attributes User', ['Expense'], false],
  ['SHD_BUDGET_ADMIN', 'Budget Administrator', ['Expense', 'Invoice'], false],
  ['SHD_BUDGET_APPROVER', 'Budget Approver/Manager', ['Expense', 'Invoice'], false],
  ['SHD_BUDGET_OWNER', 'Budget Owner', ['Expense', 'Invoice'], false],
  ['SHD_BUDGET_VIEWER', 'Budget Viewer', ['Expense', 'Invoice'], false],
  ['EXP_PCARD_ADMIN', 'Card Program Administrator', ['Expense'], true],
  ['EXP_PROCESSOR_CR', 'Central Reconciliation Processor', ['Expense'], true],
  ['TRAVEL_USER', 'Cliqbook User', ['Expense'], false],
  ['EXP_CONFIG_ADMIN_CLIENT', 'Client Expense Administrator', ['Expense'], true],
  ['STATEMENT_APPROVER', 'Company Bill Statement Approver', ['Expense'], false],
  ['STATEMENT_PROCESSOR', 'Company Bill Statement Processor', ['Expense'], true],
  ['STATEMENT_PROCESSOR_AUDITOR', 'Company Bill Statement Processor (Audit)', ['Expense'], false],
  ['STATEMENT_PROCESSOR_ADMIN', 'Company Bill Statement Processor Manager', ['Expense'], true],
  ['STATEMENT_USER', 'Company Bill Statement User', ['Expense'], false],
  ['SHD_COMPANY_INFO_ADMIN', 'Company Info Administrator', ['Expense'], false],
  ['SHD_COST_OBJECT_APPROVER', 'Cost Object Approver', ['Expense'], false],
  ['SHD_DATA_RETENTION_ADMIN', 'Data Retention Administrator', ['Expense', 'Request', 'Invoice'], false],
  ['SHD_EMPLOYEE_ADMIN', 'Employee Administrator', ['Expense'], true],
  ['SHD_EMPLOYEE_ADMIN_RO', 'Employee Administrator (Read Only)', ['Expense'], true],
  ['EXP_APPROVER', 'Expense Approver', ['Expense'], false],
  ['EXP_CASHADVANCE_ADMIN', 'Expense Cash Advance Administrator', ['Expense'], true],
  ['EXP_CARD_ADMIN', 'Expense Company Card Administrator', ['Expense'], true],
  ['EXP_CONFIG_ADMIN', 'Expense Configuration Administrator', ['Expense'], true],
  ['EXP_CONFIG_ADMIN_RO', 'Expense Configuration Administrator (Restricted)', ['Expense'], true],
  ['EXP_PROCESSOR', 'Expense Processor', ['Expense'], true],
  ['EXP_PROCESSOR_AUDIT', 'Expense Processor (Audit)', ['Expense'], true],
  ['EXP_PROCESSOR_ADMIN', 'Expense Processor Manager', ['Expense'], true],
  ['EXP_PROXY_USER', 'Expense Proxy Logon', ['Expense'], true],
  ['EXP_RECEIPT_PROCESSOR', 'Expense Receipt Processor', ['Expense'], false],
  ['EXP_USER', 'Expense User', ['Expense'], false],
  ['EXP_EMPLOYEE_ADMIN', 'Employee Admin Permission on Expense Hierarchy', ['Expense'], true],
  ['EXP_FIND_ATTENDEES_USER', 'Employee (while finding attendees)', ['Expense'], false],
  ['EXP_EXTRACT_ADMIN', 'Extract Administrator', ['Expense'], false],
  ['EXP_FB_TAX_ADMIN', 'Fringe Benefits Tax Administrator', ['Expense'], false],
  [
    'SHD_IMPORT_EXTRACT_ADMIN_RO',
    'Import/Extract Monitor (formerly Integration Administrator - Restricted)',
    ['Expense'],
    false,
  ],
  ['SHD_PASSWORD_ADMIN', 'Password Manager', ['Expense'], true],
  ['SHD_PAYROLL_ADMIN', 'Payroll Administrator', ['Expense', 'Invoice'], false],
  ['EXP_REIMBURSEMENT_AUDITOR', 'Reimbursement Auditor', ['Expense'], false],
  ['EXP_REIMBURSEMENT_APPROVER', 'Reimbursement Manager', ['Expense'], true],
  ['SHD_ROLE_ADMIN', 'Role Administrator', ['Expense'], true],
  ['SHD_CONFIG_ADMIN', 'Shared Configuration Administrator', ['Expense'], true],
  ['SHD_CONFIG_ADMIN_RO', 'Shared Configuration Administrator (Restricted)', ['Expense'], true],
  ['SHD_TAX_ADMIN', 'Tax Administrator', ['Expense'], false],
  ['SHD_TAX_ADMIN_RO', 'Tax Administrator (Restricted)', ['Expense'], false],
  ['SHD_TRAINING_ADMIN', 'Training Administrator', ['Expense'], false],
  ['EXP_TRAVEL_AND_EXPENSE_USER', 'Travel and Expense User', ['Expense'], false],
  ['SHD_WEB_SERVICES_ADMIN', 'Web Services Administrator', ['Expense'], false],
  ['REQ_PROCESSOR_ADMIN', 'Request Administrator', ['Request'], true],
  ['REQ_APPROVER', 'Request Approver', ['Request'], false],
  ['REQ_PROCESSOR_AUDIT', 'Request Auditor', ['Request'], true],
  ['REQ_CONFIG_ADMIN', 'Request Configuration Administrator', ['Request'], true],
  ['REQ_CONFIG_ADMIN_RO', 'Request Configuration Administrator (restricted)', ['Request'], true],
  ['REQ_EVENT_ADMIN', 'Request Event Manager', ['Request'], false],
  ['REQ_PROXY_USER', 'Request Proxy Logon', ['Request'], true],
  ['REQ_USER', 'Request User', ['Request'], false],
  ['REQ_RISK_ADMIN', 'Risk Manager', ['Request'], true],
  ['REQ_PROCESSOR', 'TMC Agent', ['Request'], true],
  ['INV_PURCH_RECEIVER', 'Central Receiver', ['Invoice'], true],
  ['INV_IC_VERIFIER', 'Client Managed Capture Verifier', ['Invoice'], false],
  ['INV_EMPLOYEE_ADMIN', 'Employee Admin Permission on Invoice Hierarchy', ['Invoice'], true],
  ['INV_AP_USER', 'Invoice AP User', ['Invoice'], true],
  ['INV_APPROVER', 'Invoice Approver', ['Invoice'], false],
  ['INV_CONFIG_ADMIN', 'Invoice(Payment) Configuration Administrator', ['Invoice'], true],
  ['INV_CONFIG_ADMIN_RO', 'Invoice (Payment) Configuration Administrator (Restricted)', ['Invoice'], true],
  ['INV_PMT_MANAGER', 'Invoice Payment Manager', ['Invoice'], false],
  ['INV_IMAGE_PROCESSOR', 'Invoice Image Processor', ['Invoice'], false],
  ['INV_PROCESSOR', 'Invoice(Payment) Processor', ['Invoice'], true],
  ['INV_PROCESSOR_AUDIT', 'Invoice(Payment) Processor (Audit)', ['Invoice'], true],
  ['INV_PROCESSOR_MANAGER', 'Invoice(Payment) Processor Manager', ['Invoice'], true],
  ['INV_PROXY_USER', 'Invoice(Payment) Proxy Logon', ['Invoice'], true],
  ['INV_PURCH_USER', 'Invoice Purchasing User', ['Invoice'], false],
  ['INV_RECEIPT_PROCESSOR', 'Invoice(Payment) Receipt Processor', ['Invoice'], true],
  ['INV_TAX_ADMIN', 'Invoice Tax Administrator', ['Invoice'], false],
  ['INV_PMT_USER', 'Invoice User', ['Invoice'], false],
  ['INV_VENDOR_ADMIN', 'Invoice Vendor Manager', ['Invoice'], true],
  ['INV_PURCH_ORDER_PROCESSOR', 'Purchase Order Processor', ['Invoice'], true],
  ['INV_PURCH_ORDER_PROCESSOR_AUDIT', 'Purchase Order Processor (Audit)', ['Invoice'], true],
  ['INV_PURCH_REQ_APPROVER', 'Purchase Request Approver', ['Invoice'], false],
  ['INV_PURCH_REQ_PROCESSOR', 'Purchase Request Processor', ['Invoice'], true],
  ['INV_PURCH_REQ_PROCESSOR_AUDIT', 'Purchase Request Processor (Audit)', ['Invoice'], true],
  ['INV_PURCH_REQ_PROXY_USER', 'Purchase Request Proxy Logon', ['Invoice'], true],
  ['INV_PURCH_REQ_USER', 'Purchase Request User', ['Invoice'], false],
  ['INV_RECEIPT_USER', 'Receipt User', ['Invoice'], false],
  ['BUDGET_REPORTING_USER', 'Budget Role for Cognos', ['Reporting'], true],
  ['REPORTING_CAS_ANALYST', 'CAS Analyst', ['Reporting'], true],
  ['REPORTING_BUSINESS_AUTHOR', 'Cognos Business Author', ['Reporting'], true],
  ['REPORTING_CONSUMER', 'Cognos Consumer', ['Reporting'], true],
  ['REPORTING_PRO_AUTHOR', 'Cognos Professional Author', ['Reporting'], true],
  ['REPORTING_CONFIG_ADMIN', 'Consolidation Configuration Administrator', ['Reporting'], false],
  ['REPORTING_HIST_DATA_USER', 'Cognos Hist Data Access', ['Reporting'], false],
  ['REPORTING_DASHBOARD_USER', 'Dashboard User', ['Reporting'], false],
  ['REPORTING_EMPLOYEE_ADMIN', 'Employee Admin Permission on Reporting Hierarchy', ['Reporting'], true],
];

export const SPEND_ROLE_CATALOGUE: readonly SpendRoleCode[] = ROWS.map(
  ([roleCode, roleName, productAreas, groupAware]) => ({
    roleCode,
    roleName,
    productAreas,
    groupAware,
  }),
);

/**
 * Codes granted through an entitlement (Expense, Request, Invoice), not one by one: listed, and
 * accepted in the Role extension (SAP's own examples send EXP_USER there) but never required.
 */
export const ENTITLEMENT_ROLE_CODES: Readonly<Record<string, string>> = {
  EXP_USER: 'Expense',
  REQ_USER: 'Request',
  INV_PMT_USER: 'Invoice',
};

/**
 * Roles a user cannot hold together, as the role notes state them: within each group at most one
 * code (the Expense Processor (Audit) note pairs it with the other expense processor roles).
 */
export const EXCLUSIVE_ROLE_GROUPS: readonly (readonly string[])[] = [
  ['EXP_ATTENDEE_ADMIN', 'EXP_ATTENDEE_ADMIN_RO'],
  ['EXP_CONFIG_ADMIN', 'EXP_CONFIG_ADMIN_RO'],
  ['EXP_PROCESSOR_AUDIT', 'EXP_PROCESSOR'],
  ['EXP_PROCESSOR_AUDIT', 'EXP_PROCESSOR_ADMIN'],
  ['SHD_EMPLOYEE_ADMIN', 'SHD_EMPLOYEE_ADMIN_RO', 'SHD_PASSWORD_ADMIN'],
  ['SHD_CONFIG_ADMIN', 'SHD_CONFIG_ADMIN_RO'],
  ['SHD_TAX_ADMIN', 'SHD_TAX_ADMIN_RO'],
  ['REQ_CONFIG_ADMIN', 'REQ_CONFIG_ADMIN_RO'],
  ['REQ_PROCESSOR_ADMIN', 'REQ_PROCESSOR_AUDIT', 'REQ_PROCESSOR', 'REQ_RISK_ADMIN'],
  ['INV_CONFIG_ADMIN', 'INV_CONFIG_ADMIN_RO'],
  ['INV_PROCESSOR', 'INV_PROCESSOR_AUDIT', 'INV_PROCESSOR_MANAGER'],
  ['REPORTING_BUSINESS_AUTHOR', 'REPORTING_CONSUMER', 'REPORTING_PRO_AUTHOR'],
];

/** Every pair of codes among `codes` that a user cannot hold together. */
export function exclusiveConflicts(codes: readonly string[]): [string, string][] {
  const held = new Set(codes);
  const out: [string, string][] = [];
  for (const group of EXCLUSIVE_ROLE_GROUPS) {
    const present = group.filter((c) => held.has(c));
    for (let i = 1; i < present.length; i += 1) out.push([present[0]!, present[i]!]);
  }
  return out;
}
