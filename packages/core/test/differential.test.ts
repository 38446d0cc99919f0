/**
 * Differential test against independent verifiers: our validator (`webpki`, serverAuth),
 * pyca/cryptography's (`cryptography.x509.verification`, CA/B Forum profile) and `openssl verify
 * -x509_strict` judge the same seeded random chains — a P-384 root, none to two intermediates (P-256,
 * P-384, random pathLenConstraints), a P-256 leaf — each certificate with up to two
 * mutations from the lists below (a missing or non-critical extension, a wrong key usage, name
 * constraints, validity, serials, a wrong signer, …).
 *
 * - Where either refuses, we refuse: a false accept here is a hole. One documented exception: an
 *   anchor without keyUsage (x509-limbo's `crl::issuer-no-keyusage-extension` expects it accepted).
 * - Where we refuse what one accepts, it is one of our documented stricter rules (README, "Profiles").
 *
 * The run is seeded, so a failure reproduces; DIFFERENTIAL_SEED and DIFFERENTIAL_CHAINS explore more.
 */
import { describe, expect, it } from 'vitest';
import { verifyWithOpenssl } from '@certified/testing/openssl-verify';
import {
  skipWithoutPyca,
  verifyWithPyca,
  type PycaCase,
  type PycaResult,
} from '@certified/testing/pyca';
import { encodePem } from '../src/encoding/pem.js';
import { OID } from '../src/internal/oids.js';
import { generateKeyPair } from '../src/keys/keys.js';
import { createPathValidator } from '../src/chain/validate-path.js';
import type { Certificate } from '../src/x509/certificate.js';
import {
  basicConstraintsValue,
  extKeyUsageValue,
  keyUsageValue,
  type Extension,
} from '../src/x509/extensions.js';
import { dnsName, ipAddress, type GeneralName } from '../src/x509/general-name.js';
import { organizationName, personName } from '../src/x509/name.js';
import { extension, forge, without, withExtensions, type ForgeOptions } from './forge.js';

const SEED = Number(process.env['DIFFERENTIAL_SEED'] ?? 1);
const CHAINS = Number(process.env['DIFFERENTIAL_CHAINS'] ?? 240);
const NOW = new Date('2030-06-01T00:00:00Z');
const HOST = 'www.example.com';

type Options = Omit<ForgeOptions, 'keyPair'> & Partial<Pick<ForgeOptions, 'keyPair'>>;
type Mutation = readonly [name: string, apply: (o: Options) => Options];
type Editor = (defaults: Extension[]) => Extension[];

/** Adds an extension editor after the ones already there. */
const edit =
  (f: Editor) =>
  (o: Options): Options => {
    const before = o.extensions;
    if (Array.isArray(before)) return { ...o, extensions: f([...(before as Extension[])]) };
    return { ...o, extensions: before ? (d) => f((before as Editor)(d)) : f };
  };
const critical = (oid: string, on: boolean) =>
  edit((d) => d.map((e) => (e.oid === oid ? { ...e, critical: on } : e)));
const unknown = (oid: string, isCritical: boolean) =>
  edit((d) => [...d, extension(oid, new Uint8Array([5, 0]), isCritical)]);
const past = { notBefore: new Date('2020-01-01Z'), notAfter: new Date('2029-01-01Z') };
const future = { notBefore: new Date('2031-01-01Z'), notAfter: new Date('2035-01-01Z') };
const otherAki = extension(
  OID.authorityKeyIdentifier,
  new Uint8Array([0x30, 0x06, 0x80, 0x04, 1, 2, 3, 4]),
);
const otherSki = extension(
  OID.subjectKeyIdentifier,
  new Uint8Array([0x04, 0x14, ...Array.from({ length: 20 }, (_, i) => i + 1)]),
);
// ecdsa-with-SHA512: no certificate here is signed with it, so it never matches the outer one.
const sha512Algorithm = new Uint8Array([
  0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04,
]);
// certificatePolicies { anyPolicy }
const anyPolicy = new Uint8Array([0x30, 0x08, 0x30, 0x06, 0x06, 0x04, 0x55, 0x1d, 0x20, 0x00]);

