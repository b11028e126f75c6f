#!/usr/bin/env node
// The CLI. Runs the compiled code in dist/ (built by `npm ci` through `prepare`, or `npm run build`).
// In a development checkout whose src/ changed since that build it runs src/ through tsx instead,
// so what runs is never older than the source (docs/testing.md#the-compiled-build).
import { buildState, ROOT } from './build-state.js';

const state = buildState();
let main;
if (state.current) {
  ({ main } = await import('../dist/cli.js'));
} else {
  let tsx;
  try {
    tsx = await import('tsx/esm/api');
  } catch {
    process.stderr.write(`provision: dist/ in ${ROOT} is ${state.reason}; run \`npm run build\`\n`);
    process.exit(1);
  }
  if (process.stderr.isTTY) process.stderr.write(`provision: dist/ is ${state.reason}; running src/ through tsx\n`);
  tsx.register();
  ({ main } = await import('../src/cli.ts'));
}
await main(process.argv);
