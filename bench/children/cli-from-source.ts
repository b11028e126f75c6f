// The CLI run from src/ through tsx, as bin/provision.js ran it before the compiled build: the
// startup benchmark's baseline. Usage: node bench/children/cli-from-source.ts ARGS (run by bench/startup.ts).
import { main } from '../../src/cli.ts';

await main(process.argv);