function mutations(wrongKey: CryptoKey): { ca: Mutation[]; leaf: Mutation[] } {
  const shared: Mutation[] = [
    ['expired', (o) => ({ ...o, ...past })],
    ['serial-zero', (o) => ({ ...o, serial: new Uint8Array([0]) })],
    ['serial-negative', (o) => ({ ...o, serial: new Uint8Array([0x80, 1]) })],
    ['v1', (o) => ({ ...o, version: 1 })],
    ['no-aki', edit(without(OID.authorityKeyIdentifier))],
    ['aki-other', edit(withExtensions(otherAki))],
    ['no-ski', edit(without(OID.subjectKeyIdentifier))],
    ['unknown-critical', unknown('1.2.3.4.5', true)],
    ['unknown-noncritical', unknown('1.2.3.4.6', false)],
    ['wrong-signer', (o) => ({ ...o, signingKey: wrongKey })],
    [
      'issuer-name-other',
      (o) => ({ ...o, issuerName: organizationName({ organization: 'Else' }) }),
    ],
    ['tbs-alg-mismatch', (o) => ({ ...o, tbsAlgorithm: sha512Algorithm })],
    [
      'validity-inverted',
      (o) => ({ ...o, notBefore: new Date('2031-01-01Z'), notAfter: new Date('2029-01-01Z') }),
    ],
    [
      'policies-critical',
      edit(withExtensions(extension(OID.certificatePolicies, anyPolicy, true))),
    ],
  ];
  const ca: Mutation[] = [
    ...shared,
    ['not-yet-valid', (o) => ({ ...o, ...future })],
    ['no-bc', edit(without(OID.basicConstraints))],
    ['bc-noncritical', critical(OID.basicConstraints, false)],
    [
      'bc-ca-false',
      edit(
        withExtensions(extension(OID.basicConstraints, basicConstraintsValue({ ca: false }), true)),
      ),
    ],
    ['pathlen-0', (o) => ({ ...o, pathLength: 0 })],
    ['no-ku', (o) => ({ ...o, keyUsages: [] })],
    ['ku-no-certsign', (o) => ({ ...o, keyUsages: ['digitalSignature', 'cRLSign'] })],
    ['ku-noncritical', critical(OID.keyUsage, false)],
    ['eku-client', (o) => ({ ...o, ekus: ['clientAuth'] })],
    ['eku-server', (o) => ({ ...o, ekus: ['serverAuth'] })],
    [
      'eku-server-critical',
      edit(withExtensions(extension(OID.extKeyUsage, extKeyUsageValue(['serverAuth']), true))),
    ],
    [
      'nc-permit-example',
      (o) => ({ ...o, nameConstraints: { permitted: [dnsName('example.com')] } }),
    ],
    ['nc-permit-other', (o) => ({ ...o, nameConstraints: { permitted: [dnsName('other.org')] } })],
    [
      'nc-permit-sub',
      (o) => ({ ...o, nameConstraints: { permitted: [dnsName('sub.example.com')] } }),
    ],
    ['nc-exclude-host', (o) => ({ ...o, nameConstraints: { excluded: [dnsName(HOST)] } })],
    [
      'nc-permit-ip',
      (o) => ({ ...o, nameConstraints: { permitted: [{ type: 'ip', value: '192.0.2.0/24' }] } }),
    ],
    [
      'nc-exclude-ip',
      (o) => ({ ...o, nameConstraints: { excluded: [{ type: 'ip', value: '192.0.2.0/24' }] } }),
    ],
    [
      'nc-noncritical',
      (o) =>
        critical(
          OID.nameConstraints,
          false,
        )({
          ...o,
          nameConstraints: { permitted: [dnsName('example.com')] },
        }),
    ],
    ['ski-other', edit(withExtensions(otherSki))],
  ];
  const leaf: Mutation[] = [
    ...shared,
    ['no-san', edit(without(OID.subjectAltName))],
    ['san-critical', critical(OID.subjectAltName, true)],
    ['san-other', (o) => ({ ...o, altNames: [dnsName('other.example.com')] })],
    ['san-wildcard', (o) => ({ ...o, altNames: [{ type: 'dns', value: '*.example.com' }] })],
    [
      'san-wildcard-deeper',
      (o) => ({ ...o, altNames: [{ type: 'dns', value: '*.sub.example.com' }, dnsName(HOST)] }),
    ],
    ['san-ip', (o) => ({ ...o, altNames: [ipAddress('192.0.2.1'), dnsName(HOST)] })],
    ['cn-other', (o) => ({ ...o, subject: personName({ commonName: 'other.example.com' }) })],
    ['cn-respelled', (o) => ({ ...o, subject: personName({ commonName: 'WWW.example.com' }) })],
    ['empty-subject', (o) => ({ ...o, subject: [] })],
    ['eku-client', (o) => ({ ...o, ekus: ['clientAuth'] })],
    ['no-eku', (o) => ({ ...o, ekus: [] })],
    ['eku-any', (o) => ({ ...o, ekus: ['anyExtendedKeyUsage'] })],
    ['eku-critical', critical(OID.extKeyUsage, true)],
    ['ku-key-encipherment', (o) => ({ ...o, keyUsages: ['keyEncipherment'] })],
    ['ku-key-agreement', (o) => ({ ...o, keyUsages: ['keyAgreement'] })],
    ['no-ku', (o) => ({ ...o, keyUsages: [] })],
    ['ku-certsign', (o) => ({ ...o, keyUsages: ['digitalSignature', 'keyCertSign'] })],
    [
      'bc-ca',
      edit(
        withExtensions(extension(OID.basicConstraints, basicConstraintsValue({ ca: true }), true)),
      ),
    ],
    ['no-bc', edit(without(OID.basicConstraints))],
    ['san-upper', (o) => ({ ...o, altNames: [{ type: 'dns', value: 'WWW.EXAMPLE.COM' }] })],
    [
      'san-wildcard-partial',
      (o) => ({ ...o, altNames: [{ type: 'dns', value: 'w*.example.com' }] }),
    ],
    ['san-trailing-dot', (o) => ({ ...o, altNames: [{ type: 'dns', value: `${HOST}.` }] })],
    ['ku-non-repudiation', (o) => ({ ...o, keyUsages: ['nonRepudiation'] })],
    [
      'ku-critical-off',
      edit(withExtensions(extension(OID.keyUsage, keyUsageValue(['digitalSignature']), false))),
    ],
  ];
  return { ca, leaf };
}

