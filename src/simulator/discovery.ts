import type { FastifyInstance } from 'fastify';
import type { ApiFamily, SimContext } from './context.ts';
import { SimHttpError } from './errors.ts';
import { ATTRS_BY_URN, CORE_URN, ENTERPRISE_URN, MULTI_VALUED, SAP_URN, SETTINGS_URN } from './identity/schema.ts';
import {
  PAYROLL_URN,
  PROVISION_STATUS_URN,
  SPEND_APPROVER_LIMIT_URN,
  SPEND_APPROVER_URN,
  SPEND_DELEGATE_URN,
  SPEND_INVOICE_PREFERENCE_URN,
  SPEND_ROLE_URN,
  SPEND_USER_PREFERENCE_URN,
  SPEND_USER_URN,
  SPEND_WORKFLOW_PREFERENCE_URN,
  TRAVEL_USER_URN,
} from './ups/urns.ts';

// SCIM discovery endpoints (RFC 7643 §5-7) of Identity v4.1, Identity v4 and UPS v4, with the
// shapes Concur's swaggers give them (docs/concur-api.md#discovery): ServiceProviderConfig as
// one object, ResourceTypes as a JSON array, Schemas as a ListResponse, one Schema by its URN.

const SPC_URN = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
const RESOURCE_TYPE_URN = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
const SCHEMA_URN = 'urn:ietf:params:scim:schemas:core:2.0:Schema';
const LIST_URN = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const CONCUR_ERROR_URN = 'urn:ietf:params:scim:api:messages:concur:2.0:Error';

type AttrType = 'string' | 'boolean' | 'integer' | 'decimal' | 'dateTime' | 'complex';

interface AttributeSpec {
  name: string;
  type: AttrType;
  multiValued: boolean;
  required: boolean;
  mutability: 'readOnly' | 'readWrite' | 'immutable';
  returned: 'default' | 'always' | 'request';
  uniqueness: 'none' | 'server' | 'global';
  caseExact: boolean;
  subAttributes?: AttributeSpec[];
}

interface SchemaDoc {
  id: string;
  name: string;
  description: string;
  /** Attribute → sub-attributes, as in identity/schema.ts. */
  attrs: Record<string, readonly string[]>;
}

const BOOLEANS = new Set([
  'active',
  'verified',
  'notifications',
  'primary',
  'testEmployee',
  'nonEmployee',
  'hasNoMiddleName',
]);
const INTEGERS = new Set(['version', 'preferenceStartDayViewHour', 'preferenceEndDayViewHour', 'level', 'groups']);
const DATES = new Set(['created', 'lastModified', 'startDate', 'terminationDate', 'completed']);
const REQUIRED = new Set(['userName', 'active', 'name', 'emails', 'companyId', 'roleName', 'id']);
const READ_ONLY = new Set(['id', 'meta', 'localeOverrides', 'formatted']);
const GLOBAL_UNIQUE = new Set(['id', 'userName']);
const SERVER_UNIQUE = new Set(['employeeNumber', 'externalId']);

function attribute(name: string, subs: readonly string[], parent?: string): AttributeSpec {
  const complex = subs.length > 0;
  const spec: AttributeSpec = {
    name,
    type: complex
      ? 'complex'
      : BOOLEANS.has(name)
        ? 'boolean'
        : INTEGERS.has(name)
          ? 'integer'
          : DATES.has(name)
            ? 'dateTime'
            : 'string',
    multiValued: parent === undefined && MULTI_VALUED.has(name),
    required: parent === undefined && REQUIRED.has(name),
    mutability:
      READ_ONLY.has(name) || READ_ONLY.has(parent ?? '')
        ? 'readOnly'
        : name === 'companyId'
          ? 'immutable'
          : 'readWrite',
    returned: name === 'id' ? 'always' : name === 'entitlements' ? 'request' : 'default',
    uniqueness:
      GLOBAL_UNIQUE.has(name) && parent === undefined ? 'global' : SERVER_UNIQUE.has(name) ? 'server' : 'none',
    caseExact: false,
  };
  if (complex) spec.subAttributes = subs.map((s) => attribute(s, [], name));
  return spec;
}

