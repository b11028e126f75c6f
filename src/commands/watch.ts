import { Option, type Command } from 'commander';
import { DROP_ENCODINGS, type DropEncoding } from '../shared/mapping/encodings.ts';

const DELIMITERS = { ',': ',', ';': ';', tab: '\t', '|': '|' } as const;

export function register(program: Command): void {
  program
    .command('watch')
    .description(
      'Watch DIR/inbox: ingest each complete file, then move it to DIR/archive (with drop id, summary and report) or DIR/rejected (with a reason).',
    )
    .argument('<dir>', 'the watched directory (inbox/, processing/, archive/, rejected/ are created)')
    .option('--mapping <file>', 'mapping file applied to every drop')
    .addOption(
      new Option(
        '--format <f>',
        'input format (default: employee-import when a file starts with a 100 record, else from its name)',
      ).choices(['csv', 'json', 'ndjson', 'employee-import']),
    )
    .addOption(
      new Option('--encoding <e>', 'text encoding (default: UTF-8 with or without BOM, UTF-16 with BOM)').choices([
        ...DROP_ENCODINGS,
      ]),
    )
    .addOption(new Option('--delimiter <c>', 'CSV delimiter').choices(Object.keys(DELIMITERS)))
    .option('--poll-ms <n>', 'poll interval (env WATCH_POLL_MS, default 1000)')
    .action(
      async (
        dir: string,
        opts: {
          mapping?: string;
          format?: 'csv' | 'json' | 'ndjson' | 'employee-import';
          encoding?: DropEncoding;
          delimiter?: keyof typeof DELIMITERS;
          pollMs?: string;
        },
      ) => {
        const { runWatch } = await import('../producers/watch-main.ts');
        const pollMs = opts.pollMs === undefined ? undefined : Number(opts.pollMs);
        if (pollMs !== undefined && (!Number.isInteger(pollMs) || pollMs < 50)) {
          const { ProvError } = await import('../shared/errors.ts');
          throw new ProvError(
            'PROV_ERR_CONFIG',
            `Invalid configuration:\n  --poll-ms: an integer of at least 50: ${opts.pollMs}`,
          );
        }
        await runWatch({
          dir,
          ...(opts.mapping ? { mappingPath: opts.mapping } : {}),
          ...(opts.format ? { format: opts.format } : {}),
          ...(opts.encoding ? { encoding: opts.encoding } : {}),
          ...(opts.delimiter ? { delimiter: DELIMITERS[opts.delimiter] } : {}),
          ...(pollMs === undefined ? {} : { pollMs }),
        });
      },
    );
}
