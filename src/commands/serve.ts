import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('serve')
    .description('Run the operations server: drop page and API, Bull Board, ESS webhook, /metrics, /healthz, /readyz.')
    .option('--port <n>', 'port to listen on (env PORT, default 3000; 0 = any free port)')
    .option('--host <h>', 'interface to bind (env SERVER_HOST, default 127.0.0.1)')
    .option('--insecure', 'serve without credentials (local use only; env DASHBOARD_INSECURE=true)')
    .action(async (opts: { port?: string; host?: string; insecure?: boolean }) => {
      const { runServer } = await import('../server/main.ts');
      const port = opts.port === undefined ? undefined : Number(opts.port);
      if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
        const { ProvError } = await import('../shared/errors.ts');
        throw new ProvError('PROV_ERR_CONFIG', `Invalid configuration:\n  --port: not a port: ${opts.port}`);
      }
      await runServer({
        ...(port === undefined ? {} : { port }),
        ...(opts.host ? { host: opts.host } : {}),
        ...(opts.insecure ? { insecure: true } : {}),
      });
    });
}
