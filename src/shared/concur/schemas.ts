import { z } from 'zod';
import { ProvError } from '../errors.ts';

/*
 * The client's own view of Concur's responses (never shared with the simulator, so the two
 * cannot agree on the same mistake). Objects are loose: unknown fields pass through untouched;
 * only what the pipeline relies on is required.
 */

export const ENTERPRISE_URN = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const CORE_USER_URN = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const PATCH_OP_URN = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const BULK_REQUEST_URN = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
export const SEARCH_REQUEST_URN = 'urn:ietf:params:scim:api:messages:concur:2.0:SearchRequest';
export const CONCUR_ERROR_URN = 'urn:ietf:params:scim:api:messages:concur:2.0:Error';

/** `expires_in` is documented as a string ("3600"); accept a number too. */
const seconds = z.union([z.number(), z.string().regex(/^\d+(\.\d+)?$/)]).transform(Number);

export const tokenResponseSchema = z.looseObject({
  access_token: z.string().min(1),
  expires_in: seconds,
  refresh_token: z.string().min(1).optional(),
  geolocation: z.string().min(1).optional(),
  token_type: z.string().optional(),
});
export type TokenResponse = z.output<typeof tokenResponseSchema>;

const userMetaSchema = z.looseObject({
  resourceType: z.string().optional(),
  created: z.string().optional(),
  lastModified: z.string().optional(),
  version: z.union([z.number(), z.string()]).optional(),
  location: z.string().optional(),
});

export const userSchema = z.looseObject({
  id: z.string().min(1),
  userName: z.string().optional(),
  active: z.boolean().optional(),
  externalId: z.string().optional(),
  meta: userMetaSchema.optional(),
  [ENTERPRISE_URN]: z
    .looseObject({ employeeNumber: z.string().optional(), companyId: z.string().optional() })
    .optional(),
});
/** A Concur identity user as returned (only `id` is guaranteed; projections may drop the rest). */
export type ConcurUser = z.output<typeof userSchema>;

export const listResponseSchema = z.looseObject({
  totalResults: z.number().int().min(0).optional(),
  itemsPerPage: z.number().int().min(0).optional(),
  startIndex: z.number().int().optional(),
  nextCursor: z.string().min(1).optional(),
  Resources: z.array(userSchema).default([]),
});
export type ListResponse = z.output<typeof listResponseSchema>;

/** UPS `/Users` answers the identity user plus where to follow the provision. */
export const upsUserResponseSchema = userSchema.extend({
  meta: userMetaSchema.extend({
    provisionId: z.string().min(1),
    statusUrl: z.string().min(1).optional(),
  }),
});

const concurMessageSchema = z.looseObject({
  code: z.string().optional(),
  message: z.string().optional(),
  schemaPath: z.string().optional(),
  type: z.string().optional(),
});
export type ConcurMessage = z.output<typeof concurMessageSchema>;

const flagStatusSchema = z.looseObject({
  completed: z.boolean(),
  success: z.boolean().nullable().optional(),
  code: z.string().optional(),
});

export const extensionStatusSchema = z.looseObject({
  name: z.string(),
  status: flagStatusSchema.extend({ result: z.string().optional() }),
  messages: z.array(concurMessageSchema).optional(),
});

export const operationStatusSchema = z.looseObject({
  id: z.string().optional(),
  bulkId: z.string().optional(),
  status: flagStatusSchema,
  resource: z.looseObject({ id: z.string().optional(), type: z.string().optional() }).optional(),
  extensions: z.array(extensionStatusSchema).optional(),
  messages: z.array(concurMessageSchema).optional(),
});
export type ProvisionOperation = z.output<typeof operationStatusSchema>;

export const provisionStatusSchema = z.looseObject({
  id: z.string().min(1),
  status: flagStatusSchema,
  operationsCount: z.looseObject({
    total: z.number(),
    success: z.number(),
    failed: z.number(),
    pending: z.number(),
  }),
  totalResults: z.number().int().min(0).optional(),
  startIndex: z.number().int().optional(),
  itemsPerPage: z.number().int().min(0).optional(),
  operations: z.array(operationStatusSchema).optional(),
  meta: z.looseObject({ location: z.string().optional(), correlationId: z.string().optional() }).optional(),
});
export type ProvisionStatus = z.output<typeof provisionStatusSchema>;

/** SCIM error body (Identity and UPS); every field optional because 5xx bodies vary. */
export const scimErrorSchema = z.looseObject({
  status: z.union([z.string(), z.number()]).optional(),
  scimType: z.string().optional(),
  detail: z.string().optional(),
  [CONCUR_ERROR_URN]: z.looseObject({ messages: z.array(concurMessageSchema).optional() }).optional(),
});

/** OAuth errors have their own shape: `{ error, error_description, code }`, and `geolocation` with code 16. */
export const oauthErrorSchema = z.looseObject({
  error: z.string().optional(),
  error_description: z.string().optional(),
  code: z.union([z.number(), z.string()]).optional(),
  geolocation: z.string().optional(),
});

export interface ParseContext {
  what: string;
  statusCode?: number;
  correlationId?: string | undefined;
}

/**
 * Parses a 2xx body. A mismatch is PROV_ERR_RESPONSE naming each bad field path; the values
 * themselves stay out of the message (they may be personal data).
 */
export function parseResponse<S extends z.ZodType>(schema: S, body: unknown, ctx: ParseContext): z.output<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => ({
    path: i.path.map(String).join('.') || '(body)',
    message: i.message,
  }));
  const list = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
  throw new ProvError('PROV_ERR_RESPONSE', `Concur ${ctx.what} response is not what we expect (${list})`, {
    statusCode: ctx.statusCode,
    details: { kind: 'response', statusCode: ctx.statusCode, correlationId: ctx.correlationId, issues },
  });
}
