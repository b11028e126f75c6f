// The Concur API client: the one way workers talk to Concur.
export { createConcurClient, type ConcurClient, type ConcurClientOptions } from './client.ts';
export type { CallOptions } from './api.ts';
export { ConcurHttp, type ConcurHttpOptions, type HttpRequest, type HttpResponse, type HttpTransport } from './http.ts';
export { TokenProvider, type CompanyCredentials } from './auth.ts';
export { RedisTokenStore, MemoryTokenStore, tokenKey, type TokenRecord, type TokenStore } from './token-cache.ts';
export {
  classifyConcurResponse,
  classifyNetworkError,
  concurErrorKind,
  parseRetryAfter,
  type ConcurErrorKind,
} from './errors.ts';
export {
  IdentityApi,
  IDENTITY_USERS,
  LOOKUP_FILTER_PATH,
  filterBatches,
  lookupValue,
  type LookupAttribute,
  type SearchRequest,
  type SearchPage,
} from './identity.ts';
export { PatchBuilder, patch, scimString, type PatchOperation, type PatchRequest } from './patch.ts';
export {
  UpsApi,
  BulkBuilder,
  splitBulk,
  bulkPost,
  bulkPut,
  bulkPatch,
  bulkRequest,
  bulkBody,
  serializeOperation,
  BULK_MAX_BYTES,
  BULK_MAX_OPERATIONS,
  type BulkOperation,
  type BulkLimits,
  type PackableOperation,
  type SerializedOperation,
  type UpsUserResult,
  type BulkSubmitResult,
} from './ups.ts';
export { SpendApi, roleCodesOf, SPEND_ROLE_CODES, SPEND_USERS } from './spend.ts';
export { ListApi, LIST_BASE, type ConcurList, type ConcurListItem } from './lists.ts';
export { StatusApi, type OperationState, type IterateOperationsOptions } from './status.ts';
export {
  ENTERPRISE_URN,
  CORE_USER_URN,
  type ConcurUser,
  type ProvisionStatus,
  type ProvisionOperation,
  type ConcurMessage,
} from './schemas.ts';
