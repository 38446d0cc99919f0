/**
 * @module chain/name-constraints — the nameConstraints extension (RFC 5280 §4.2.1.10): strict
 * decoding, and checking one certificate's names against one CA's constraints.
 */
import { children, Cursor, readRoot, TAG, valueOf, type Tlv } from '../internal/der.js';
import { bytesToIp, decodeGeneralName, ipToBytes, type GeneralName } from '../x509/general-name.js';
import { rdnKeys, type Name } from '../x509/name.js';
import type { Certificate } from '../x509/certificate.js';
import { factsOf } from './facts.js';
import { asciiLower, isHostName, parseMailbox, uriHost, dnsPattern } from './names.js';

/** One decoded subtree base, in the form matching needs. */
export type Subtree =
  | { readonly type: 'dns'; readonly value: string }
  | { readonly type: 'ip'; readonly addr: Uint8Array; readonly mask: Uint8Array }
  /** `local@domain` (exact mailbox), `domain` (that host) or `.domain` (any subdomain). */
  | { readonly type: 'email'; readonly value: string }
  /** `host` or `.domain`. */
  | { readonly type: 'uri'; readonly value: string }
  | { readonly type: 'dirName'; readonly value: Name }
  /** otherName, x400Address, ediPartyName, registeredID: never evaluated, see {@link checkNames}. */
  | { readonly type: 'other'; readonly tag: number };

export type SubtreeType = Subtree['type'];

export interface NameConstraints {
  readonly permitted: readonly Subtree[];
  readonly excluded: readonly Subtree[];
}

/** Why a constraints extension was refused (a CA carrying it cannot issue). */
export class NameConstraintsInvalid extends Error {}

const IP_TAG = 0x87;

function prefixMask(mask: Uint8Array): boolean {
  let ended = false;
  for (const byte of mask)
    for (let i = 7; i >= 0; i--) {
      if (byte & (1 << i)) {
        if (ended) return false;
      } else ended = true;
    }
  return true;
}

function subtree(b: Uint8Array, t: Tlv): Subtree {
  const c = Cursor.of(b, t, 'GeneralSubtree');
  const base = c.next(undefined, 'GeneralSubtree.base');
  // minimum [0] DEFAULT 0 and maximum [1] must be absent (RFC 5280: MUST use 0 and omit maximum).
  if (!c.done) throw new NameConstraintsInvalid('a subtree sets minimum or maximum');
  if (base.tag === IP_TAG) {
    const v = valueOf(b, base);
    if (v.length !== 8 && v.length !== 32)
      throw new NameConstraintsInvalid(
        `an iPAddress constraint must be an address and a mask (8 or 32 bytes), found ${v.length} bytes`,
      );
    const h = v.length / 2;
    const addr = v.slice(0, h);
    const mask = v.slice(h);
    if (!prefixMask(mask))
      throw new NameConstraintsInvalid('an iPAddress constraint mask is not a prefix');
    return { type: 'ip', addr, mask };
  }
  const g = decodeGeneralName(b, base, 'nameConstraints', { allowEmpty: true });
  switch (g.type) {
    case 'dns': {
      const v = asciiLower(g.value);
      if (v !== '' && !isHostName(v))
        throw new NameConstraintsInvalid(
          `the dNSName constraint ${JSON.stringify(g.value)} is not a host name`,
        );
      return { type: 'dns', value: v };
    }
    case 'email': {
      const v = g.value;
      const ok = v.includes('@')
        ? parseMailbox(v) !== undefined
        : isHostName(asciiLower(v.startsWith('.') ? v.slice(1) : v));
      if (!ok)
        throw new NameConstraintsInvalid(
          `the rfc822Name constraint ${JSON.stringify(v)} is malformed`,
        );
      return { type: 'email', value: v };
    }
    case 'uri': {
      const v = asciiLower(g.value);
      if (!isHostName(v.startsWith('.') ? v.slice(1) : v))
        throw new NameConstraintsInvalid(
          `the URI constraint ${JSON.stringify(g.value)} is not a host or .domain`,
        );
      return { type: 'uri', value: v };
    }
    case 'dirName':
      return { type: 'dirName', value: g.value };
    case 'other':
      return { type: 'other', tag: g.tag };
    case 'ip':
      throw new NameConstraintsInvalid('unreachable');
  }
}

function subtrees(b: Uint8Array, t: Tlv): Subtree[] {
  const items = children(b, t, 'GeneralSubtrees');
  if (items.length === 0) throw new NameConstraintsInvalid('a subtree list is empty');
  return items.map((s) => {
    if (s.tag !== TAG.SEQUENCE) throw new NameConstraintsInvalid('a subtree is not a SEQUENCE');
    return subtree(b, s);
  });
}

