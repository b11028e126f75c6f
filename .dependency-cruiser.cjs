// The layers of src/ (docs/architecture.md#layers), checked by `npm run lint`.
//   shared/                                  the core: imports nothing else of src/
//   producers/  workers/  server/  simulator/ the processes: each imports shared/ (the server
//                                            also runs an ingest for uploads), never another
//   demo/                                    the demo: producers, the simulator, shared/
//   commands/  cli.ts                        the CLI: anything below it
// Each worker stage (identity, extension, status) is independent: what stages share lives in shared/.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'A cycle makes two modules one: break it by moving what both need into a lower module.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'shared-is-the-core',
      severity: 'error',
      comment: 'src/shared/ imports nothing above it.',
      from: { path: '^src/shared/' },
      to: { path: '^src/', pathNot: '^src/shared/' },
    },
    {
      name: 'workers-import-only-shared',
      severity: 'error',
      comment: 'Workers import shared/ only: never the server, producers, commands, demo or simulator.',
      from: { path: '^src/workers/' },
      to: { path: '^src/', pathNot: '^src/(shared|workers)/' },
    },
    {
      name: 'worker-stages-are-independent',
      severity: 'error',
      comment: 'A worker stage never imports another stage; what they share lives in shared/.',
      from: { path: '^src/workers/([^/]+)/' },
      to: { path: '^src/workers/[^/]+/', pathNot: '^src/workers/$1/' },
    },
    {
      name: 'worker-support-below-stages',
      severity: 'error',
      comment: 'The modules every stage uses (src/workers/*.ts) import no stage.',
      from: { path: '^src/workers/[^/]+\\.ts$' },
      to: { path: '^src/workers/[^/]+/' },
    },
    {
      name: 'producers-import-only-shared',
      severity: 'error',
      comment: 'Producers import shared/ only.',
      from: { path: '^src/producers/' },
      to: { path: '^src/', pathNot: '^src/(shared|producers)/' },
    },
    {
      name: 'server-imports-shared-and-producers',
      severity: 'error',
      comment: 'The server imports shared/ and, for uploads, the producers; never workers, commands or demo.',
      from: { path: '^src/server/' },
      to: { path: '^src/', pathNot: '^src/(shared|producers|server)/' },
    },
    {
      name: 'simulator-stands-alone',
      severity: 'error',
      comment:
        'The simulator uses config, logging, errors and shutdown of shared/, nothing of the client: both would agree on the same mistake.',
      from: { path: '^src/simulator/' },
      to: { path: '^src/', pathNot: '^src/(simulator/|shared/(config|logger|errors|shutdown)\\.ts$)' },
    },
    {
      name: 'demo-below-commands',
      severity: 'error',
      comment: 'The demo is run by a command; it never imports commands/ or cli.ts.',
      from: { path: '^src/demo/' },
      to: { path: '^src/(commands/|cli\\.ts$)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^src/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
