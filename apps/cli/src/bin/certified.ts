#!/usr/bin/env node
/** @module bin/certified — the only code that reads argv and exits. */
// `process` is the global: importing node:process costs Node 20 ~8 ms at start (see build.mjs).
import { main } from '../main.js';
import { startIo } from '../runtime/start.js';

process.exit(await main(process.argv.slice(2), await startIo('certified')));
