/** @module commands/shared — helpers the commands share: loading the identity, reading input files. */
import { fingerprint, formatName, type Name } from '@certified/core';
import { loadIdentity, type Identity } from '@certified/identity';
import type { Context, OptionSpec } from '../cli.js';

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

/** `--json`: what a command prints, as one JSON document with the shape its README entry gives. */
export const JSON_OPTION: OptionSpec = {
  type: 'boolean',
  description: 'Print JSON instead of text (the shape is in the README).',
};

/** Prints `json()` with --json, else `text()`: both built from the same result. */
export function report(ctx: Context, json: () => unknown, text: () => string): void {
  if (ctx.values['json'] === true) printJson(ctx, json());
  else ctx.io.stdout(text());
}

/** A certificate as the JSON outputs name it. */
export function certificateJson(c: {
  readonly subject: Name;
  readonly notAfter: Date;
  readonly der: Uint8Array;
}): { subject: string; fingerprint: string; notAfter: string } {
  return {
    subject: formatName(c.subject),
    fingerprint: fingerprint(c.der),
    notAfter: c.notAfter.toISOString(),
  };
}
