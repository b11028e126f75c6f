import { z } from 'zod';

/*
 * Concur's response shapes as SAP publishes them (reference pages, swaggers, Postman examples;
 * summarised in docs/concur-api.md), written for this contract test alone. They share nothing
 * with the client's schemas (src/shared/concur/schemas.ts) or the simulator: a drift in either
 * side shows up here. Objects are loose (Concur adds fields freely); what is documented is
 * required, with its documented type and, where the docs give one, its format or enum.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const uuid = z.string().regex(UUID);
/** ISO 8601 with a zone (identity meta: `2021-11-17T22:44:09.000164Z`). */
const isoInstant = z.string().refine((s) => /T.*(Z|[+-]\d{2}:?\d{2})$/.test(s) && !Number.isNaN(Date.parse(s)));
/** UPS provisioning times: `yyyy-MM-dd'T'HH:mm:ss.SSS+0000` (no colon in the offset). */
const provisionTime = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/);
/** Enterprise dates as Concur returns them: `2021-11-17T00:00:00.000` (no zone). */
const enterpriseDate = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}$/);

export const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const LIST_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
export const CONCUR_ERROR = 'urn:ietf:params:scim:api:messages:concur:2.0:Error';
export const PROVISION_STATUS = 'urn:ietf:params:scim:schemas:extension:concur:2.0:Provision:Status';

// --- OAuth (authentication reference: "Response", "Response Codes") ---

export const tokenResponse = z.looseObject({
  /** A string of seconds ("3600"), not a number. */
  expires_in: z.string().regex(/^\d+$/),
  scope: z.string(),
  token_type: z.literal('Bearer'),
  access_token: z.string().min(1),
  refresh_token: z.string().min(1),
  id_token: z.string().min(1),
  geolocation: z.url(),
});

/** Client credentials: an app token, without refresh or id token. */
export const appTokenResponse = tokenResponse.extend({
  refresh_token: z.never().optional(),
  id_token: z.never().optional(),
});

export const oauthError = z.strictObject({
  error: z.enum(['invalid_request', 'invalid_client', 'invalid_grant', 'access_denied', 'invalid_scope']),
  error_description: z.string().min(1),
  code: z.number().int(),
  /** Only with code 16 "user lives elsewhere". */
  geolocation: z.url().optional(),
});

// --- SCIM errors (Identity and UPS swaggers: ErrorResponse + ConcurError) ---

const concurMessage = z.looseObject({
  code: z.string().min(1),
  message: z.string(),
  schemaPath: z.string().optional(),
  type: z.enum(['error', 'warning', 'user']),
});

export const scimError = z.looseObject({
  schemas: z.array(z.string()).refine((s) => s.includes(ERROR)),
  /** The only required field, and a string. */
  status: z.string().regex(/^\d{3}$/),
  scimType: z.string().optional(),
  detail: z.string().optional(),
  [CONCUR_ERROR]: z.looseObject({ messages: z.array(concurMessage) }).optional(),
});

// --- Identity v4.1 (reference "User" schema and the create/get examples) ---

const localeOverrides = z.looseObject({
  preference24Hour: z.enum(['H:mm AM/PM', 'hh:mm']),
  preferenceCurrencySymbolLocation: z.enum(['BeforeAmount', 'AfterAmount']),
  preferenceDateFormat: z.enum([
    'mm/dd/yyyy',
    'mm.dd.yyyy',
    'mm-dd-yyyy',
    'dd/mm/yyyy',
    'dd.mm.yyyy',
    'dd-mm-yyyy',
    'yyyy/mm/dd',
    'yyyy.mm.dd',
    'yyyy-mm-dd',
  ]),
  preferenceDefaultCalView: z.enum(['day', 'week', 'month']),
  preferenceDistance: z.enum(['mile', 'km']),
  preferenceEndDayViewHour: z.number().int().min(0).max(23),
  preferenceFirstDayOfWeek: z.enum(['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday']),
  preferenceHourMinuteSeparator: z.enum([':', '.']),
  preferenceNegativeCurrencyFormat: z.enum(['-100', '(100)']).nullable().optional(),
  preferenceNegativeNumberFormat: z.enum(['-100', '(100)']).nullable().optional(),
  preferenceNumberFormat: z.enum(['1,000.00', '1.000,00', '1 000,00', "1'000.00", "1'000,00"]),
  preferenceStartDayViewHour: z.number().int().min(0).max(23),
});

