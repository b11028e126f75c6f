import { loadConfig } from '../shared/config.ts';
import { createLogger } from '../shared/logger.ts';
import { ProvError } from '../shared/errors.ts';
import { Shutdown } from '../shared/shutdown.ts';
import { buildSimulator } from './app.ts';
import type { KnobsInput } from './knobs.ts';

/** CLI flags of `provision simulator` (strings as commander gives them; undefined = use SIM_*). */
export type SimulatorFlags = Record<string, string | undefined>;

function num(flags: SimulatorFlags, key: string, fallback: number): number {
  const raw = flags[key];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) {
    throw new ProvError(
      'PROV_ERR_CONFIG',
      `Invalid configuration:\n  --${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: not a number: ${raw}`,
    );
  }
  return n;
}

/** `provision simulator`: flags over SIM_* env values, listen, and stay up until a signal. */
export async function runSimulatorCommand(flags: SimulatorFlags): Promise<void> {
  const config = loadConfig();
  const log = createLogger({ level: config.LOG_LEVEL, base: { role: 'simulator' } });
  const knobs: KnobsInput = {
    latencyMs: num(flags, 'latencyMs', config.SIM_LATENCY_MS),
    jitterMs: num(flags, 'jitterMs', config.SIM_JITTER_MS),
    identityRps: num(flags, 'identityRps', config.SIM_IDENTITY_RPS),
    upsRps: num(flags, 'upsRps', config.SIM_UPS_RPS),
    errorRate: num(flags, 'errorRate', config.SIM_ERROR_RATE),
    hangRate: num(flags, 'hangRate', config.SIM_HANG_RATE),
    resetRate: num(flags, 'resetRate', config.SIM_RESET_RATE),
    extensionDelayMs: num(flags, 'extensionDelayMs', config.SIM_EXTENSION_DELAY_MS),
    tokenLifetimeS: num(flags, 'tokenLifetimeS', config.SIM_TOKEN_LIFETIME_S),
    seed: num(flags, 'seed', config.SIM_SEED),
    applyThenFailRate: num(flags, 'applyThenFailRate', config.SIM_APPLY_THEN_FAIL_RATE),
    searchLagMs: num(flags, 'searchLagMs', config.SIM_SEARCH_LAG_MS),
    foreignUserNames:
      flags.foreignUserNames === undefined
        ? config.SIM_FOREIGN_USER_NAMES
        : flags.foreignUserNames
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
    requestTokenLifetimeS: num(flags, 'requestTokenLifetimeS', config.SIM_REQUEST_TOKEN_LIFETIME_S),
    relocateTo: flags.relocateTo ?? config.SIM_RELOCATE_TO,
  };
  let sim;
  try {
    sim = await buildSimulator({
      tenant: {
        clientId: flags.clientId ?? config.SIM_CLIENT_ID,
        clientSecret: flags.clientSecret ?? config.SIM_CLIENT_SECRET,
        companyId: flags.companyId ?? config.SIM_COMPANY_ID,
        requestToken: flags.requestToken ?? config.SIM_REQUEST_TOKEN,
      },
      knobs,
      log,
    });
  } catch (err) {
    // zod issues from the knobs (e.g. --error-rate 2) are configuration errors.
    if (err instanceof Error && err.name === 'ZodError')
      throw new ProvError('PROV_ERR_CONFIG', `Invalid configuration:\n  ${err.message}`);
    throw err;
  }
  const shutdown = new Shutdown({ deadlineMs: config.SHUTDOWN_DEADLINE_MS, log });
  shutdown.register('log flush', () => log.flush());
  shutdown.register('simulator', () => sim.close());
  shutdown.installSignalHandlers();

  const url = await sim.listen({ port: num(flags, 'port', config.SIM_PORT), host: flags.host ?? config.SIM_HOST });
  log.info(
    { url, companyId: sim.ctx.tenant.companyId, clientId: sim.ctx.tenant.clientId },
    'Concur simulator listening',
  );
  process.stderr.write(`Concur simulator listening on ${url}\n`);
}
