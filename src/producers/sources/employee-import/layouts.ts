/*
 * SAP Concur's legacy "Employee Import" flat file (feed StandardEmployeeImport): every record type,
 * its fixed field count and, for the types with a v4 equivalent, where each field goes. The field
 * names are SAP's, so a line error names the field as the customer's own spec does. docs/employee-import.md
 * shows this table (a unit test keeps the two in step).
 */

/** How a cell is read. */
export type FieldFormat =
  | 'text' // trimmed text, at most `max` characters
  | 'yn' // Y or N
  | 'date' // YYYYMMDD
  | 'locale' // en_US (or en-US)
  | 'country' // ISO 3166 alpha-2; UK means GB
  | 'subcode' // US-WA or WA
  | 'currency' // ISO 4217 alpha (USD) or numeric (840)
  | 'gender' // M or F
  | 'audit' // REQ, ALW or NVR
  | 'reimbursement' // ADPPAYR, CNQRPAY, APCHECK or PMTSERV
  | 'prefix' // Lord, Lady, Sir, Mr, Miss, Ms, Mrs, Dr, Rev, Prof
  | 'suffix' // Jr., Sr., I .. VI
  | 'login' // user@domain without Concur's forbidden characters
  | 'email'
  | 'employee' // an employee ID (48)
  | 'namevalue' // Name=Value (travel custom fields)
  | 'globalid' // SAP Global ID
  | 'number' // 10000.00
  | 'int';

/** Where a field's value goes. `why` explains fields that go nowhere. */
export type Target =
  | { to: 'key' }
  | { to: 'identity'; field: IdentityField; clearable?: boolean }
  | { to: 'phone'; type: string }
  | { to: 'phoneExtension' }
  | { to: 'address'; type: 'home' | 'work'; sub: 'streetAddress' | 'locality' | 'region' | 'postalCode' | 'country' }
  | { to: 'email'; type: string }
  | { to: 'entitlement'; name: 'Expense' | 'Invoice' | 'Request' | 'Travel' }
  | { to: 'travelUser' }
  | { to: 'spend'; attr: string; clearable?: boolean }
  | { to: 'custom'; id: string }
  | { to: 'pref'; urn: PreferenceUrn; attr: string }
  | { to: 'payroll'; attr: 'employeeFileNumber' | 'companyCode' | 'deductionCode' }
  | { to: 'role'; code: string }
  | { to: 'approver'; kind: string; primary: boolean }
  | { to: 'biManager' }
  | { to: 'travel'; attr: string }
  | { to: 'travelName'; attr: 'hasNoMiddleName' }
  | { to: 'travelManager' }
  | { to: 'travelCustom' }
  | { to: 'password' }
  | { to: 'none'; why: string };

export type IdentityField =
  | 'givenName'
  | 'middleName'
  | 'familyName'
  | 'userName'
  | 'email'
  | 'active'
  | 'nickName'
  | 'honorificPrefix'
  | 'honorificSuffix'
  | 'dateOfBirth'
  | 'title'
  | 'preferredLanguage'
  | 'sapUserUuid';

export type PreferenceUrn = 'WorkflowPreference' | 'UserPreference' | 'InvoicePreference';

export interface FieldSpec {
  /** 1-based position in the record. */
  position: number;
  name: string;
  format: FieldFormat;
  /** Longest value, in characters (the spec's length). */
  max?: number;
  /** The spec marks it required (Y). */
  required?: boolean;
  target: Target;
}

export interface RecordLayout {
  type: string;
  /** SAP's record ID. */
  sapName: string;
  what: string;
  fields: FieldSpec[];
}

type Def = [name: string, format: FieldFormat, target: Target, max?: number, required?: boolean];

function layout(type: string, sapName: string, what: string, defs: Def[]): RecordLayout {
  return {
    type,
    sapName,
    what,
    fields: defs.map(([name, format, target, max, required], i) => ({
      position: i + 1,
      name,
      format,
      target,
      ...(max === undefined ? {} : { max }),
      ...(required ? { required } : {}),
    })),
  };
}

const NONE = (why: string): Target => ({ to: 'none', why });
const FUTURE: Target = NONE('Future Use');
const TYPE: Def = ['Transaction Type', 'text', NONE('record type')];
const id = (name = 'Employee ID'): Def => [name, 'employee', { to: 'key' }, 48, true];
const future = (from: number, to: number, label = 'Future Use'): Def[] =>
  Array.from({ length: to - from + 1 }, (_, i): Def => [`${label} ${from + i}`, 'text', FUTURE]);
