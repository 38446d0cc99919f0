#!/usr/bin/env node
/** @module bin/certified — the only code that reads argv and exits. */
import process from 'node:process';
import { main } from '../main.js';
import { nodeIo } from '../runtime/node.js';

process.exit(await main(process.argv.slice(2), nodeIo()));
