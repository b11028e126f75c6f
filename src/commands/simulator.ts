import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('simulator')
    .description('Run the Concur simulator (OAuth, Identity v4.1, UPS v4, status, ESS) on a local port.')
    .option('--port <n>', 'port to listen on (env SIM_PORT, default 4010)')
    .option('--host <h>', 'interface to bind (env SIM_HOST, default 127.0.0.1)')
    .option('--client-id <id>', 'accepted OAuth client id (env SIM_CLIENT_ID)')
    .option('--client-secret <s>', 'accepted OAuth client secret (env SIM_CLIENT_SECRET)')
    .option('--company-id <uuid>', 'the company (env SIM_COMPANY_ID)')
    .option('--request-token <t>', 'accepted company request token (env SIM_REQUEST_TOKEN)')
    .option('--latency-ms <n>', 'fixed latency per API call (env SIM_LATENCY_MS)')
    .option('--jitter-ms <n>', 'random extra latency (env SIM_JITTER_MS)')
    .option('--identity-rps <n>', 'Identity rate limit, 0 = none (env SIM_IDENTITY_RPS)')
    .option('--ups-rps <n>', 'UPS rate limit, 0 = none (env SIM_UPS_RPS)')
    .option('--error-rate <f>', 'share of calls answered 503 (env SIM_ERROR_RATE)')
    .option('--hang-rate <f>', 'share of calls never answered (env SIM_HANG_RATE)')
    .option('--reset-rate <f>', 'share of connections reset (env SIM_RESET_RATE)')
    .option('--extension-delay-ms <n>', 'delay before extensions are processed (env SIM_EXTENSION_DELAY_MS)')
    .option('--token-lifetime-s <n>', 'access token lifetime (env SIM_TOKEN_LIFETIME_S)')
    .option('--seed <n>', 'seed for every random choice (env SIM_SEED)')
    .option(
      '--apply-then-fail-rate <f>',
      'share of writes applied, then answered 502/504 or reset (env SIM_APPLY_THEN_FAIL_RATE)',
    )
    .option('--search-lag-ms <n>', 'how long search, list and filter reads lag behind writes (env SIM_SEARCH_LAG_MS)')
    .option('--foreign-user-names <a,b>', 'userNames held by another company (env SIM_FOREIGN_USER_NAMES)')
    .option(
      '--request-token-lifetime-s <n>',
      'how long the company request token works (env SIM_REQUEST_TOKEN_LIFETIME_S)',
    )
    .option('--relocate-to <url>', "the company's new data center: code 16 elsewhere (env SIM_RELOCATE_TO)")
    .action(async (opts: Record<string, string | undefined>) => {
      const { runSimulatorCommand } = await import('../simulator/main.ts');
      await runSimulatorCommand(opts);
    });
}