const identity = (field: IdentityField, clearable = false): Target =>
  clearable ? { to: 'identity', field, clearable } : { to: 'identity', field };
const spend = (attr: string, clearable = false): Target =>
  clearable ? { to: 'spend', attr, clearable } : { to: 'spend', attr };
const wf = (attr: string): Target => ({ to: 'pref', urn: 'WorkflowPreference', attr });
const up = (attr: string): Target => ({ to: 'pref', urn: 'UserPreference', attr });
const inv = (attr: string): Target => ({ to: 'pref', urn: 'InvoicePreference', attr });
const role = (code: string): Target => ({ to: 'role', code });
const approver = (kind: string, primary = true): Target => ({ to: 'approver', kind, primary });
const yn = (name: string, target: Target): Def => [name, 'yn', target, 1];

/** Fields 1..86 of the 305, which the 300 shares (with the meanings it differs in patched below). */
function employeeFields(): Def[] {
  return [
    TYPE,
    ['First Name', 'text', identity('givenName'), 32, true],
    ['Middle Name', 'text', identity('middleName', true), 32],
    ['Last Name', 'text', identity('familyName'), 32, true],
    id(),
    ['Login ID', 'login', identity('userName'), 64, true],
    ['Password', 'text', { to: 'password' }],
    ['Email Address', 'email', identity('email'), 255],
    ['Locale Code', 'locale', spend('locale'), 5, true],
    ['Country Code', 'country', spend('country'), 3, true],
    ['Country Sub Code', 'subcode', spend('stateProvince', true), 6],
    ['Ledger Code', 'text', spend('ledgerCode'), 20, true],
    ['Reimbursement Currency Code', 'currency', spend('reimbursementCurrency'), 3, true],
    ['Cash Advance Account Code', 'text', spend('cashAdvanceAccountCode', true), 20],
    ['Active', 'yn', identity('active'), 1, true],
    ...Array.from({ length: 6 }, (_, i): Def => [
      `Organizational Unit ${i + 1}`,
      'text',
      { to: 'custom', id: `orgUnit${i + 1}` },
      48,
    ]),
    ...Array.from({ length: 20 }, (_, i): Def => [
      `Custom ${i + 1}`,
      'text',
      { to: 'custom', id: `custom${i + 1}` },
      48,
    ]),
    ['Employee Custom 21', 'text', { to: 'custom', id: 'custom21' }, 48],
    yn('Send email when the cash advance status changes', wf('emailStatusChangeOnCashAdvance')),
    yn('Send email when a cash advance is awaiting approval', wf('emailAwaitApprovalOnCashAdvance')),
    yn('Send email when the report status changes', wf('emailStatusChangeOnReport')),
    yn('Send email when a report is awaiting approval', wf('emailAwaitApprovalOnReport')),
    yn('Prompt for approver when submitting a report', wf('promptForApproverOnReportSubmit')),
    yn('Send email when the request status changes', wf('emailStatusChangeOnTravelRequest')),
    yn('Send email when a request is awaiting approval', wf('emailAwaitApprovalOnTravelRequest')),
    yn('Prompt for approver when submitting a request', wf('promptForApproverOnTravelRequestSubmit')),
    yn('Send email when the payment status changes', wf('emailStatusChangeOnPayment')),
    yn('Send email when a payment is awaiting approval', wf('emailAwaitApprovalOnPayment')),
    yn('Prompt for approver when submitting a payment', wf('promptForApproverOnPaymentSubmit')),
    yn('Prompt to add company card transactions to report', up('promptForCardTransactionsOnReport')),
    yn('Send email when new company card transactions arrive', up('allowCreditCardTransArrivalEmails')),
    ['Send email when faxed receipts are received (decommissioned)', 'text', NONE('decommissioned by SAP in Nov 2022')],
    yn('Display instructional help on the application pages', up('showInstructHelpPanel')),
    yn('Display imaging introduction page', up('showImagingIntro')),
    ['Employee ID of the Expense Report Approver', 'employee', approver('report'), 48],
    ['Employee ID of the Cash Advance Approver', 'employee', approver('cashAdvance'), 48],
    ['Employee ID of the Request Approver', 'employee', approver('request'), 48],
    ['Employee ID of the Invoice Approver', 'employee', approver('invoice'), 48],
    yn('Expense User', { to: 'entitlement', name: 'Expense' }),
    yn('Expense and/or Cash Advance Approver', role('EXP_APPROVER')),
    yn('Company Card Administrator', role('EXP_CARD_ADMIN')),
    ['Future Use', 'text', FUTURE],
    yn('Receipt Processor', role('EXP_RECEIPT_PROCESSOR')),
    ['Future Use', 'text', FUTURE],
    yn('Import/Extract Monitor', role('SHD_IMPORT_EXTRACT_ADMIN_RO')),
    yn('Company Info Administrator', role('SHD_COMPANY_INFO_ADMIN')),
    yn('Offline User', NONE('no v4 equivalent (SAP: not supported)')),
    yn('Reporting Configuration Administrator', role('REPORTING_CONFIG_ADMIN')),
    yn('Invoice User', { to: 'entitlement', name: 'Invoice' }),
    yn('Invoice Approver', role('INV_APPROVER')),
    yn('Invoice Vendor Manager', role('INV_VENDOR_ADMIN')),
    ['Expense Audit Required', 'audit', up('expenseAuditRequired'), 3],
    ['BI Manager Employee ID', 'employee', { to: 'biManager' }, 48],
    yn('Request User', { to: 'entitlement', name: 'Request' }),
    yn('Request Approver', role('REQ_APPROVER')),
    ['Expense Report Approver Employee ID 2', 'employee', approver('report', false), 48],
    yn('A Payment Request has been Assigned', NONE('no reliable v4 attribute (SAP maps it onto field 51)')),
    ['Future Use', 'text', FUTURE],
    ['Future Use', 'text', FUTURE],
    yn('Tax Administrator', role('SHD_TAX_ADMIN')),
    yn('FBT Administrator', role('EXP_FB_TAX_ADMIN')),
    yn('Travel Wizard User', { to: 'travelUser' }),
  ];
}

