#!/usr/bin/env node
import { main } from './main.js';
import { failQuietly, swallowClosedOutput } from './process-guard.js';

swallowClosedOutput(process);
process.on('uncaughtException', (e) => failQuietly(e, process));
process.on('unhandledRejection', (e) => failQuietly(e, process));
try {
  process.exitCode = await main(process.argv.slice(2), process);
} catch (e) {
  failQuietly(e, process);
}
