#!/usr/bin/env node
// The `certified` command: see launch.mjs.
import { launch } from './launch.mjs';

await launch('certified');