const IDENTITY_SCHEMAS: SchemaDoc[] = [
  { id: CORE_URN, name: 'User', description: 'Concur user identity', attrs: ATTRS_BY_URN[CORE_URN]! },
  { id: ENTERPRISE_URN, name: 'EnterpriseUser', description: 'Enterprise user', attrs: ATTRS_BY_URN[ENTERPRISE_URN]! },
  { id: SAP_URN, name: 'SapUser', description: 'SAP user (SAP Global ID)', attrs: ATTRS_BY_URN[SAP_URN]! },
  { id: SETTINGS_URN, name: 'Settings', description: 'User settings', attrs: ATTRS_BY_URN[SETTINGS_URN]! },
];

const ref = ['value', 'employeeNumber', 'displayName'];
const APPROVER = ['approver', 'primary'];
const DELEGATE = [
  'delegate',
  'canApprove',
  'canPrepare',
  'canPrepareForApproval',
  'canReceiveApprovalEmail',
  'canReceiveEmail',
  'canSubmit',
  'canSubmitTravelRequest',
  'canUseBi',
  'canViewReceipt',
  'temporaryDelegation',
];
const LIMIT = [
  'approvalType',
  'exceptionApprovalAuthority',
  'approvalLimit',
  'reimbursementCurrency',
  'approvalGroup',
  'level',
];
const flags = (...names: string[]): Record<string, readonly string[]> => Object.fromEntries(names.map((n) => [n, []]));

const UPS_EXTENSION_SCHEMAS: SchemaDoc[] = [
  {
    id: SPEND_USER_URN,
    name: 'SpendUser',
    description: 'Spend user',
    attrs: {
      ...flags(
        'reimbursementCurrency',
        'country',
        'locale',
        'stateProvince',
        'ledgerCode',
        'cashAdvanceAccountCode',
        'reimbursementType',
        'budgetCountryCode',
        'testEmployee',
        'nonEmployee',
      ),
      customData: ['id', 'value', 'href'],
      biManager: ref,
    },
  },
  { id: SPEND_ROLE_URN, name: 'SpendRole', description: 'Spend roles', attrs: { roles: ['roleName', 'roleGroups'] } },
  {
    id: SPEND_APPROVER_URN,
    name: 'SpendApprover',
    description: 'Spend approvers',
    attrs: Object.fromEntries(
      ['report', 'cashAdvance', 'request', 'invoice', 'purchaseRequest', 'statement', 'budget', 'payment'].map((k) => [
        k,
        APPROVER,
      ]),
    ),
  },
  {
    id: SPEND_APPROVER_LIMIT_URN,
    name: 'SpendApproverLimit',
    description: 'Spend approver limits',
    attrs: { authorizedApprover: LIMIT, costObjectApprover: LIMIT },
  },
  {
    id: SPEND_DELEGATE_URN,
    name: 'SpendDelegate',
    description: 'Spend delegates',
    attrs: { expense: DELEGATE, payment: DELEGATE, purchaseRequest: DELEGATE },
  },
  {
    id: SPEND_USER_PREFERENCE_URN,
    name: 'SpendUserPreference',
    description: 'Spend user preferences',
    attrs: flags(
      'showImagingIntro',
      'expenseAuditRequired',
      'allowCreditCardTransArrivalEmails',
      'allowReceiptImageAvailEmails',
      'promptForCardTransactionsOnReport',
      'autoAddTripCardTransOnReport',
      'promptForReportPrintFormat',
      'defaultReportPrintFormat',
      'showTotalOnReport',
      'showExpenseOnReport',
      'showInstructHelpPanel',
      'useQuickItinAsDefault',
    ),
  },
  {
    id: SPEND_WORKFLOW_PREFERENCE_URN,
    name: 'SpendWorkflowPreference',
    description: 'Spend workflow preferences',
    attrs: flags(
      'emailStatusChangeOnCashAdvance',
      'emailAwaitApprovalOnCashAdvance',
      'emailStatusChangeOnReport',
      'emailAwaitApprovalOnReport',
      'promptForApproverOnReportSubmit',
      'emailStatusChangeOnTravelRequest',
      'emailAwaitApprovalOnTravelRequest',
      'promptForApproverOnTravelRequestSubmit',
      'emailStatusChangeOnPayment',
      'emailAwaitApprovalOnPayment',
      'promptForApproverOnPaymentSubmit',
    ),
  },
  {
    id: SPEND_INVOICE_PREFERENCE_URN,
    name: 'SpendInvoicePreference',
    description: 'Invoice preferences',
    attrs: flags(
      'emailOnPurchasingAssigned',
      'emailOnPurchasingSendBack',
      'emailOnFaxImageAvailablePaymentRequest',
      'promptNewLineItemsPaymentRequest',
      'displayInlineImage',
      'autoOpenImage',
    ),
  },
  {
    id: PAYROLL_URN,
    name: 'Payroll',
    description: 'Payroll',
    attrs: { adp: ['companyCode', 'deductionCode', 'employeeFileNumber'] },
  },
  {
    id: TRAVEL_USER_URN,
    name: 'TravelUser',
    description: 'Travel user',
    attrs: {
      ruleClass: ['id', 'name'],
      groups: [],
      manager: ref,
      customFields: ['name', 'value'],
      name: ['namePrefix', 'givenName', 'middleName', 'hasNoMiddleName', 'familyName', 'honorificSuffix'],
      ...flags('travelNameRemark', 'travelCrsName', 'gender', 'orgUnit', 'xmlProfileSyncId'),
      permissions: ['TravelUser', 'ProfileUser', 'OpenBookingUser'],
    },
  },
  {
    id: PROVISION_STATUS_URN,
    name: 'Provision Status',
    description: 'Provision Status',
    attrs: {
      id: [],
      status: ['completed', 'success'],
      operationsCount: ['total', 'success', 'failed', 'pending'],
      operations: ['id', 'bulkId', 'status', 'resource', 'extensions'],
      meta: ['location', 'created', 'lastModified', 'completed', 'provisionType', 'resourceType', 'correlationId'],
    },
  },
  {
    id: CONCUR_ERROR_URN,
    name: 'Concur Error',
    description: 'Concur Error',
    attrs: { messages: ['code', 'message', 'schemaPath', 'type'] },
  },
];

