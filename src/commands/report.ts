import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Option, type Command } from 'commander';
import { renderReport, reportRecords, type ReportFormat } from '../shared/ledger/report.ts';
import { requireDrop, withCommandContext } from './context.ts';

interface ReportFlags {
  format: ReportFormat;
  out?: string;
  states?: string;
  changes?: boolean;
  bom?: boolean;
}

export function register(program: Command): void {
  program
    .command('report')
    .description(
      'Write the per-row report of a drop (row, userName, employeeNumber, state, uuid, provisionId, error code, message, schemaPath).',
    )
    .argument('<drop>', 'drop id')
    .addOption(new Option('--format <format>', 'report format').choices(['csv', 'jsonl']).default('csv'))
    .option('--out <file>', 'write to a file instead of stdout')
    .option('--states <list>', 'only rows in these states (comma-separated)')
    .option(
      '--changes',
      'add a changes column: old → new for every field the identity stage changed (personal data: keep the file safe)',
    )
    .option('--bom', 'CSV: start with a UTF-8 byte order mark, so Excel reads accents and non-Latin names right')
    .action(async (dropId: string, opts: ReportFlags) => {
      await withCommandContext('report', async (ctx) => {
        await requireDrop(ctx, dropId);
        const states = opts.states ? new Set(opts.states.split(',').map((s) => s.trim())) : undefined;
        const text = Readable.from(
          renderReport(reportRecords(ctx.ledger, dropId, states), opts.format, {
            changes: opts.changes === true,
            bom: opts.bom === true && opts.format === 'csv',
          }),
        );
        if (opts.out) await pipeline(text, createWriteStream(opts.out));
        else await pipeline(text, process.stdout, { end: false });
      });
    });
}
