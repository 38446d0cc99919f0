/** @module commands/shared — helpers the commands share: loading the identity, reading input files. */
import { fingerprint, formatName, type Name } from '@certified/core';
import { loadIdentity, type Identity } from '@certified/identity';
import { CliError, type Context, type OptionSpec } from '../cli.js';

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

/** The most of a response body a command reads: it keeps the body whole (to parse or save it). */
export const RESPONSE_LIMIT: number = 64 * 2 ** 20;

/**
 * A response body as text, read up to `limit` bytes: a server that keeps sending (an endless stream)
 * fails with ERR_HTTP_BODY_TOO_LARGE instead of filling memory. The rest of the body is cancelled.
 *
 * @example
 * const text = await responseText(res, url);
 */
export async function responseText(
  res: Response,
  url: string,
  limit: number = RESPONSE_LIMIT,
): Promise<string> {
  if (res.body === null) return '';
  const decoder = new TextDecoder();
  const reader = res.body.getReader();
  let text = '';
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw new CliError(
        'ERR_HTTP_BODY_TOO_LARGE',
        `${url} sent a response body of more than ${limit / 2 ** 20} MiB; the response is read whole, so reading stopped there.`,
      );
    }
    text += decoder.decode(value, { stream: true });
  }
}
