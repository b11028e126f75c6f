import type { Command } from 'commander';
import { Option } from 'commander';
import { ingestDrop } from '../producers/ingest.ts';
import { DROP_FORMATS } from '../producers/sources/index.ts';
import { isProvError } from '../shared/errors.ts';
import { openCommandContext } from './context.ts';
import { EXIT } from './exit-codes.ts';
import { waitForDrop } from './progress.ts';
import { summaryOf } from './summary.ts';

const DELIMITERS: Record<string, ',' | ';' | '\t' | '|'> = { ',': ',', ';': ';', '\t': '\t', tab: '\t', '\\t': '\t', '|': '|' };

export function register(program: Command): void {
  program
    .command('ingest')
    .description('Ingest a drop file (CSV, JSON array or NDJSON): validate, record in the ledger, enqueue identity jobs.')
    .argument('<file>', 'the drop file')
    .option('--mapping <file>', 'mapping file (JSON) from HR columns to template columns')
    .addOption(new Option('--format <format>', 'file format (default: from the extension)').choices([...DROP_FORMATS]))
    .option('--delimiter <c>', "CSV delimiter: ',' ';' tab '|' (default: sniffed)")
    .option('--force', 'make a new drop even if this file was ingested before')
    .option('--wait', 'wait until every row is settled, showing progress, then print a summary')
    .option('--json', 'print one JSON object on stdout')
    .action(async (file: string, opts: { mapping?: string; format?: (typeof DROP_FORMATS)[number]; delimiter?: string; force?: boolean; wait?: boolean; json?: boolean }) => {
      let delimiter: ',' | ';' | '\t' | '|' | undefined;
      if (opts.delimiter !== undefined) {
        delimiter = DELIMITERS[opts.delimiter];
        if (!delimiter) {
          process.stderr.write(`--delimiter must be one of , ; tab | (got ${JSON.stringify(opts.delimiter)})\n`);
          process.exitCode = EXIT.USAGE;
          return;
        }
      }
      const ctx = openCommandContext('ingest');
      try {
        const result = await ingestDrop(
          { ledger: ctx.ledger, identityQueue: ctx.queues.identity, log: ctx.log },
          { path: file, ...(opts.mapping ? { mappingPath: opts.mapping } : {}), ...(opts.format ? { format: opts.format } : {}), ...(delimiter ? { delimiter } : {}), force: opts.force === true },
        );
        if (!opts.wait) {
          if (opts.json) process.stdout.write(`${JSON.stringify({ dropId: result.dropId, existed: result.existed, status: result.status, rows: result.rows, invalid: result.invalid })}\n`);
          else process.stdout.write(`${result.dropId}\n`);
          if (result.existed) process.stderr.write(`drop ${result.dropId} was ingested before (status ${result.status}); nothing new to do (use --force for a new drop)\n`);
          return;
        }
        if (!opts.json) process.stderr.write(`drop ${result.dropId}: ${result.rows} rows, ${result.invalid} invalid\n`);
        const progress = await waitForDrop(ctx.ledger, result.dropId);
        const summary = summaryOf(progress);
        process.stdout.write(opts.json ? `${JSON.stringify(summary)}\n` : `${renderSummary(summary)}\n`);
        process.exitCode = summary.failed > 0 ? EXIT.ROWS_FAILED : EXIT.OK;
      } catch (err) {
        if (isProvError(err, 'PROV_ERR_INPUT')) {
          process.stderr.write(`${err.message}\n`);
          process.exitCode = EXIT.ERROR;
          return;
        }
        throw err;
      } finally {
        await ctx.close();
      }
    });
}

function renderSummary(s: ReturnType<typeof summaryOf>): string {
  const parts = Object.entries(s.states)
    .filter(([, n]) => n > 0)
    .map(([state, n]) => `${state} ${n}`);
  return `drop ${s.dropId}: ${s.rows} rows, ${s.status}: ${parts.join(', ') || 'no rows'}`;
}
