export * from './types.ts';
export * from './template.ts';
export * from './validate.ts';
export * from './mapping-file.ts';
export * from './normalize.ts';
export * from './to-scim.ts';
export { COUNTRY_CODES, CURRENCY_CODES } from './codes.ts';
