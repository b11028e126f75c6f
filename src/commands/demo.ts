import { Option, type Command } from 'commander';

export function register(program: Command): void {
  program
    .command('demo')
    .description(
      'Run everything against the simulator: simulator, workers and server as child processes, a generated drop of a few thousand people run to completion, then the URLs of the drop page and Bull Board.',
    )
    .option('--people <n>', 'people in the generated drop', '3000')
    .option('--seed <n>', 'seed of the generated drop', '1')
    .addOption(
      new Option(
        '--format <f>',
        'the generated drop: the default template (csv) or a legacy Concur employee import flat file',
      )
        .choices(['csv', 'employee-import'])
        .default('csv'),
    )
    .option('--exit', 'stop when the drop is complete instead of serving until Ctrl-C')
    .option('--json', 'print the summary as one JSON object on stdout')
    .action(
      async (opts: {
        people: string;
        seed: string;
        format: 'csv' | 'employee-import';
        exit?: boolean;
        json?: boolean;
      }) => {
        const { ProvError } = await import('../shared/errors.ts');
        const people = Number(opts.people);
        const seed = Number(opts.seed);
        if (!Number.isInteger(people) || people < 1 || people > 200_000)
          throw new ProvError('PROV_ERR_CONFIG', `Invalid configuration:\n  --people: 1..200000: ${opts.people}`);
        if (!Number.isInteger(seed))
          throw new ProvError('PROV_ERR_CONFIG', `Invalid configuration:\n  --seed: an integer: ${opts.seed}`);
        // The worker roles this build offers (read from the CLI itself, so the demo never asks for a missing one).
        const worker = program.commands.find((c) => c.name() === 'worker');
        const roles = worker?.registeredArguments[0]?.argChoices ?? ['identity'];
        const { runDemo } = await import('../demo/main.ts');
        const summary = await runDemo({
          people,
          seed,
          format: opts.format,
          exit: opts.exit === true,
          json: opts.json === true,
          roles,
        });
        // Stopped by a signal before the end: leave now (a step still pending must not hold the process).
        if (summary === undefined) process.exit(130);
        if (summary.status !== 'complete') process.exitCode = 1;
      },
    );
}