export const identityUser = z.looseObject({
  schemas: z.array(z.string()).refine((s) => s.includes(CORE)),
  id: uuid,
  userName: z.string().min(1),
  active: z.boolean(),
  displayName: z.string(),
  name: z.looseObject({ givenName: z.string(), familyName: z.string(), formatted: z.string() }),
  emails: z.array(
    z.looseObject({
      value: z.string(),
      type: z.enum(['work', 'home', 'work2', 'other', 'other2']),
      verified: z.boolean(),
      notifications: z.boolean(),
    }),
  ),
  timezone: z.string().min(1),
  preferredLanguage: z.string().min(2),
  localeOverrides,
  dateOfBirth: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .nullable()
    .optional(),
  meta: z.looseObject({
    resourceType: z.literal('User'),
    created: isoInstant,
    lastModified: isoInstant,
    version: z.number().int().min(0),
    location: z.url(),
  }),
  [ENTERPRISE]: z.looseObject({
    companyId: uuid,
    employeeNumber: z.string().optional(),
    startDate: enterpriseDate.optional(),
    terminationDate: enterpriseDate.optional(),
    manager: z.looseObject({ value: uuid, employeeNumber: z.string().optional() }).optional(),
  }),
});

/** `.search` and GET list (UserList in the v4.1 swagger). */
export const userList = z.looseObject({
  schemas: z.tuple([z.literal(LIST_RESPONSE)]),
  totalResults: z.number().int().min(0),
  itemsPerPage: z.number().int().min(0),
  startIndex: z.number().int().min(1),
  Resources: z.array(z.looseObject({ id: uuid })),
  nextCursor: z.string().min(1).optional(),
});

// --- UPS v4 (reference "Provision Status", the Bulk 202 example, the status capture) ---

const flags = z.looseObject({ completed: z.boolean(), success: z.boolean().nullable() });

const provisionMeta = z.looseObject({
  location: z.url(),
  created: provisionTime,
  lastModified: provisionTime,
  completed: provisionTime.optional(),
  provisionType: z.enum(['Bulk', 'User']),
  resourceType: z.literal('ProvisionRequest'),
  correlationId: z.string().min(1),
});

export const provisionSummary = z.looseObject({
  schemas: z.tuple([z.literal(PROVISION_STATUS)]),
  id: uuid,
  status: flags,
  operationsCount: z.strictObject({
    total: z.number().int(),
    success: z.number().int(),
    failed: z.number().int(),
    pending: z.number().int(),
  }),
  meta: provisionMeta,
});

const extensionStatus = z.looseObject({
  name: z.string().startsWith('urn:'),
  status: flags.extend({
    code: z
      .string()
      .regex(/^\d{3}$/)
      .optional(),
    result: z.enum(['success', 'no-op', 'error', 'not-processed']),
  }),
  messages: z.array(concurMessage).optional(),
});

export const provisionDetail = provisionSummary.extend({
  totalResults: z.number().int().min(0),
  startIndex: z.number().int().min(1),
  itemsPerPage: z.number().int().min(0),
  operations: z.array(
    z.looseObject({
      id: z.string().min(1),
      bulkId: z.string().optional(),
      status: flags.extend({ code: z.string().regex(/^\d{3}$/) }),
      resource: z.looseObject({ id: uuid, type: z.literal('User') }).optional(),
      extensions: z.array(extensionStatus),
    }),
  ),
});

/** POST /profile/v4/Users (201): the identity user plus where to follow the provision. */
export const upsUser = identityUser.extend({
  meta: z.looseObject({
    resourceType: z.literal('User'),
    location: z.url(),
    provisionId: uuid,
    statusUrl: z.url(),
  }),
});

// --- ESS (Event Subscription Service reference; user provisioning event topic) ---

export const provisionCompletedEvent = z.looseObject({
  id: z.string().min(1),
  correlationId: z.string().min(1),
  eventType: z.literal('provisionCompleted'),
  topic: z.literal('public.concur.user.provisioning'),
  timeStamp: isoInstant,
  subtopic: z.string(),
  facts: z.looseObject({
    originator: z.literal('com.concur.provisioning'),
    provisionId: uuid,
    provisionStatusHref: z.string().min(1),
    success: z.boolean(),
  }),
});

export const essMessage = z.strictObject({ message: z.string().min(1) });
