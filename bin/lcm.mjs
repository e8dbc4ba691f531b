#!/usr/bin/env node
// `lcm` entry point. Runs the TypeScript sources through tsx, so the command
// always matches the checkout (no stale build to forget).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