function layout305(): RecordLayout {
  return layout('305', 'EnhancedEmployeeImporter', 'employee (Expense, Invoice, Request)', [
    ...employeeFields(),
    ['Employee Custom 22', 'text', { to: 'custom', id: 'custom22' }, 48],
    ['Request Approver Employee ID 2', 'employee', approver('request', false), 48],
    yn('Is Non Employee', spend('nonEmployee')),
    ['Reimbursement Type', 'reimbursement', spend('reimbursementType'), 7],
    ['ADP Employee ID', 'text', { to: 'payroll', attr: 'employeeFileNumber' }, 48],
    ['ADP Company Code', 'text', { to: 'payroll', attr: 'companyCode' }, 48],
    ['ADP Deduction Code', 'text', { to: 'payroll', attr: 'deductionCode' }, 48],
    ['Budget Manager Employee ID', 'employee', approver('budget'), 48],
    yn('Budget Owner', role('SHD_BUDGET_OWNER')),
    yn('Budget Viewer', role('SHD_BUDGET_VIEWER')),
    yn('Budget Approver', role('SHD_BUDGET_APPROVER')),
    yn('Budget Admin', role('SHD_BUDGET_ADMIN')),
    ...future(12, 50),
  ]);
}

function layout300(): RecordLayout {
  const defs = employeeFields();
  // The 300's own meanings (SAP: 305 fields 1-86 otherwise line up with the 300).
  defs[63] = yn('Approver', role('EXP_APPROVER'));
  defs[65] = yn('Integration Administrator', NONE('role SHD_IMPORT_EXTRACT_ADMIN is internal to SAP: not assignable'));
  defs[67] = yn(
    'Authorization Request Approver',
    NONE('role EXP_AUTH_REQUEST_APPROVER is not in the v4 role catalogue'),
  );
  defs[68] = yn('Integration Administrator (Restricted)', role('SHD_IMPORT_EXTRACT_ADMIN_RO'));
  defs[78] = yn('Request Manager', role('REQ_APPROVER'));
  return layout('300', 'EmployeeImporter', 'employee (legacy layout)', defs);
}