/**
 * Why we may refuse what pyca or OpenSSL accepts: our stricter rules, each documented in the README. A new
 * reason here is a new false reject until someone says why.
 */
const STRICTER: readonly (readonly [RegExp, string?])[] = [
  [/keyUsage \((keyAgreement|keyEncipherment|nonRepudiation)\) does not assert digitalSignature/], // TLS 1.3 signs
  [/spells its subjectAltName .* differently/], // BR 7.1.4.3 where parsers disagree
  [/serial number is zero/], // RFC 5280 §4.1.2.2 (pyca tolerates it)
  [/no authorityKeyIdentifier keyIdentifier/], // RFC 5280 §4.2.1.1
  [/CA without a subjectKeyIdentifier/], // RFC 5280 §4.2.1.2
  [/root with an extKeyUsage/], // BR 7.1.2.1.2
  [/no extKeyUsage, which the webpki profile requires/], // BR 7.1.2.7.10
  [/extKeyUsage extension is critical/], // BR 7.1.2.7.6
  [/self-issued root whose authorityKeyIdentifier differs/], // RFC 5280 §4.2.1.1
  // An authorityKeyIdentifier naming another key rules that issuer out (pyca checks only the
  // signature): only where a certificate's AKI was changed.
  [/no trust anchor or intermediate matches its issuer .* and authorityKeyIdentifier/, 'aki-other'],
  // A wildcard must lie wholly inside a permitted subtree (CVE-2025-61727); pyca lets
  // *.example.com through a permitted sub.example.com.
  [/the dns name \*\.\S+ is not in any permitted subtree/],
  // …and is refused when any name it covers is excluded; OpenSSL lets it through.
  [/the dns name \*\.\S+ is in an excluded subtree/],
  // Where OpenSSL is laxer than pyca:
  [/it is a CA certificate, which the webpki profile refuses as a peer/], // README "Profiles"; pyca too
  [/its serial number is negative/], // RFC 5280 §4.1.2.2
  [/version 1 certificate; only v3 is accepted/],
  [/subjectAltName is critical although its subject is not empty/], // RFC 5280 §4.2.1.6
  [/basicConstraints asserts cA but keyUsage lacks keyCertSign/], // RFC 5280 §4.2.1.3
  // We never fall back to the commonName; OpenSSL's -verify_hostname does when there is no SAN.
  [/does not carry the DNS name "\S+" in its subjectAltName/, 'no-san'],
  // A wildcard is a whole leftmost label, as pyca and the CA/B Forum's Baseline Requirements have
  // it; OpenSSL also matches w*.example.com.
  [/does not carry the DNS name "\S+" in its subjectAltName/, 'san-wildcard-partial'],
  // RFC 5280 §4.2.1.10: nameConstraints MUST be critical; of a wrong accept and a wrong refusal,
  // we take the refusal (x509-limbo pairs both readings). Both oracles accept it non-critical.
  [/its nameConstraints extension is not critical/],
  // A SAN that is no valid host name (www.example.com.) cannot be judged against DNS subtrees, so
  // it is refused under them. OpenSSL lets www.example.com. past an excluded www.example.com, and
  // then matches it to www.example.com: a hole we do not share.
  [/the malformed dns name \S+ cannot satisfy the dns constraints/],
];
const stricter = (message: string, names: readonly string[]): boolean =>
  STRICTER.some(
    ([r, only]) => r.test(message) && (!only || names.some((n) => n.endsWith(`:${only}`))),
  );