/** One API's discovery endpoints: where they live and what they describe. */
interface DiscoveryApi {
  family: ApiFamily;
  /** e.g. `/profile/identity/v4.1` (routes are `${base}/Schemas` ...). */
  base: string;
  documentationUrl: string;
  schemas: SchemaDoc[];
  /** Extensions of the User resource type, with whether they are required. */
  extensions: [urn: string, required: boolean][];
  bulk: boolean;
  pagination: 'cursor' | 'index';
  authScheme: Record<string, string>;
}

const OAUTH = 'OAuth Bearer Token';
const OAUTH_DESCRIPTION = 'Authentication with a Concur company access token (OAuth 2.0 bearer)';
const OAUTH_SPEC = 'https://www.rfc-editor.org/info/rfc6750';
const AUTH_DOC = 'https://developer.concur.com/api-reference/authentication/apidoc.html';

function identityApi(version: 'v4.1' | 'v4'): DiscoveryApi {
  return {
    family: 'identity',
    base: `/profile/identity/${version}`,
    documentationUrl: `https://developer.concur.com/api-reference/profile/${version}.identity.html`,
    schemas: IDENTITY_SCHEMAS,
    extensions: [
      [ENTERPRISE_URN, true],
      [SAP_URN, false],
      [SETTINGS_URN, false],
    ],
    bulk: false,
    pagination: version === 'v4.1' ? 'cursor' : 'index',
    authScheme: { name: OAUTH, description: OAUTH_DESCRIPTION, specUrl: OAUTH_SPEC, documentationUrl: AUTH_DOC },
  };
}

function upsApi(base: string): DiscoveryApi {
  return {
    family: 'ups',
    base,
    documentationUrl: 'https://developer.concur.com/api-reference/user-provisioning/v4.user-provisioning.html',
    schemas: [...IDENTITY_SCHEMAS.filter((s) => s.id !== SETTINGS_URN), ...UPS_EXTENSION_SCHEMAS],
    extensions: [
      [ENTERPRISE_URN, true],
      ...UPS_EXTENSION_SCHEMAS.filter((s) => s.id !== PROVISION_STATUS_URN && s.id !== CONCUR_ERROR_URN).map(
        (s): [string, boolean] => [s.id, false],
      ),
    ],
    bulk: true,
    pagination: 'index',
    authScheme: { name: OAUTH, description: OAUTH_DESCRIPTION, specUri: OAUTH_SPEC, type: 'oauthbearertoken' },
  };
}

