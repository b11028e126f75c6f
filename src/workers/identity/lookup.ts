// The batched look-up is shared with the plan (`ingest --plan`), so both see Concur the same way.
export { joinWithin, lookupPeople, type LookupResult } from '../../shared/identity/lookup.ts';
