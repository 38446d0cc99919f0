/**
 * @module tls/connection-trust — the verdict on one accepted connection's client as trust changes,
 * shared by `createMtlsServer` and `serveGrpc`. A trust update puts the connection under review
 * synchronously, before re-judging starts, and every request must pass {@link ConnectionTrust.admits}
 * before it is dispatched: so no request runs on a verdict the trust in force has not confirmed.
 * Not exported from the package.
 */
import type { TLSSocket } from 'node:tls';
import type {
  NetworkCode,
  PathValidationCode,
  PathValidator,
  ValidatedPath,
} from '@certified/core';
import { judgeClient, type JudgeOptions } from './admission.js';

/** Why the trust in force refused a connection's client. */
export interface Revocation {
  readonly code: PathValidationCode | NetworkCode;
  readonly message: string;
}

export class ConnectionTrust {
  /** The chain the client presented, peer first (refreshed by each judgment). */
  chain: Uint8Array[];
  /** The path the trust in force accepted; the last one accepted, once revoked. */
  path: ValidatedPath;
  /** Set for good when a trust update refuses the client. */
  revoked: Revocation | undefined = undefined;
  /** Pending while a trust update re-judges the client. */
  private review: Promise<unknown> | undefined = undefined;
  /** Counts re-judgings, so that only the latest one's verdict is kept. */
  private round = 0;

  constructor(chain: Uint8Array[], path: ValidatedPath) {
    this.chain = chain;
    this.path = path;
  }

  /**
   * Whether a request may be dispatched now: true or false when the verdict is settled (no
   * allocation on this per-request path), else a promise of the answer once re-judging ends.
   */
  admits(): boolean | Promise<boolean> {
    return this.review ? this.settled() : this.revoked === undefined;
  }

  /**
   * Re-judges the client with `validator`. The connection is under review from this call on;
   * a later call supersedes it (its verdict is dropped). A connection stays revoked once revoked.
   *
   * @returns the revocation when this judgment revoked the connection, else undefined.
   */
  rejudge(
    socket: TLSSocket,
    validator: PathValidator,
    options: JudgeOptions,
  ): Promise<Revocation | undefined> {
    if (this.revoked) return Promise.resolve(undefined);
    const round = ++this.round;
    const judged = this.judge(socket, validator, options, round);
    this.review = judged;
    return judged;
  }

  private async judge(
    socket: TLSSocket,
    validator: PathValidator,
    options: JudgeOptions,
    round: number,
  ): Promise<Revocation | undefined> {
    let verdict: Awaited<ReturnType<typeof judgeClient>>;
    try {
      verdict = await judgeClient(socket, validator, options, this.chain);
    } catch (e) {
      // judgeClient refuses rather than throws; should that change, fail closed.
      verdict = { ok: false, code: 'ERR_NET_TLS', message: String(e), chain: this.chain };
    }
    if (round !== this.round || this.revoked) return undefined;
    this.review = undefined;
    this.chain = verdict.chain;
    if (verdict.ok) {
      this.path = verdict.path;
      return undefined;
    }
    this.revoked = { code: verdict.code, message: verdict.message };
    return this.revoked;
  }

  private async settled(): Promise<boolean> {
    // A superseded review settles while the next one is pending: wait for the latest.
    while (this.review) await this.review;
    return this.revoked === undefined;
  }
}