/**
 * Decodes a nameConstraints extension value. Refuses (with {@link NameConstraintsInvalid} or a DER
 * error) anything RFC 5280 or the CA/B Forum forbid: no subtrees at all, empty lists, minimum or
 * maximum, malformed bases (`.example.com` or `*.example.com` as dNSName, an address without a
 * prefix mask).
 */
export function decodeNameConstraints(value: Uint8Array): NameConstraints {
  const root = readRoot(value, 'nameConstraints');
  if (root.tag !== TAG.SEQUENCE) throw new NameConstraintsInvalid('it is not a SEQUENCE');
  const c = Cursor.of(value, root, 'nameConstraints');
  const p = c.optional(0xa0, 'permittedSubtrees');
  const e = c.optional(0xa1, 'excludedSubtrees');
  c.finish('nameConstraints');
  if (!p && !e)
    throw new NameConstraintsInvalid('neither permitted nor excluded subtrees are present');
  return {
    permitted: p ? subtrees(value, p) : [],
    excluded: e ? subtrees(value, e) : [],
  };
}

// --- the names a certificate carries, grouped by constraint type ---

/** A name to check, or a malformed one (which fails every constraint of its type). */
type Candidate =
  | { readonly type: 'dns'; readonly value: string; readonly wildcard: boolean }
  /** `mapped` marks an IPv4-mapped IPv6 address (::ffff:a.b.c.d): see {@link checkNames}. */
  | { readonly type: 'ip'; readonly bytes: Uint8Array; readonly mapped?: true }
  | { readonly type: 'email'; readonly local: string; readonly domain: string }
  | { readonly type: 'uri'; readonly host: string }
  | { readonly type: 'dirName'; readonly value: Name }
  | { readonly type: 'other'; readonly tag: number }
  | { readonly type: 'malformed'; readonly of: SubtreeType; readonly value: string };

function candidateOf(g: GeneralName): Candidate {
  switch (g.type) {
    case 'dns': {
      const p = dnsPattern(g.value);
      return p
        ? { type: 'dns', value: p.host, wildcard: p.wildcard }
        : { type: 'malformed', of: 'dns', value: g.value };
    }
    case 'ip': {
      const bytes = ipToBytes(g.value);
      return isMappedV4(bytes) ? { type: 'ip', bytes, mapped: true } : { type: 'ip', bytes };
    }
    case 'email': {
      const m = parseMailbox(g.value);
      return m ? { type: 'email', ...m } : { type: 'malformed', of: 'email', value: g.value };
    }
    case 'uri': {
      const host = uriHost(g.value);
      return host !== undefined
        ? { type: 'uri', host }
        : { type: 'malformed', of: 'uri', value: g.value };
    }
    case 'dirName':
      return { type: 'dirName', value: g.value };
    case 'other':
      return { type: 'other', tag: g.tag };
  }
}

/** Whether `b` is an IPv4-mapped IPv6 address (RFC 4291 §2.5.5.2, ::ffff:0:0/96). */
function isMappedV4(b: Uint8Array): boolean {
  if (b.length !== 16 || b[10] !== 0xff || b[11] !== 0xff) return false;
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return true;
}

const EMAIL_ADDRESS = '1.2.840.113549.1.9.1';
const COMMON_NAME = '2.5.4.3';

/**
 * The subject (when non-empty), its emailAddress attributes, every subjectAltName, and, when there
 * is no subjectAltName, each commonName that spells a host name.
 */
export function constrainedNames(cert: Certificate): readonly Candidate[] {
  const facts = factsOf(cert);
  let out = facts.constrainedNames as readonly Candidate[] | undefined;
  if (out) return out;
  const list: Candidate[] = [];
  if (cert.subject.length > 0) {
    list.push({ type: 'dirName', value: cert.subject });
    for (const rdn of cert.subject)
      for (const a of rdn)
        if (a.type === EMAIL_ADDRESS)
          list.push(
            a.der === undefined
              ? candidateOf({ type: 'email', value: a.value })
              : { type: 'malformed', of: 'email', value: '#der' },
          );
  }
  for (const g of cert.subjectAltNames ?? []) list.push(candidateOf(g));
  // Without subjectAltNames, a commonName spelling a host name is judged as one too, as OpenSSL
  // does: we never take a host from it, but an application may read it as the peer's name, and a
  // CA constrained to sub.example.com must not vouch for CN=www.example.com that way. With any SAN
  // (an IP alone, say) the SANs name the peer, and BetterTLS expects the commonName left alone.
  if (cert.subjectAltNames === undefined)
    for (const rdn of cert.subject)
      for (const a of rdn) {
        if (a.type !== COMMON_NAME || a.der !== undefined) continue;
        const p = a.value.includes('.') ? dnsPattern(a.value) : undefined;
        if (p) list.push({ type: 'dns', value: p.host, wildcard: p.wildcard });
      }
  facts.constrainedNames = out = list;
  return out;
}

