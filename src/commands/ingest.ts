import { basename } from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { ingestDrop, type IngestOptions } from '../producers/ingest.ts';
import { parseManifest, type Manifest } from '../producers/manifest.ts';
import { DROP_FORMATS, ENCODINGS } from '../producers/sources/index.ts';
import { isProvError } from '../shared/errors.ts';
import { guardsFromConfig } from '../shared/guards/limits.ts';
import { openCommandContext } from './context.ts';
import { EXIT } from './exit-codes.ts';
import { printError, printJson } from './output.ts';
import { runPlan } from './plan-output.ts';
import { ProgressLine } from './progress-line.ts';
import { waitAndSummarize } from './summary.ts';

const DELIMITERS: Record<string, ',' | ';' | '\t' | '|'> = {
  ',': ',',
  ';': ';',
  '\t': '\t',
  tab: '\t',
  '\\t': '\t',
  '|': '|',
};

export function register(program: Command): void {
  program
    .command('ingest')
    .description(
      'Ingest a drop file (CSV, JSON array, NDJSON, or a legacy Concur employee import): validate, record in the ledger, enqueue identity jobs.',
    )
    .argument('<file>', 'the drop file')
    .option('--mapping <file>', 'mapping file (JSON) from HR columns to template columns')
    .addOption(
      new Option(
        '--format <format>',
        'file format (default: employee-import when the first line is a 100 record, else from the extension)',
      ).choices([...DROP_FORMATS]),
    )
    .addOption(
      new Option(
        '--encoding <encoding>',
        'text encoding (default: UTF-8 with or without BOM, UTF-16 with BOM)',
      ).choices([...ENCODINGS]),
    )
    .option('--delimiter <c>', "CSV delimiter: ',' ';' tab '|' (default: sniffed)")
    .option('--force', 'make a new drop even if this file was ingested before')
    .option('--wait', 'wait until every row is settled, showing progress, then print a summary')
    .option('--json', 'print one JSON object on stdout')
    .option('--progress', 'show rows read (and planned) on stderr even when it is not a terminal')
    .option(
      '--plan',
      'dry run: read Concur (no writes) and print what a real run would do per row; the drop is recorded as planned',
    )
    .option('--out <file>', 'with --plan: also write the plan report (.csv, or .jsonl) with the report columns')
    .option('--expect-rows <n>', 'completeness: the file must hold exactly N data rows (overrides FILE.manifest.json)')
    .option('--sha256 <hex>', "completeness: the file's sha256 (overrides FILE.manifest.json)")
    .action(async (file: string, opts: IngestFlags) => {
      let expect: Manifest | undefined;
      try {
        expect = manifestFromFlags(opts);
      } catch (err) {
        if (!isProvError(err, 'PROV_ERR_INPUT')) throw err;
        printError('PROV_ERR_USAGE', err.message);
        process.exitCode = EXIT.USAGE;
        return;
      }
      if (opts.plan && opts.wait) {
        printError('PROV_ERR_USAGE', '--plan and --wait do not go together: a plan sends nothing');
        process.exitCode = EXIT.USAGE;
        return;
      }
      let delimiter: ',' | ';' | '\t' | '|' | undefined;
      if (opts.delimiter !== undefined) {
        delimiter = DELIMITERS[opts.delimiter];
        if (!delimiter) {
          printError('PROV_ERR_USAGE', `--delimiter must be one of , ; tab | (got ${JSON.stringify(opts.delimiter)})`);
          process.exitCode = EXIT.USAGE;
          return;
        }
      }
      const ctx = await openCommandContext('ingest');
      const progress = new ProgressLine(opts.progress === true || process.stderr.isTTY === true);
      const reading = `reading ${basename(file)}`;
      const planning = `planning ${basename(file)}`;
      try {
        const options: IngestOptions = {
          onProgress: (rows) => progress.update(reading, rows),
          onPlanProgress: (rows) => progress.update(planning, rows),
          path: file,
          ...(opts.mapping ? { mappingPath: opts.mapping } : {}),
          ...(opts.format ? { format: opts.format } : {}),
          ...(opts.encoding ? { encoding: opts.encoding } : {}),
          ...(delimiter ? { delimiter } : {}),
          ...(expect ? { expect } : {}),
          force: opts.force === true,
        };
        const deps = {
          ledger: ctx.ledger,
          identityQueue: ctx.queues.identity,
          log: ctx.log,
          guards: guardsFromConfig(ctx.config),
        };
        if (opts.plan) {
          await runPlan(ctx, deps, options, {
            json: opts.json === true,
            ...(opts.out ? { out: opts.out } : {}),
            planned: (rows) => progress.done(planning, rows),
          });
          return;
        }
        const result = await ingestDrop(deps, options);
        if (!result.existed) progress.done(reading, result.rows);
        /** The drop on stdout: its id, or with --json what became of it. */
        const printDrop = (extra: { reason?: string | undefined } = {}): void => {
          if (opts.json)
            printJson({
              dropId: result.dropId,
              existed: result.existed,
              status: result.status,
              rows: result.rows,
              invalid: result.invalid,
              ...extra,
            });
          else process.stdout.write(`${result.dropId}\n`);
        };
        if (result.status === 'held') {
          printDrop({ reason: result.reason });
          process.stderr.write(
            `drop ${result.dropId} is held: ${result.reason ?? 'waiting for approval'}\n  provision approve ${result.dropId}   # run it\n  provision cancel ${result.dropId}    # end it, sending nothing\n`,
          );
          process.exitCode = EXIT.HELD;
          return;
        }
        for (const w of result.warnings ?? []) process.stderr.write(`warning: ${w}\n`);
        if (!opts.wait) {
          printDrop();
          if (result.existed)
            process.stderr.write(
              `drop ${result.dropId} was ingested before (status ${result.status}); nothing new to do (use --force for a new drop)\n`,
            );
          return;
        }
        if (!opts.json) process.stderr.write(`drop ${result.dropId}: ${result.rows} rows, ${result.invalid} invalid\n`);
        await waitAndSummarize(ctx, result.dropId, opts.json === true);
      } catch (err) {
        progress.clear();
        if (isProvError(err, 'PROV_ERR_INPUT')) {
          printError(err.code, err.message);
          process.exitCode = EXIT.ERROR;
          return;
        }
        throw err;
      } finally {
        await ctx.close();
      }
    });
}

interface IngestFlags {
  mapping?: string;
  format?: (typeof DROP_FORMATS)[number];
  encoding?: (typeof ENCODINGS)[number];
  delimiter?: string;
  force?: boolean;
  wait?: boolean;
  json?: boolean;
  progress?: boolean;
  plan?: boolean;
  out?: string;
  expectRows?: string;
  sha256?: string;
}

/** `--expect-rows` / `--sha256` as a manifest (they override FILE.manifest.json). */
function manifestFromFlags(opts: IngestFlags): Manifest | undefined {
  if (opts.expectRows === undefined && opts.sha256 === undefined) return undefined;
  const rows =
    opts.expectRows === undefined ? undefined : /^\d+$/.test(opts.expectRows) ? Number(opts.expectRows) : Number.NaN;
  return parseManifest(
    { ...(rows === undefined ? {} : { rows }), ...(opts.sha256 === undefined ? {} : { sha256: opts.sha256 }) },
    '--expect-rows/--sha256',
  );
}
