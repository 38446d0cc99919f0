#!/usr/bin/env node
/** @module bin/message — `message URL [JSON]`; the only code that reads argv and exits. */
import { messageMain } from '../main.js';
import { args, exit, startIo } from '../runtime/start.js';

exit(await messageMain(args(), await startIo('message')));
