import type { Config } from '../../shared/config.ts';
import { terminalText } from '../../shared/safe-text.ts';
import { identityChecks, upsChecks, clockCheck } from './api-checks.ts';
import { fail, reasonOf, type Check } from './check.ts';
import { dropChecks } from './drop-checks.ts';
import { openDoctorEnv, useMemoryTokenStore, type DoctorEnv, type DoctorOptions } from './env.ts';
import { essChecks } from './ess-checks.ts';
import { mappingCheck } from './mapping-checks.ts';
import { redisChecks } from './redis-checks.ts';
import { roleCodesCheck } from './role-checks.ts';
import { baseUrlCheck, geolocationCheck, grantChecks, requestTokenCheck } from './token-checks.ts';

export interface DoctorReport {
  checks: Check[];
  /** True when no check failed. */
  ok: boolean;
}

/**
 * Every check, in the order a setup is fixed: Redis, the token, the APIs, the files, events.
 * A group that needs what an earlier one could not get reports "not checked" instead of failing
 * again. Reads only, apart from the shared token (stored as the workers would) and a planned drop.
 */
export async function runDoctor(config: Config, options: DoctorOptions): Promise<DoctorReport> {
  const env: DoctorEnv = openDoctorEnv(config, options);
  const checks: Check[] = [];
  // A check that throws (a bug, a network error nobody expected) is one failed line, not a crash.
  const run = async (name: string, fn: () => Check | Check[] | Promise<Check | Check[]>): Promise<void> => {
    try {
      const got = await fn();
      checks.push(...(Array.isArray(got) ? got : [got]));
    } catch (err) {
      checks.push(fail(name, `${reasonOf(err)}: run doctor again; if it persists, report it`));
    }
  };
  try {
    await run('redis.reachable', () => redisChecks(env));
    if (!env.redisUp) useMemoryTokenStore(env);
    await run('concur.base-url', () => baseUrlCheck(env));
    await run('token.grant', () => grantChecks(env));
    await run('token.request-token', () => requestTokenCheck(env));
    await run('token.geolocation', () => geolocationCheck(env));
    await run('identity.read', () => identityChecks(env));
    await run('clock.skew', () => clockCheck(env));
    await run('ups.reachable', () => upsChecks(env));
    await run('mapping.compiles', () => mappingCheck(env));
    await run('drop.rows', () => dropChecks(env));
    await run('spend.role-codes', () => roleCodesCheck(env));
    await run('ess.subscription', () => essChecks(env));
  } finally {
    await env.close();
  }
  return { checks, ok: checks.every((c) => c.status !== 'fail') };
}

/** `{"checks":[{"name","status","detail"}],"ok"}`, exactly. */
export function renderJson(report: DoctorReport): string {
  const checks = report.checks.map(({ name, status, detail }) => ({ name, status, detail }));
  return `${JSON.stringify({ checks, ok: report.ok })}\n`;
}

export function renderText(report: DoctorReport, config: Config): string {
  const width = Math.max(...report.checks.map((c) => c.name.length));
  const lines = [
    `provision doctor: Concur ${new URL(config.CONCUR_BASE_URL).origin}, company ${config.CONCUR_COMPANY_ID}`,
  ];
  for (const c of report.checks)
    lines.push(`${c.status.toUpperCase().padEnd(4)}  ${c.name.padEnd(width)}  ${c.detail}`);
  const count = (s: Check['status']): number => report.checks.filter((c) => c.status === s).length;
  const verdict = report.ok
    ? count('warn') > 0
      ? 'ready; read the warnings'
      : 'ready for a first plan'
    : 'not ready: fix the FAIL lines and run doctor again';
  lines.push(
    `${report.checks.length} checks: ${count('pass')} pass, ${count('warn')} warn, ${count('fail')} fail: ${verdict}`,
  );
  return terminalText(`${lines.join('\n')}\n`);
}
