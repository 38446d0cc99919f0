/**
 * @module chain/keep — what a validator keeps beyond one validation (a remembered certificate, a
 * cached result) is a copy made here, never the object a validation made.
 *
 * V8 pretenures an allocation site (an object or array literal) once most of the objects it makes
 * survive young-generation collections: from then on, every object from that site is allocated in
 * the old generation, for as long as the program runs. A validator whose cache is filling keeps
 * every new peer, so the parser's and the validator's own literals looked long-lived; once the
 * cache was full, each new peer's certificate, facts and result were still allocated old, held its
 * short-lived parts (byte views, strings) across collections, and was freed only by full
 * collections: twice the main-thread time per validation (keep.test.ts shows the pretenuring).
 * Copies made by this module's code leave the parser's sites to short-lived objects; this module's
 * own sites may be pretenured, which is right for what a cache keeps.
 */
import { hasMemo, withMemo } from '../internal/memo.js';
import type { Certificate } from '../x509/certificate.js';

/**
 * A copy of a certificate just decoded and not yet used or shared, for a cache to keep: its objects
 * and arrays are copied, with their memo slots; its byte views and dates are shared.
 */
export function keptCertificate(c: Certificate): Certificate {
  // A literal in the parser's field order: the copy then has the parse's hidden class, and its
  // fields in the object itself. (Built property by property, the memo slot added last would turn
  // it into a slow dictionary.) The fields a parse has only sometimes follow, in its order.
  const out: Record<string, unknown> = {
    der: c.der,
    tbs: c.tbs,
    version: c.version,
    serialNumber: c.serialNumber,
    serialNumberHex: c.serialNumberHex,
    tbsSignatureAlgorithm: copy(c.tbsSignatureAlgorithm),
    signatureAlgorithm: copy(c.signatureAlgorithm),
    issuer: copy(c.issuer),
    issuerDer: c.issuerDer,
    subject: copy(c.subject),
    subjectDer: c.subjectDer,
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    publicKey: copy(c.publicKey),
    extensions: copy(c.extensions),
    signature: c.signature,
  };
  for (const k in c) if (!(k in out)) out[k] = copy((c as unknown as Record<string, unknown>)[k]);
  return withMemo(out) as unknown as Certificate;
}

function copy(v: unknown): unknown {
  if (typeof v !== 'object' || v === null || ArrayBuffer.isView(v) || v instanceof Date) return v;
  if (Array.isArray(v)) return v.map(copy);
  // Spread, then replace in place (a handful of fields: it stays a fast object with its slot).
  const out: Record<string, unknown> = { ...v };
  for (const k in out) {
    const x = out[k];
    if (typeof x === 'object' && x !== null) out[k] = copy(x);
  }
  return hasMemo(v) ? withMemo(out) : out;
}
