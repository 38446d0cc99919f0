/** @module commands/shared — helpers the commands share: loading the identity, reading input files. */
import { loadIdentity, type Identity } from '@certified/identity';
import type { Context } from '../cli.js';

/** The identity in the configured directory. */
export function loadMe(ctx: Context): Promise<Identity> {
  return loadIdentity(ctx.store());
}

/** A file's text (`-` reads standard input). */
export async function readText(ctx: Context, path: string): Promise<string> {
  return new TextDecoder().decode(await ctx.io.readFile(path));
}

/** Prints a JSON value, pretty. */
export function printJson(ctx: Context, value: unknown): void {
  ctx.io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}