const typeOf = (c: Candidate): SubtreeType | 'other' => (c.type === 'malformed' ? c.of : c.type);

// --- matching ---

/** Whether `name` is `s` or ends in `.s`, without building `'.' + s` for every comparison. */
function inDomain(name: string, s: string): boolean {
  if (name.length === s.length) return name === s;
  return (
    name.length > s.length &&
    name.charCodeAt(name.length - s.length - 1) === 0x2e &&
    name.endsWith(s)
  );
}

/** Is every name `c` can stand for inside `s`? (`*.x` stands for every one-label extension of x.) */
function dnsWithin(c: { value: string; wildcard: boolean }, s: string): boolean {
  return s === '' || inDomain(c.value, s);
}

/** Could any name `c` stands for fall inside `s`? */
function dnsMeets(c: { value: string; wildcard: boolean }, s: string): boolean {
  if (dnsWithin(c, s)) return true;
  // `*.example.com` meets the subtree `foo.example.com`: the wildcard can be `foo`.
  if (!c.wildcard) return false;
  const dot = s.indexOf('.');
  return dot > 0 && s.length - dot - 1 === c.value.length && s.endsWith(c.value);
}

function ipWithin(bytes: Uint8Array, s: { addr: Uint8Array; mask: Uint8Array }): boolean {
  if (bytes.length !== s.addr.length) return false;
  for (let i = 0; i < bytes.length; i++)
    if ((bytes[i]! & s.mask[i]!) !== (s.addr[i]! & s.mask[i]!)) return false;
  return true;
}

function emailWithin(c: { local: string; domain: string }, s: string): boolean {
  if (s.includes('@')) {
    const m = parseMailbox(s)!;
    return m.local === c.local && m.domain === c.domain;
  }
  const d = asciiLower(s);
  return d.startsWith('.') ? c.domain.endsWith(d) : c.domain === d;
}

function uriWithin(host: string, s: string): boolean {
  return s.startsWith('.') ? host.endsWith(s) : host === s;
}

/** `s` is a prefix of `n`, RDN by RDN, compared on names normalised once (see rdnKeys). */
function dirWithin(n: Name, s: Name): boolean {
  if (s.length > n.length) return false;
  const kn = rdnKeys(n);
  const ks = rdnKeys(s);
  for (let i = 0; i < ks.length; i++) if (kn[i] !== ks[i]) return false;
  return true;
}

/** `within` for permitted subtrees (all of the name inside), `meets` for excluded (any of it). */
function matches(c: Candidate, s: Subtree, mode: 'within' | 'meets'): boolean {
  switch (c.type) {
    case 'dns':
      return s.type === 'dns' && (mode === 'within' ? dnsWithin(c, s.value) : dnsMeets(c, s.value));
    case 'ip':
      return s.type === 'ip' && ipWithin(c.bytes, s);
    case 'email':
      return s.type === 'email' && emailWithin(c, s.value);
    case 'uri':
      return s.type === 'uri' && uriWithin(c.host, s.value);
    case 'dirName':
      return s.type === 'dirName' && dirWithin(c.value, s.value);
    case 'other':
    case 'malformed':
      return false;
  }
}

const kinds = new WeakMap<
  NameConstraints,
  Map<string, { permitted: Subtree[]; excluded: Subtree[] }>
>();
const NONE = { permitted: [], excluded: [] };

/** The permitted and excluded subtrees of one kind, grouped once per extension. */
function byKind(nc: NameConstraints, t: string): { permitted: Subtree[]; excluded: Subtree[] } {
  let m = kinds.get(nc);
  if (!m) {
    m = new Map();
    for (const [list, which] of [
      [nc.permitted, 'permitted'],
      [nc.excluded, 'excluded'],
    ] as const)
      for (const s of list) {
        let k = m.get(s.type);
        if (!k) m.set(s.type, (k = { permitted: [], excluded: [] }));
        k[which].push(s);
      }
    kinds.set(nc, m);
  }
  return m.get(t) ?? NONE;
}