/** A small LCG: the same chains for the same seed on every machine. */
function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
}

interface Oracle {
  readonly name: string;
  readonly skip: boolean;
  verify(cases: readonly PycaCase[]): PycaResult[];
  /** Its words for an anchor without keyUsage, a refusal we do not share. */
  readonly anchorWithoutKeyUsage: RegExp;
  /** Its other refusals we do not share, each for a reason given where it is set. */
  readonly alsoRefuses?: (names: readonly string[], error: string) => boolean;
}

const has = (names: readonly string[], mutation: string): boolean =>
  names.some((n) => n.endsWith(`:${mutation}`));

const SUITE = 'packages/core/test/differential.test.ts';
const hasOpenssl = verifyWithOpenssl([]) !== undefined;
if (!hasOpenssl && process.env['CI'] === 'true')
  throw new Error(`CI=true: ${SUITE} needs openssl.`);
if (!hasOpenssl) console.warn(`\n!!! openssl not found: SKIPPING its half of ${SUITE} !!!\n`);
const ORACLES: readonly Oracle[] = [
  {
    name: 'pyca/cryptography',
    skip: skipWithoutPyca(SUITE),
    verify: (cases) => verifyWithPyca(cases)!,
    anchorWithoutKeyUsage: /2\.5\.29\.15/,
    // pyca does not process certificatePolicies, so it refuses the extension whenever it is
    // critical. RFC 5280 §4.2.1.4 lets it be critical, and OpenSSL, which processes policies,
    // accepts it, as we do.
    alsoRefuses: (names, error) => has(names, 'policies-critical') && /2\.5\.29\.32/.test(error),
  },
  {
    name: 'openssl verify -x509_strict',
    skip: !hasOpenssl,
    verify: (cases) => verifyWithOpenssl(cases)!,
    anchorWithoutKeyUsage: /CA cert does not include key usage extension/,
    // Without -partial_chain, OpenSSL needs a self-issued root in its store, so it looks for the
    // issuer of an anchor whose issuer field names someone else. A trust anchor is a name and a
    // key (RFC 5280 §6.1.1 d); its own issuer plays no part, and x509-limbo's cve-2024-0567
    // expects such an anchor accepted. pyca accepts it.
    alsoRefuses: (names, error) =>
      has(names, 'issuer-name-other') &&
      names.includes('root:issuer-name-other') &&
      /unable to get issuer certificate/.test(error),
  },
];

