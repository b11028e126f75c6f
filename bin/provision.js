#!/usr/bin/env node
// Runs the TypeScript entry point through tsx, so `npm ci` is the only install step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
await main(process.argv);