const l310 = layout('310', 'UserPrimaryFieldAddendumImporter', 'travel-only user', [
  TYPE,
  id(),
  ['Login ID', 'login', identity('userName'), 64, true],
  ['First Name', 'text', identity('givenName'), 32, true],
  ['Middle Name', 'text', identity('middleName', true), 32],
  ['Last Name', 'text', identity('familyName'), 32, true],
  ['Email Address', 'email', identity('email'), 255, true],
  ['Password', 'text', { to: 'password' }],
  ['Locale Code', 'locale', identity('preferredLanguage'), 5],
  yn('Expense User', { to: 'entitlement', name: 'Expense' }),
  yn('Expense Approver', role('EXP_APPROVER')),
  yn('Invoice User', { to: 'entitlement', name: 'Invoice' }),
  yn('Invoice Approver', role('INV_APPROVER')),
  yn('Travel User', { to: 'travelUser' }),
  ['Active', 'yn', identity('active'), 1, true],
  yn('No Middle Name', { to: 'travelName', attr: 'hasNoMiddleName' }),
  ['Locate and Alert', 'text', NONE('no documented v4 value for the Locate entitlement')],
  yn('ExpenseIt User', NONE('no documented v4 entitlement')),
  ...future(5, 10),
]);

const l315 = layout('315', 'UpdateSAPGlobalUserIDImporter', 'SAP Global ID', [
  TYPE,
  id(),
  ['SAP Global ID', 'globalid', identity('sapUserUuid'), 36, true],
  ...future(1, 10),
]);

const l320 = layout('320', 'UpdateIDInformationImporter', 'Employee ID / Login ID change', [
  TYPE,
  id('Current Employee ID'),
  ['New Employee ID', 'employee', NONE('record-level: the new employeeNumber'), 48],
  ['New Login ID', 'login', NONE('record-level: the new userName'), 64],
  ...future(1, 5),
]);

const travel = (attr: string): Target => ({ to: 'travel', attr });
const addressFields = (type: 'home' | 'work', label: string): Def[] => [
  [`${label} Street Address`, 'text', { to: 'address', type, sub: 'streetAddress' }, 255],
  [`${label} City`, 'text', { to: 'address', type, sub: 'locality' }, 30],
  [`${label} State`, 'text', { to: 'address', type, sub: 'region' }, 30],
  [`${label} Postal Code`, 'text', { to: 'address', type, sub: 'postalCode' }, 20],
  [`${label} Country`, 'country', { to: 'address', type, sub: 'country' }, 2],
];

const l350 = layout('350', 'TravelAddendumImport', 'travel profile', [
  TYPE,
  id(),
  ['Name Prefix', 'prefix', identity('honorificPrefix', true), 60],
  ['Name Suffix', 'suffix', identity('honorificSuffix', true), 60],
  ['Preferred Name', 'text', identity('nickName', true), 60],
  ['Redress Number', 'text', NONE('inactive in Concur; ignored')],
  ['Gender', 'gender', travel('gender'), 1],
  ['Date of Birth', 'date', identity('dateOfBirth', true), 10],
  ['Employee ID of the Travel Approver', 'employee', { to: 'travelManager' }, 128],
  ['Job Title', 'text', identity('title', true), 255],
  ['Work Phone', 'text', { to: 'phone', type: 'work' }, 60],
  ['Work Phone Extension', 'text', { to: 'phoneExtension' }, 60],
  ['Work Fax', 'text', { to: 'phone', type: 'fax' }, 60],
  ['Home Phone', 'text', { to: 'phone', type: 'home' }, 60],
  ['Cell Phone', 'text', { to: 'phone', type: 'mobile' }, 60],
  ['Pager Phone', 'text', { to: 'phone', type: 'pager' }, 60],
  ['Travel Name Remark', 'text', travel('travelNameRemark'), 30],
  ['Travel Class Name', 'text', travel('ruleClass'), 60],
  ['GDS Profile Name', 'text', travel('travelCrsName'), 60],
  ['Org Unit/Division', 'text', travel('orgUnit'), 60],
  ...addressFields('home', 'Home'),
  ...addressFields('work', 'Work'),
  ['Email 2', 'email', { to: 'email', type: 'work2' }, 255],
  ['Email 3', 'email', { to: 'email', type: 'other' }, 255],
  ...Array.from({ length: 25 }, (_, i): Def => [`Custom ${i + 1}`, 'namevalue', { to: 'travelCustom' }, 255]),
  ['XML Profile Synchronization ID', 'text', travel('xmlProfileSyncId'), 64],
  yn('Profile User Permission', NONE('no v4 attribute (SAP: not supported)')),
  yn('Amadeus User Permission', NONE('inactive in Concur; ignored')),
  yn('Open Booking User Permission', NONE('group-aware in Concur; the value is ignored')),
  ...future(5, 10),
]);

