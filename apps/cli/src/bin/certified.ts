#!/usr/bin/env node
/** @module bin/certified — the only code that reads argv and exits. */
import process from 'node:process';
import { main } from '../main.js';
import { startIo } from '../runtime/start.js';

process.exit(await main(process.argv.slice(2), await startIo('certified')));
