import { pino, stdSerializers, type Logger, type DestinationStream, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/** Keys whose values are secrets or personal data. Redacted wherever they appear (up to 3 levels deep). */
export const SENSITIVE_KEYS = [
  'access_token',
  'accessToken',
  'refresh_token',
  'refreshToken',
  'id_token',
  'token',
  'password',
  'secret',
  'client_secret',
  'clientSecret',
  'requestToken',
  'authorization',
  'Authorization',
  'cookie',
  'email',
  'emails',
  'userName',
  'givenName',
  'familyName',
  'middleName',
  'displayName',
  'name',
  'record',
] as const;

function redactPaths(): string[] {
  const paths: string[] = [];
  for (const key of SENSITIVE_KEYS) {
    paths.push(key, `*.${key}`, `*.*.${key}`, `*.*.*.${key}`);
  }
  // Headers are logged as objects keyed by lower-case names.
  paths.push('req.headers.authorization', 'headers.authorization', '*.headers.authorization');
  return paths;
}

/**
 * The `err` serializer: the standard one, except for input errors (PROV_ERR_INPUT), whose message
 * may quote cells of a drop file (a header cell of a headerless export is a person). Those are
 * logged by their `details.logSafe` text (file, row, column, no values) and nothing else.
 */
export function serializeError(err: unknown): unknown {
  const e = err as { code?: unknown; details?: { logSafe?: unknown; file?: unknown; line?: unknown; row?: unknown } };
  if (typeof err === 'object' && err !== null && e.code === 'PROV_ERR_INPUT') {
    const d = e.details ?? {};
    return {
      type: 'ProvError',
      code: 'PROV_ERR_INPUT',
      message: typeof d.logSafe === 'string' ? d.logSafe : 'input error (the message quotes the file; not logged)',
      ...(d.line === undefined ? {} : { line: d.line }),
      ...(d.row === undefined ? {} : { row: d.row }),
    };
  }
  return err instanceof Error ? stdSerializers.err(err) : err;
}

export interface LoggerConfig {
  level?: string;
  /** Base bindings (e.g. `{ role: 'identity-worker' }`). */
  base?: Record<string, unknown>;
}

/**
 * The one root logger: JSON lines to stdout (or the given stream), secrets and personal
 * data redacted by key. Per-job loggers are `log.child({ queue, jobId, dropId, row, attempt })`.
 */
export function createLogger(config: LoggerConfig = {}, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level: config.level ?? 'info',
    base: { pid: process.pid, ...config.base },
    redact: { paths: redactPaths(), censor: '[redacted]' },
    serializers: { err: serializeError },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}
