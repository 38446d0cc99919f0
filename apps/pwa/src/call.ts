/**
 * @module call — calls a service with a request signed by this browser's identity (RFC 9421, the
 * chain the service accepts), for servers running `requireSignedRequest()`. Loaded on first use.
 */
import { NetworkError } from '@certified/core';
import type { Identity } from '@certified/identity';
import { requestSignerFor } from '@certified/web';

/** What came back. */
export interface Answer {
  readonly status: number;
  readonly body: string;
}

/**
 * Signs and sends one request. `alias` picks a known service (its `auths` choose the chain, its
 * URL prefixes `target`); without it `target` is a whole URL and our own chain is presented.
 */
export async function call(
  me: Identity,
  request: { alias?: string; target: string; method: string; body?: string },
): Promise<Answer> {
  const service = request.alias ? me.services.find((s) => s.alias === request.alias) : undefined;
  const url = service ? new URL(request.target, withSlash(service.url)).href : request.target;
  const signer = requestSignerFor(me, service);
  const hasBody = request.body !== undefined && request.body !== '' && request.method !== 'GET';
  let res: Response;
  try {
    res = await signer.fetch(url, {
      method: request.method,
      ...(hasBody ? { body: request.body!, headers: { 'content-type': 'application/json' } } : {}),
    });
  } catch (e) {
    // fetch says only "Failed to fetch": offline, refused, or CORS not allowing the signature headers.
    throw new NetworkError(
      'ERR_NET_CONNECT',
      `${url} could not be reached (offline, refused, or its CORS does not allow the signature headers).`,
      { cause: e },
    );
  }
  return { status: res.status, body: await res.text() };
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}
