import { pino, type Logger, type DestinationStream, type LoggerOptions } from 'pino';

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
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}