const l360 = layout('360', 'EmployeeImporterInvoice', 'Invoice (Payment) settings', [
  TYPE,
  id(),
  yn('Invoice User Role', { to: 'entitlement', name: 'Invoice' }),
  yn('Invoice Approver Role', role('INV_APPROVER')),
  yn('Invoice Vendor Approver Role', role('INV_VENDOR_ADMIN')),
  yn('Invoice AP User Role', role('INV_AP_USER')),
  yn('Invoice Payment Manager Role', role('INV_PMT_MANAGER')),
  yn('Invoice Purchasing Role', role('INV_PURCH_USER')),
  yn('Purchase Request User', role('INV_PURCH_REQ_USER')),
  yn('Purchase Request Approver', role('INV_PURCH_REQ_APPROVER')),
  ...future(3, 7),
  yn('Send email when the purchase request status changes', wf('emailOnPurchaseRequestStatusChange')),
  yn('Send email when a purchase request is awaiting approval', wf('emailOnPurchaseRequestAwaitApproval')),
  ['Default Purchase Request Approver Employee ID', 'employee', approver('purchaseRequest'), 48],
  ['Payment Approver Employee ID', 'employee', approver('invoice'), 48],
  yn('Send email when the payment request status changes', wf('emailStatusChangeOnPayment')),
  yn('Send email when a payment request is awaiting approval', wf('emailAwaitApprovalOnPayment')),
  yn('Prompt for approver when submitting a payment request', wf('promptForApproverOnPaymentSubmit')),
  yn('Send email when a payment request is assigned to the user', NONE('no v4 attribute in the UPS schema')),
  yn('Send email when a request is assigned to purchasing', inv('emailOnPurchasingAssigned')),
  yn('Send email when a request is sent back from purchasing', inv('emailOnPurchasingSendBack')),
  ['Fax image available (decommissioned)', 'text', NONE('decommissioned by SAP in Nov 2022')],
  yn('Prompt for new line items on a new payment request', inv('promptNewLineItemsPaymentRequest')),
  ['Default Shipping Address', 'text', NONE('a shipping location code, which no v4 attribute holds')],
  yn('Display Image Inline', inv('displayInlineImage')),
  yn('Auto Open Image', inv('autoOpenImage')),
  ...future(16, 20),
]);

const l370 = layout('370', 'EmployeeImporterPcard', 'statement (company bill) settings', [
  TYPE,
  id(),
  yn('Statement Report User', role('STATEMENT_USER')),
  yn('Statement Report Approver', role('STATEMENT_APPROVER')),
  ['Employee ID of the Statement Report Approver', 'employee', approver('statement'), 48],
  ...future(1, 25),
]);

const segments = (): Def[] =>
  Array.from({ length: 10 }, (_, i): Def => [`Segment ${i + 1}`, 'text', NONE('record-level: the group'), 48]);

const l400 = layout('400', 'RoleImport', 'role', [
  TYPE,
  id(),
  ['Role Code', 'text', NONE('record-level: the role'), 15, true],
  ...segments(),
]);

const delegateFields = (): Def[] => [
  TYPE,
  id(),
  ['Delegate ID', 'employee', NONE('record-level: the delegate'), 48, true],
  ['Product Code', 'text', NONE('record-level: the delegation'), 3, true],
  yn('Can Prepare Reports', NONE('record-level: canPrepare')),
  yn('Can Submit Reports', NONE('record-level: canSubmit')),
  yn('Can Approve Reports', NONE('record-level: canApprove')),
  yn('Can Temporarily Approve Reports', NONE('record-level: temporaryDelegation')),
  ['Temporary Approval Delegation From Date', 'date', NONE('record-level: temporaryDelegationFromDate'), 8],
  ['Temporary Approval Delegation To Date', 'date', NONE('record-level: temporaryDelegationToDate'), 8],
  yn('Can View Receipt Images', NONE('record-level: canViewReceipt')),
];