/** Per constraint kind: how many subtrees, and the work of comparing one name with all of them. */
interface KindCost {
  count: number;
  work: number;
}
const costs = new WeakMap<NameConstraints, Map<string, KindCost>>();

/**
 * The work of comparing a name with `s`: one unit per comparison plus one per character (or
 * address byte) of the subtree, which bounds what the comparison reads. A directoryName subtree is
 * weighed by its normalised RDN keys, computed here once.
 */
function subtreeWork(s: Subtree): number {
  switch (s.type) {
    case 'dns':
    case 'email':
    case 'uri':
      return 1 + s.value.length;
    case 'ip':
      return 1 + s.addr.length;
    case 'dirName': {
      let n = 1;
      for (const k of rdnKeys(s.value)) n += 1 + k.length;
      return n;
    }
    case 'other':
      return 1;
  }
}

function costsOf(nc: NameConstraints): Map<string, KindCost> {
  let m = costs.get(nc);
  if (!m) {
    m = new Map();
    for (const s of [...nc.permitted, ...nc.excluded]) {
      const k = m.get(s.type) ?? { count: 0, work: 0 };
      k.count++;
      k.work += subtreeWork(s);
      m.set(s.type, k);
    }
    costs.set(nc, m);
  }
  return m;
}

/**
 * Comparisons {@link checkNames} would make (names × subtrees of the same kind), for the work
 * budget. Computed before doing any, in time linear in names plus subtrees.
 */
export function comparisonCount(nc: NameConstraints, names: readonly Candidate[]): number {
  const m = costsOf(nc);
  let n = 0;
  for (const c of names) n += m.get(typeOf(c))?.count ?? 0;
  return n;
}

/**
 * The most work {@link checkNames} can do on these names (see `subtreeWork`): what the validator's
 * `maxNameWork` budget is charged before any comparison is made, so refusing costs no comparisons.
 */
export function constraintWork(nc: NameConstraints, names: readonly Candidate[]): number {
  const m = costsOf(nc);
  let n = 0;
  for (const c of names) n += m.get(typeOf(c))?.work ?? 0;
  return n;
}

/**
 * Checks one certificate's names against one CA's constraints. Returns why it fails, or undefined.
 * A name of a type that has constraints must be inside some permitted subtree of that type and meet
 * no excluded one. Malformed names and IPv4-mapped IPv6 addresses fail any constraint of their
 * type. Names of kinds we do not evaluate (otherName, …) fail when a constraint of that kind
 * exists, since we cannot show they comply; without such a constraint they are unconstrained, as
 * RFC 5280 says.
 */
export function checkNames(nc: NameConstraints, names: readonly Candidate[]): string | undefined {
  for (const c of names) {
    const t = typeOf(c);
    const show = (): string =>
      c.type === 'dns'
        ? (c.wildcard ? '*.' : '') + c.value
        : c.type === 'email'
          ? `${c.local}@${c.domain}`
          : c.type === 'uri'
            ? c.host
            : c.type === 'malformed'
              ? JSON.stringify(c.value)
              : c.type === 'ip'
                ? bytesToIp(c.bytes)
                : c.type;
    const { permitted, excluded } = byKind(nc, t);
    if (c.type === 'other') {
      const sameTag = (s: Subtree): boolean => s.type === 'other' && s.tag === c.tag;
      if (permitted.some(sameTag) || excluded.some(sameTag))
        return `a name of a kind we do not evaluate (tag 0x${c.tag.toString(16)}) is under a constraint of that kind`;
      continue;
    }
    if (c.type === 'malformed') {
      if (permitted.length || excluded.length)
        return `the malformed ${t} name ${show()} cannot satisfy the ${t} constraints`;
      continue;
    }
    // An IPv4 host written as IPv6: judged in either form it could slip past the other form's
    // constraints (`::ffff:10.1.2.3` is not in an excluded 10.0.0.0/8), so under any iPAddress
    // constraint it is refused.
    if (c.type === 'ip' && c.mapped && (permitted.length || excluded.length))
      return `the IPv4-mapped address ${show()} is refused under iPAddress constraints, which could judge it as IPv4 or as IPv6`;
    if (permitted.length && !permitted.some((s) => matches(c, s, 'within')))
      return `the ${t} name ${show()} is not in any permitted subtree`;
    if (excluded.some((s) => matches(c, s, 'meets')))
      return `the ${t} name ${show()} is in an excluded subtree`;
  }
  return undefined;
}