export const DISCOVERY_APIS: readonly DiscoveryApi[] = [
  identityApi('v4.1'),
  identityApi('v4'),
  upsApi('/profile/v4'),
  upsApi('/provisioning/v4'),
];

function schemaResource(api: DiscoveryApi, baseUrl: string, doc: SchemaDoc): Record<string, unknown> {
  return {
    schemas: [SCHEMA_URN],
    id: doc.id,
    name: doc.name,
    description: doc.description,
    attributes: Object.entries(doc.attrs).map(([name, subs]) => attribute(name, subs)),
    meta: { resourceType: 'Schema', location: `${baseUrl}${api.base}/Schemas/${doc.id}` },
  };
}

function userResourceType(api: DiscoveryApi, baseUrl: string): Record<string, unknown> {
  return {
    schemas: [RESOURCE_TYPE_URN],
    id: 'User',
    name: 'User',
    endpoint: '/Users',
    description: 'Concur User',
    schema: CORE_URN,
    schemaExtensions: api.extensions.map(([schema, required]) => ({ schema, required })),
    meta: { resourceType: 'ResourceType', location: `${baseUrl}${api.base}/ResourceTypes/User` },
  };
}

function serviceProviderConfig(api: DiscoveryApi, baseUrl: string): Record<string, unknown> {
  const cursor = api.pagination === 'cursor';
  return {
    schemas: [SPC_URN],
    documentationUrl: api.documentationUrl,
    patch: { supported: true },
    bulk: api.bulk ? { supported: true, maxOperations: 100, maxPayloadSize: 400 * 1024 } : { supported: false },
    filter: { supported: true, maxResults: cursor ? 1000 : 100 },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: false },
    pagination: {
      cursor: { supported: cursor },
      index: { supported: !cursor },
      defaultPageSize: cursor ? 100 : 10,
      maxPageSize: cursor ? 1000 : 100,
    },
    authenticationSchemes: api.authScheme,
    meta: { resourceType: 'ServiceProviderConfig', location: `${baseUrl}${api.base}/ServiceProviderConfig` },
  };
}

/** Registers the discovery endpoints of every API (any valid token may read them). */
export function registerDiscoveryRoutes(app: FastifyInstance, ctx: SimContext): void {
  // A company without Travel (knob travelEnabled) is not offered its extension.
  const offered = (api: DiscoveryApi): DiscoveryApi =>
    ctx.knobs.travelEnabled
      ? api
      : {
          ...api,
          schemas: api.schemas.filter((s) => s.id !== TRAVEL_USER_URN),
          extensions: api.extensions.filter(([urn]) => urn !== TRAVEL_USER_URN),
        };
  for (const api of DISCOVERY_APIS) {
    const config = { family: api.family };
    const authorize = (authorization: string | undefined): void => {
      ctx.auth.verify(authorization, 'any');
    };
    app.get(`${api.base}/ServiceProviderConfig`, { config }, async (request) => {
      authorize(request.headers.authorization);
      return serviceProviderConfig(api, ctx.baseUrl);
    });
    app.get(`${api.base}/ResourceTypes`, { config }, async (request) => {
      authorize(request.headers.authorization);
      return [userResourceType(offered(api), ctx.baseUrl)];
    });
    app.get<{ Params: { id: string } }>(`${api.base}/ResourceTypes/:id`, { config }, async (request) => {
      authorize(request.headers.authorization);
      if (request.params.id.toLowerCase() !== 'user')
        throw SimHttpError.scim(404, `Resource type '${request.params.id}' not found`);
      return userResourceType(offered(api), ctx.baseUrl);
    });
    app.get(`${api.base}/Schemas`, { config }, async (request) => {
      authorize(request.headers.authorization);
      const resources = offered(api).schemas.map((doc) => schemaResource(api, ctx.baseUrl, doc));
      return {
        schemas: [LIST_URN],
        totalResults: resources.length,
        itemsPerPage: resources.length,
        startIndex: 1,
        Resources: resources,
      };
    });
    app.get<{ Params: { id: string } }>(`${api.base}/Schemas/:id`, { config }, async (request) => {
      authorize(request.headers.authorization);
      const doc = offered(api).schemas.find((s) => s.id.toLowerCase() === request.params.id.toLowerCase());
      if (!doc) throw SimHttpError.scim(404, `Schema '${request.params.id}' not found`);
      return schemaResource(api, ctx.baseUrl, doc);
    });
  }
}