interface MutatedChain {
  readonly names: readonly string[];
  readonly root: Certificate;
  readonly chain: readonly Certificate[];
}

/** The seeded chains, made once and judged by every oracle. */
let made: Promise<MutatedChain[]> | undefined;
const mutatedChains = (): Promise<MutatedChain[]> => (made ??= makeChains());

async function makeChains(): Promise<MutatedChain[]> {
  const rnd = random(SEED);
  const keys = {
    root: await generateKeyPair({ algorithm: 'P-384' }),
    int: await generateKeyPair({ algorithm: 'P-256' }),
    leaf: await generateKeyPair({ algorithm: 'P-256' }),
    wrong: await generateKeyPair({ algorithm: 'P-256' }),
    int2: await generateKeyPair({ algorithm: 'P-384' }),
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const muts = mutations(keys.wrong.privateKey);
  const valid = { notBefore: new Date('2025-01-01Z'), notAfter: new Date('2035-01-01Z') };
  const mutate = (list: Mutation[], o: Options, tag: string, names: string[]): Options => {
    const count = rnd() < 0.35 ? 0 : rnd() < 0.8 ? 1 : 2;
    const used = new Set<string>();
    for (let i = 0; i < count; i++) {
      const [name, apply] = list[Math.floor(rnd() * list.length)]!;
      if (used.has(name)) continue;
      used.add(name);
      names.push(`${tag}:${name}`);
      o = apply(o);
    }
    // A v1 certificate carries no extensions, whatever else was asked.
    if (o.version !== 1) return o;
    const { nameConstraints: _dropped, ...rest } = o;
    void _dropped;
    return { ...rest, extensions: [] };
  };
  const chains: MutatedChain[] = [];
  for (let i = 0; i < CHAINS; i++) {
    const names: string[] = [];
    const rootOptions = mutate(
      muts.ca,
      { ...valid, subject: organizationName({ organization: 'Root' }), ca: true },
      'root',
      names,
    );
    const root = await forge({ ...rootOptions, keyPair: keys.root });
    let issuer = { cert: root, key: keys.root.privateKey };
    const presented: Certificate[] = [];
    const depth = Math.floor(rnd() * 3);
    for (let d = 0; d < depth; d++) {
      const pl = pick([undefined, 0, 1, 2]);
      if (pl !== undefined) names.push(`int${d}:pathlen-${pl}`);
      const o = mutate(
        muts.ca,
        {
          ...valid,
          subject: organizationName({ organization: `Int ${d}` }),
          ca: true,
          issuer,
          ...(pl === undefined ? {} : { pathLength: pl }),
        },
        `int${d}`,
        names,
      );
      const k = d === 0 ? keys.int : keys.int2;
      const int = await forge({ ...o, keyPair: k });
      presented.push(int);
      issuer = { cert: int, key: k.privateKey };
    }
    const leafOptions = mutate(
      muts.leaf,
      { ...valid, subject: personName({ commonName: HOST }), issuer, altNames: [dnsName(HOST)] },
      'leaf',
      names,
    );
    const leaf = await forge({ ...leafOptions, keyPair: keys.leaf });
    chains.push({ names, root, chain: [leaf, ...presented] });
  }
  return chains;
}

/** Which side of the handshake is judged, and under which of our profiles. */
interface Side {
  readonly profile: 'webpki' | 'rfc5280';
  readonly purpose: 'serverAuth' | 'clientAuth';
  /** Mutations whose refusal by the oracle we do not share on this side, and why. */
  readonly exempt?: RegExp;
}

/** Judges the chains on `side`, by us and by `oracle`; fails on a hole or an unexplained refusal. */
async function compare(oracle: Oracle, side: Side): Promise<void> {
  const chains = await mutatedChains();
  const server = side.purpose === 'serverAuth';
  const pem = (c: Certificate): string => encodePem('CERTIFICATE', c.der);
  const theirs = oracle.verify(
    chains.map((c) => ({
      anchors: [pem(c.root)],
      chain: c.chain.map(pem),
      kind: server ? ('server' as const) : ('client' as const),
      ...(server ? { name: { dns: HOST } } : {}),
      time: NOW,
    })),
  );
  const holes: string[] = [];
  const unexplained: string[] = [];
  let agreed = 0;
  for (const [i, c] of chains.entries()) {
    const v = createPathValidator({ anchors: [c.root], profile: side.profile, cacheSize: 0 });
    const ours = await v.validate({
      peer: c.chain[0]!.der,
      chain: c.chain.slice(1).map((x) => x.der),
      purpose: side.purpose,
      ...(server ? { peerName: HOST } : {}),
      time: NOW,
    });
    const them = theirs[i]!;
    const what = `#${i} [${c.names.join(', ')}]`;
    if (ours.ok === them.ok) agreed++;
    else if (ours.ok) {
      // The exceptions: an anchor without keyUsage, which we judge for its bytes, and the side's.
      const exempt =
        (c.root.keyUsage === undefined && oracle.anchorWithoutKeyUsage.test(them.error ?? '')) ||
        oracle.alsoRefuses?.(c.names, them.error ?? '') ||
        (side.exempt !== undefined && c.names.some((n) => side.exempt!.test(n)));
      if (!exempt) holes.push(`${what}: ${oracle.name} refused (${them.error}), we accepted`);
    } else if (!stricter(ours.message, c.names))
      unexplained.push(
        `${what}: we refused (${ours.code}: ${ours.message}), ${oracle.name} accepted`,
      );
  }
  expect(holes).toEqual([]);
  expect(unexplained).toEqual([]);
  // A suite whose chains are all refused (or all accepted) would prove nothing. With 54 mutations,
  // most of them refused, about a fifth of the chains pass (seeds 1–24 at 400 chains kept above a
  // tenth, the floor).
  const accepted = theirs.filter((r) => r.ok).length;
  expect(accepted).toBeGreaterThan(CHAINS / 10);
  expect(CHAINS - accepted).toBeGreaterThan(CHAINS / 5);
  expect(agreed).toBeGreaterThan(CHAINS * 0.75);
}

for (const oracle of ORACLES)
  describe.skipIf(oracle.skip)(`differential: our validator against ${oracle.name}`, () => {
    it(`agrees on ${CHAINS} mutated chains (seed ${SEED}), webpki server: no accept that it refuses`, async () => {
      await compare(oracle, { profile: 'webpki', purpose: 'serverAuth' });
    }, 120_000);

    // Our mTLS server's own case: rfc5280, a client. pyca's client policy is the CA/B Forum's,
    // which rfc5280 does not follow, so only OpenSSL judges this side.
    if (oracle.name.startsWith('openssl'))
      it(`agrees on ${CHAINS} mutated chains (seed ${SEED}), rfc5280 client: no accept that it refuses`, async () => {
        // OpenSSL's sslclient purpose refuses a leaf whose only EKU is anyExtendedKeyUsage;
        // RFC 5280 §4.2.1.12 lets it pass, and so does our rfc5280 profile (README, "Profiles").
        await compare(oracle, {
          profile: 'rfc5280',
          purpose: 'clientAuth',
          exempt: /^leaf:eku-any$/,
        });
      }, 120_000);

    // Name constraints are where validators most often say yes wrongly: random permitted and
    // excluded DNS and IP subtrees over random DNS and IP SANs.
    it(`agrees on ${CHAINS} name-constraint cases (seed ${SEED}): no accept that it refuses`, async () => {
      const rnd = random(SEED + 1);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
      const dnsBases = ['example.com', 'www.example.com', 'sub.example.com', 'com', 'xample.com'];
      const ipBases = ['192.0.2.0/24', '192.0.2.1/32', '10.0.0.0/8', '0.0.0.0/0', '2001:db8::/32'];
      const sanDns = ['www.example.com', 'example.com', 'a.www.example.com', 'wwwexample.com'];
      const sanMore = ['www.xample.com', '*.example.com', '*.www.example.com', 'www.example.org'];
      const sanIp = ['192.0.2.1', '192.0.2.200', '10.1.2.3', '2001:db8::1'];
      type HostName = Extract<GeneralName, { type: 'dns' | 'ip' }>;
      const subtree = (): HostName =>
        rnd() < 0.6 ? { type: 'dns', value: pick(dnsBases) } : { type: 'ip', value: pick(ipBases) };
      const san = (): HostName =>
        rnd() < 0.7
          ? { type: 'dns', value: pick([...sanDns, ...sanMore]) }
          : { type: 'ip', value: pick(sanIp) };
      const keys = {
        root: await generateKeyPair({ algorithm: 'P-256' }),
        leaf: await generateKeyPair({ algorithm: 'P-256' }),
      };
      const pem = (c: Certificate): string => encodePem('CERTIFICATE', c.der);
      const cases: { root: Certificate; leaf: Certificate; what: string; peer: string }[] = [];
      for (let i = 0; i < CHAINS; i++) {
        const permitted = rnd() < 0.7 ? [subtree(), ...(rnd() < 0.4 ? [subtree()] : [])] : [];
        const excluded = rnd() < 0.5 || !permitted.length ? [subtree()] : [];
        const sans = [san(), ...(rnd() < 0.5 ? [san()] : [])];
        // The peer name: the first SAN that names one host.
        const first = sans.find((g) => !g.value.startsWith('*'));
        if (!first) continue;
        const root = await forge({
          subject: organizationName({ organization: 'Root' }),
          keyPair: keys.root,
          ca: true,
          nameConstraints: {
            ...(permitted.length ? { permitted } : {}),
            ...(excluded.length ? { excluded } : {}),
          },
        });
        const leaf = await forge({
          subject: personName({ commonName: 'leaf' }),
          keyPair: keys.leaf,
          issuer: { cert: root, key: keys.root.privateKey },
          altNames: sans,
        });
        const what = `permitted ${JSON.stringify(permitted.map((g) => g.value))} excluded ${JSON.stringify(excluded.map((g) => g.value))} SANs ${JSON.stringify(sans.map((g) => g.value))}`;
        cases.push({ root, leaf, what, peer: first.value });
      }
      const theirs = oracle.verify(
        cases.map((c) => ({
          anchors: [pem(c.root)],
          chain: [pem(c.leaf)],
          kind: 'server' as const,
          name: c.peer.includes(':') || /^[\d.]+$/.test(c.peer) ? { ip: c.peer } : { dns: c.peer },
          time: NOW,
        })),
      );
      const holes: string[] = [];
      const unexplained: string[] = [];
      for (const [i, c] of cases.entries()) {
        const v = createPathValidator({ anchors: [c.root], profile: 'webpki', cacheSize: 0 });
        const ours = await v.validate({
          peer: c.leaf.der,
          purpose: 'serverAuth',
          peerName: c.peer,
          time: NOW,
        });
        if (ours.ok && !theirs[i]!.ok)
          holes.push(`${c.what}: ${oracle.name} refused (${theirs[i]!.error})`);
        if (!ours.ok && theirs[i]!.ok && !stricter(ours.message, []))
          unexplained.push(`${c.what}: we refused (${ours.message})`);
      }
      expect(holes).toEqual([]);
      expect(unexplained).toEqual([]);
      const accepted = theirs.filter((r) => r.ok).length;
      expect(accepted).toBeGreaterThan(cases.length / 5);
      expect(cases.length - accepted).toBeGreaterThan(cases.length / 5);
    }, 120_000);
  });
