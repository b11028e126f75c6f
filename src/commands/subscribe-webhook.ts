import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('subscribe-webhook')
    .description('Subscribe a webhook URL to Concur provisionCompleted events (PUT /events/v4/subscriptions/webhook).')
    .requiredOption('--url <url>', "the server's public webhook URL, e.g. https://host/webhooks/concur")
    .option('--id <id>', 'subscription id (lowercase letters, digits, . and -)', 'provisioning.pipeline.webhook')
    .action(async (opts: { url: string; id: string }) => {
      const { runSubscribeWebhook } = await import('../server/subscribe-command.ts');
      await runSubscribeWebhook(opts);
    });
}
