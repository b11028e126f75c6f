import type { Command } from 'commander';
import { Option } from 'commander';
import { DROP_FORMATS, ENCODINGS } from '../producers/sources/index.ts';
import { EXIT } from './exit-codes.ts';

export function register(program: Command): void {
  program
    .command('doctor')
    .description(
      'Readiness check before the first write: Redis, the Concur token, Identity, UPS, role codes, events, the clock; with --drop, plans a file (nothing is sent).',
    )
    .option('--drop <file>', 'also read, validate and plan this drop file (as ingest --plan; nothing is sent)')
    .option('--mapping <file>', 'the mapping file drops use (checked, and used for --drop)')
    .addOption(new Option('--format <format>', 'format of the --drop file').choices([...DROP_FORMATS]))
    .addOption(new Option('--encoding <encoding>', 'text encoding of the --drop file').choices([...ENCODINGS]))
    .option('--json', 'print {"checks":[{"name","status","detail"}],"ok"} on stdout')
    .action(async (opts: DoctorFlags) => {
      const { loadConfig } = await import('../shared/config.ts');
      const { runDoctor, renderJson, renderText } = await import('./doctor/run.ts');
      const config = loadConfig();
      const report = await runDoctor(config, {
        ...(opts.drop ? { drop: opts.drop } : {}),
        ...(opts.mapping ? { mapping: opts.mapping } : {}),
        ...(opts.format ? { format: opts.format } : {}),
        ...(opts.encoding ? { encoding: opts.encoding } : {}),
      });
      process.stdout.write(opts.json ? renderJson(report) : renderText(report, config));
      process.exitCode = report.ok ? EXIT.OK : EXIT.ROWS_FAILED;
    });
}

interface DoctorFlags {
  drop?: string;
  mapping?: string;
  format?: (typeof DROP_FORMATS)[number];
  encoding?: (typeof ENCODINGS)[number];
  json?: boolean;
}
