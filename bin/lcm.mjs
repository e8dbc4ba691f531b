#!/usr/bin/env node
// `lcm` entry point. Runs the TypeScript sources through tsx, so the command
// always matches the checkout (no stale build to forget).
import { register } from 'tsx/esm/api';

register();
// `lcm … | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
