#!/usr/bin/env node
/** @module bin/message — `message URL [JSON]`; the only code that reads argv and exits. */
import { messageMain } from '../main.js';
import { startIo } from '../runtime/start.js';

process.exit(await messageMain(process.argv.slice(2), await startIo('message')));