const l500 = layout('500', 'DelegateImport', 'delegate', delegateFields());
const l550 = layout('550', 'EnhancedDelegateImport', 'delegate (enhanced)', [
  ...delegateFields(),
  yn('Can Receive Email', NONE('record-level: canReceiveEmail')),
  yn('Can Receive Email Approval', NONE('record-level: canReceiveApprovalEmail')),
  yn('Can Use Business Intelligence', NONE('record-level: canUseBi')),
  yn('Can Submit Request', NONE('record-level: canSubmitTravelRequest')),
  yn('Can Preview Report for Approval', NONE('record-level: canPrepareForApproval')),
  ...future(4, 5),
]);

const approverLimitFields = (withLevel: boolean): Def[] => [
  TYPE,
  ['Approval Type', 'text', NONE('record-level: approvalType'), 3, true],
  id(),
  ...segments(),
  yn('Exception Approval Authority', NONE('record-level: exceptionApprovalAuthority')),
  ['Approval Limit', 'number', NONE('record-level: approvalLimit'), 20],
  ['Approval Limit Currency Code', 'currency', NONE('record-level: reimbursementCurrency'), 3],
  ...(withLevel ? [['Level', 'int', NONE('record-level: level'), 3] as Def] : []),
];

const l700 = layout('700', 'AuthorizedApproverImport', 'authorized approver with a limit', approverLimitFields(false));
const l710 = layout('710', 'CostObjectApproverImport', 'cost object approver', approverLimitFields(true));
const l720 = layout(
  '720',
  'AuthApproverWithLevelImporter',
  'authorized approver with a level',
  approverLimitFields(true),
);
const removalFields = (): Def[] => [
  TYPE,
  ['Approval Type', 'text', NONE('record-level: approvalType'), 3, true],
  id(),
  ...segments(),
];
const l750 = layout('750', 'DeleteAuthorizedApproverImport', 'authorized approver removal', removalFields());
const l760 = layout('760', 'DeleteCostObjectApproverImport', 'cost object approver removal', removalFields());

/** Record types with a v4 equivalent, by type. */
export const LAYOUTS: ReadonlyMap<string, RecordLayout> = new Map(
  [layout300(), layout305(), l310, l315, l320, l350, l360, l370, l400, l500, l550, l700, l710, l720, l750, l760].map(
    (l) => [l.type, l] as const,
  ),
);

/**
 * Record types of the spec without a v4 API (cards, bank accounts, cars, analytics, request
 * addenda, commuter passes): each line is reported `unsupported`, never sent, never silently dropped.
 */
export const UNSUPPORTED: ReadonlyMap<string, { sapName: string; what: string }> = new Map([
  ['600', { sapName: 'CardAccountImport', what: 'company card account' }],
  ['650', { sapName: 'EnhancedCardAccountImport', what: 'company card account' }],
  ['730', { sapName: 'BudgetInsightApproverImport', what: 'Budget Insight approver (retired in 2020)' }],
  ['770', { sapName: 'DeleteBudgetInsightApproverImport', what: 'Budget Insight approver removal (retired in 2020)' }],
  ['800', { sapName: 'EFTBankAccountImport', what: 'bank account (legacy)' }],
  ['810', { sapName: 'EFTBankAccountImport', what: 'bank account' }],
  ['820', { sapName: 'EFTBankAccountImport', what: 'bank account (future Pay)' }],
  ['900', { sapName: 'CarImporter', what: 'personal car' }],
  ['910', { sapName: 'CarImporter', what: 'personal car' }],
  ['1000', { sapName: 'AnalyticsBurstingValueImport', what: 'Analytics bursting value' }],
  ['1100', { sapName: 'AnalyticsBurstingValueDelete', what: 'Analytics bursting value removal' }],
  ['1200', { sapName: 'RequestAddendumImporter', what: 'default travel agency office' }],
  ['1300', { sapName: 'JPYCommuterPassRoutesImporter', what: 'Japanese commuter pass route' }],
]);

/**
 * The order the records of one person are applied in (SAP: 320 a day before the 305/310; a 305
 * overrides a 300; 360 after 305/310; approver rights before their removals). Lines of one type
 * keep file order, so the later line wins.
 */
export const APPLY_ORDER: readonly string[] = [
  '320',
  '300',
  '305',
  '310',
  '315',
  '350',
  '360',
  '370',
  '400',
  '500',
  '550',
  '700',
  '710',
  '720',
  '750',
  '760',
];

/** `record 305 field 8 (Email Address)`: how every line error names a field. */
export function fieldLabel(type: string, field: FieldSpec): string {
  return `record ${type} field ${field.position} (${field.name})`;
}
