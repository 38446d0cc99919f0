#!/usr/bin/env node
// The `message` command: see launch.mjs.
import { launch } from './launch.mjs';

await launch('message');
