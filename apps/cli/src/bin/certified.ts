#!/usr/bin/env node
/** @module bin/certified — the only code that reads argv and exits. */
import { main } from '../main.js';
import { args, exit, startIo } from '../runtime/start.js';

exit(await main(args(), await startIo('certified')));
