/**
 * @module test/interop/openssl.test — interop with the real `openssl` binary, both ways: what
 * @certified/core makes (certificates, CSRs, chains, keys) is read and verified by OpenSSL, and
 * what OpenSSL makes (keys, self-signed certificates, CSRs, chains, RSA and RSA-PSS) is parsed
 * and verified by core, with fields compared against OpenSSL's own view.
 *
 * Needs `openssl` on PATH: without it the suite is skipped with a warning, except on CI
 * (`CI=true`), where a missing binary fails the run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { env } from 'node:process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as core from '@certified/core';

// --- openssl plumbing ---

const probe = spawnSync('openssl', ['version'], { encoding: 'utf8' });
const hasOpenssl = probe.status === 0;
const onCi = env.CI === 'true';

if (!hasOpenssl && !onCi) {
  console.warn(
    '\n!!! openssl not found on PATH: SKIPPING test/interop/openssl.test.ts (install OpenSSL to run the interop suite) !!!\n',
  );
}

let dir = '';

/** A path inside the suite's temp dir. */
function tmp(name: string): string {
  return join(dir, name);
}

/** Writes a file into the temp dir and returns its path. */
function put(name: string, data: string | Uint8Array): string {
  const p = tmp(name);
  writeFileSync(p, data);
  return p;
}

/** Runs openssl; returns stdout (UTF-8); throws with stderr on a non-zero exit. */
function ossl(args: readonly string[], input?: string | Uint8Array): string {
  try {
    return execFileSync('openssl', args, {
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(input === undefined ? {} : { input }),
    });
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; status?: number };
    throw new Error(
      `openssl ${args.join(' ')} exited ${err.status}:\n${err.stderr ?? ''}${err.stdout ?? ''}`,
      { cause: e },
    );
  }
}

/** Runs openssl without throwing: exit status and combined output. */
function osslStatus(args: readonly string[]): { status: number | null; output: string } {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** Expects a promise to reject with a CertifiedError of `code`. */
async function expectCode(p: Promise<unknown>, code: core.CertifiedErrorCode): Promise<void> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e, `expected a rejection with ${code}`).toBeInstanceOf(core.CertifiedError);
  expect((e as core.CertifiedError).code).toBe(code);
}

function certPem(c: { der: Uint8Array }): string {
  return core.encodePem('CERTIFICATE', c.der);
}

function csrPem(c: { der: Uint8Array }): string {
  return core.encodePem('CERTIFICATE REQUEST', c.der);
}

/** The text openssl prints after `label` in `-text` output (the extension's value lines). */
function extensionBlock(text: string, label: string): string {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => l.trim().startsWith(`${label}:`));
  if (i < 0) return '';
  const indent = lines[i]!.search(/\S/);
  const out: string[] = [lines[i]!.trim()];
  for (const l of lines.slice(i + 1)) {
    if (l.trim() === '' || l.search(/\S/) <= indent) break;
    out.push(l.trim());
  }
  return out.join('\n');
}

/** SAN entries as openssl prints them, with IP addresses canonicalised by core for comparison. */
function opensslSans(text: string): string[] {
  const block = extensionBlock(text, 'X509v3 Subject Alternative Name');
  const line = block.split('\n')[1] ?? '';
  return line
    .split(', ')
    .map((s) =>
      s.startsWith('IP Address:') ? `IP Address:${core.bytesToIp(core.ipToBytes(s.slice(11)))}` : s,
    );
}

/** Upper-case hex with colons, as openssl prints key identifiers. */
function colonHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0').toUpperCase()).join(':');
}

/** The subject as `openssl x509 -noout -subject -nameopt RFC2253,-esc_msb` prints it (UTF-8 kept). */
function opensslSubject(pemPath: string, kind: 'x509' | 'req' = 'x509'): string {
  const out = ossl([
    kind,
    '-in',
    pemPath,
    '-noout',
    '-subject',
    '-nameopt',
    'RFC2253,-esc_msb',
  ]).trim();
  return out.replace(/^subject=\s*/, '');
}

/**
 * OpenSSL prints the members of a multi-valued RDN in reverse (its DN_REV flag reverses the flat
 * entry list, not just the RDN order); RFC 4514 gives member order no meaning. Sort members so the
 * two renderings compare as strings. Only safe for values without an escaped '+' or ','.
 */
function sortRdnMembers(s: string): string {
  return s
    .split(/(?<!\\),/)
    .map((rdn) =>
      rdn
        .split(/(?<!\\)\+/)
        .sort()
        .join('+'),
    )
    .join(',');
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Parses openssl's `notBefore=Nov 22 14:03:52 2026 GMT`. */
function opensslDate(line: string): Date {
  const m = /=(\w{3}) +(\d+) (\d\d):(\d\d):(\d\d) (\d{4}) GMT/.exec(line);
  if (!m) throw new Error(`unexpected openssl date line ${JSON.stringify(line)}`);
  return new Date(
    Date.UTC(
      Number(m[6]),
      MONTHS.indexOf(m[1]!),
      Number(m[2]),
      Number(m[3]),
      Number(m[4]),
      Number(m[5]),
    ),
  );
}

/** A copy of `der` with one byte flipped at `index` (negative counts from the end). */
function flip(der: Uint8Array, index: number): Uint8Array {
  const out = der.slice();
  const i = index < 0 ? out.length + index : index;
  out[i] = out[i]! ^ 0x01;
  return out;
}

function indexOfBytes(hay: Uint8Array, needle: string): number {
  const n = new TextEncoder().encode(needle);
  outer: for (let i = 0; i + n.length <= hay.length; i++) {
    for (let j = 0; j < n.length; j++) if (hay[i + j] !== n[j]) continue outer;
    return i;
  }
  return -1;
}

/** ECDSA-Sig-Value DER → IEEE P1363 r‖s, for checking openssl's ECDSA signatures with WebCrypto. */
function ecdsaDerToRaw(der: Uint8Array, size: number): Uint8Array<ArrayBuffer> {
  expect(der[0]).toBe(0x30);
  let i = der[1]! & 0x80 ? 2 + (der[1]! & 0x7f) : 2;
  const out = new Uint8Array(2 * size);
  for (let k = 0; k < 2; k++) {
    expect(der[i]).toBe(0x02);
    const len = der[i + 1]!;
    let v = der.subarray(i + 2, i + 2 + len);
    while (v.length > size && v[0] === 0) v = v.subarray(1);
    out.set(v, k * size + size - v.length);
    i += 2 + len;
  }
  return out;
}

const ALGS = ['Ed25519', 'P-256', 'P-384'] as const satisfies readonly core.SigningKeyAlgorithm[];
type Alg = (typeof ALGS)[number];

const SIG_ALG_TEXT: Record<Alg, string> = {
  Ed25519: 'ED25519',
  'P-256': 'ecdsa-with-SHA256',
  'P-384': 'ecdsa-with-SHA384',
};

function fileSafe(alg: string): string {
  return alg.replace(/[^A-Za-z0-9]/g, '').toLowerCase();
}

// --- suite ---

if (!hasOpenssl && onCi) {
  describe('openssl interop', () => {
    it('requires the openssl binary on CI', () => {
      expect.fail(`openssl is not on PATH (CI=true): ${probe.error?.message ?? probe.stderr}`);
    });
  });
}

const describeOpenssl = hasOpenssl ? describe : describe.skip;

describeOpenssl('openssl interop', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'certified-openssl-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  // ------------------------------------------------------------------------------------------
  describe('certificates and CSRs made by core are read by openssl', () => {
    for (const alg of ALGS) {
      describe(alg, () => {
        const f = fileSafe(alg);
        let rootKeys: CryptoKeyPair;
        let root: core.Certificate;
        let inter: core.Certificate;
        let leaf: core.Certificate;
        let leafKeys: CryptoKeyPair;
        let csrWithSans: core.CertificationRequest;
        let csrBare: core.CertificationRequest;
        let fromCsr: core.Certificate;
        const leafSans = [
          core.dnsName('bücher.example'),
          core.dnsName('*.example.com'),
          core.dnsName('www.example.com'),
          core.ipAddress('192.0.2.1'),
          core.ipAddress('2001:DB8:0:0:0:0:0:1'),
          core.emailAddress('ada@example.org'),
          core.uriName('spiffe://example.org/ns/default/sa/ada'),
        ];

        beforeAll(async () => {
          rootKeys = await core.generateKeyPair({ algorithm: alg });
          root = await core.createSelfSignedCa({
            subject: core.signingName(
              core.organizationName({ organization: `Interop Root ${alg}`, country: 'US' }),
            ),
            keyPair: rootKeys,
            pathLength: 2,
          });
          const interKeys = await core.generateKeyPair({ algorithm: alg });
          inter = await core.issueCaCertificate({
            issuer: { certificate: root, privateKey: rootKeys.privateKey },
            subject: core.organizationName({
              organization: `Interop Root ${alg}`,
              unit: 'Intermediate',
              country: 'US',
            }),
            publicKey: interKeys.publicKey,
          });
          leafKeys = await core.generateKeyPair({ algorithm: alg });
          leaf = await core.issueEndEntityCertificate({
            issuer: { certificate: root, privateKey: rootKeys.privateKey },
            subject: core.personName({ commonName: 'Ada Lovelace', country: 'GB' }),
            publicKey: leafKeys.publicKey,
            altNames: leafSans,
          });
          csrWithSans = await core.createCsr({
            subject: core.personName({ commonName: 'csr.example.com' }),
            keyPair: leafKeys,
            altNames: [
              core.dnsName('csr.example.com'),
              core.ipAddress('10.1.2.3'),
              core.emailAddress('ops@example.com'),
            ],
          });
          csrBare = await core.createCsr({
            subject: core.personName({ commonName: 'bare request' }),
            keyPair: leafKeys,
          });
          fromCsr = await core.issueCertificateFromCsr({
            issuer: { certificate: root, privateKey: rootKeys.privateKey },
            csr: csrWithSans,
          });
          put(`${f}-root.pem`, certPem(root));
          put(`${f}-inter.pem`, certPem(inter));
          put(`${f}-leaf.pem`, certPem(leaf));
          put(`${f}-from-csr.pem`, certPem(fromCsr));
          put(`${f}-csr-sans.pem`, csrPem(csrWithSans));
          put(`${f}-csr-bare.pem`, csrPem(csrBare));
        });

        const text = (name: string): string =>
          ossl(['x509', '-in', tmp(`${f}-${name}.pem`), '-text', '-noout']);

        it('self-signed CA: CA:TRUE pathlen:2 critical, CA key usage critical, SKI, signature algorithm', () => {
          const t = text('root');
          expect(t).toContain('Version: 3 (0x2)');
          expect(extensionBlock(t, 'X509v3 Basic Constraints')).toBe(
            'X509v3 Basic Constraints: critical\nCA:TRUE, pathlen:2',
          );
          expect(extensionBlock(t, 'X509v3 Key Usage')).toBe(
            'X509v3 Key Usage: critical\nDigital Signature, Certificate Sign, CRL Sign',
          );
          expect(extensionBlock(t, 'X509v3 Subject Key Identifier')).toContain(
            colonHex(root.subjectKeyIdentifier!),
          );
          expect(t).not.toContain('X509v3 Authority Key Identifier');
          expect(t).toMatch(
            new RegExp(
              `Signature Algorithm: ${SIG_ALG_TEXT[alg]}\\n[\\s\\S]*Signature Algorithm: ${SIG_ALG_TEXT[alg]}`,
            ),
          );
          expect(opensslSubject(tmp(`${f}-root.pem`))).toBe(core.formatName(root.subject));
        });

        it('CA signed by a parent CA: pathlen clamped to 1, AKI = parent SKI, SKI present', () => {
          const t = text('inter');
          expect(extensionBlock(t, 'X509v3 Basic Constraints')).toBe(
            'X509v3 Basic Constraints: critical\nCA:TRUE, pathlen:1',
          );
          expect(extensionBlock(t, 'X509v3 Key Usage')).toBe(
            'X509v3 Key Usage: critical\nDigital Signature, Certificate Sign, CRL Sign',
          );
          expect(extensionBlock(t, 'X509v3 Subject Key Identifier')).toContain(
            colonHex(inter.subjectKeyIdentifier!),
          );
          expect(extensionBlock(t, 'X509v3 Authority Key Identifier')).toContain(
            colonHex(root.subjectKeyIdentifier!),
          );
          expect(t).toContain(`Signature Algorithm: ${SIG_ALG_TEXT[alg]}`);
          expect(opensslSubject(tmp(`${f}-inter.pem`))).toBe(core.formatName(inter.subject));
          const issuer = ossl([
            'x509',
            '-in',
            tmp(`${f}-inter.pem`),
            '-noout',
            '-issuer',
            '-nameopt',
            'RFC2253',
          ]).trim();
          expect(issuer).toBe(`issuer=${core.formatName(root.subject)}`);
        });

        it('end entity: CA:FALSE, Digital Signature critical, serverAuth+clientAuth EKU, IDN/wildcard/IPv4/IPv6/email/URI SANs', () => {
          const t = text('leaf');
          expect(extensionBlock(t, 'X509v3 Basic Constraints')).toBe(
            'X509v3 Basic Constraints: critical\nCA:FALSE',
          );
          expect(extensionBlock(t, 'X509v3 Key Usage')).toBe(
            'X509v3 Key Usage: critical\nDigital Signature',
          );
          expect(extensionBlock(t, 'X509v3 Extended Key Usage')).toBe(
            'X509v3 Extended Key Usage:\nTLS Web Server Authentication, TLS Web Client Authentication',
          );
          expect(extensionBlock(t, 'X509v3 Subject Alternative Name')).toMatch(
            /^X509v3 Subject Alternative Name:\n/,
          );
          expect(opensslSans(t)).toEqual([
            'DNS:xn--bcher-kva.example',
            'DNS:*.example.com',
            'DNS:www.example.com',
            'IP Address:192.0.2.1',
            'IP Address:2001:db8::1',
            'email:ada@example.org',
            'URI:spiffe://example.org/ns/default/sa/ada',
          ]);
          expect(opensslSans(t)).toEqual(leaf.subjectAltNames!.map(core.formatGeneralName));
          expect(extensionBlock(t, 'X509v3 Subject Key Identifier')).toContain(
            colonHex(leaf.subjectKeyIdentifier!),
          );
          expect(extensionBlock(t, 'X509v3 Authority Key Identifier')).toContain(
            colonHex(root.subjectKeyIdentifier!),
          );
          expect(t).toContain(`Signature Algorithm: ${SIG_ALG_TEXT[alg]}`);
          expect(opensslSubject(tmp(`${f}-leaf.pem`))).toBe(core.formatName(leaf.subject));
        });

        it('openssl agrees on serial, validity and SHA-256 fingerprint of a core certificate', () => {
          const out = ossl([
            'x509',
            '-in',
            tmp(`${f}-leaf.pem`),
            '-noout',
            '-serial',
            '-startdate',
            '-enddate',
            '-fingerprint',
            '-sha256',
          ]);
          const lines = out.trim().split('\n');
          expect(lines[0]).toBe(`serial=${leaf.serialNumberHex.toUpperCase()}`);
          expect(opensslDate(lines[1]!).getTime()).toBe(leaf.notBefore.getTime());
          expect(opensslDate(lines[2]!).getTime()).toBe(leaf.notAfter.getTime());
          expect(lines[3]).toMatch(/^sha256 Fingerprint=/i);
          expect(lines[3]!.split('=')[1]).toBe(core.fingerprint(leaf));
        });

        it('certificate issued from a CSR carries the requested subject and SANs, EKU and AKI', () => {
          const t = text('from-csr');
          expect(extensionBlock(t, 'X509v3 Basic Constraints')).toBe(
            'X509v3 Basic Constraints: critical\nCA:FALSE',
          );
          expect(extensionBlock(t, 'X509v3 Key Usage')).toBe(
            'X509v3 Key Usage: critical\nDigital Signature',
          );
          expect(extensionBlock(t, 'X509v3 Extended Key Usage').split('\n')[1]).toBe(
            'TLS Web Server Authentication, TLS Web Client Authentication',
          );
          expect(opensslSans(t)).toEqual([
            'DNS:csr.example.com',
            'IP Address:10.1.2.3',
            'email:ops@example.com',
          ]);
          expect(extensionBlock(t, 'X509v3 Subject Key Identifier')).toContain(
            colonHex(fromCsr.subjectKeyIdentifier!),
          );
          expect(extensionBlock(t, 'X509v3 Authority Key Identifier')).toContain(
            colonHex(root.subjectKeyIdentifier!),
          );
          expect(t).toContain(`Signature Algorithm: ${SIG_ALG_TEXT[alg]}`);
          expect(opensslSubject(tmp(`${f}-from-csr.pem`))).toBe('CN=csr.example.com');
          const v = osslStatus([
            'verify',
            '-x509_strict',
            '-CAfile',
            tmp(`${f}-root.pem`),
            tmp(`${f}-from-csr.pem`),
          ]);
          expect(v.output).toContain(': OK');
          expect(v.status).toBe(0);
        });

        it('CSR with SANs passes openssl req -verify and shows the requested extensions', () => {
          const p = tmp(`${f}-csr-sans.pem`);
          const v = osslStatus(['req', '-in', p, '-verify', '-noout']);
          expect(v.output).toMatch(/verify OK/);
          expect(v.status).toBe(0);
          const t = ossl(['req', '-in', p, '-text', '-noout']);
          expect(t).toContain('Requested Extensions:');
          expect(opensslSans(t)).toEqual([
            'DNS:csr.example.com',
            'IP Address:10.1.2.3',
            'email:ops@example.com',
          ]);
          expect(t).toContain(`Signature Algorithm: ${SIG_ALG_TEXT[alg]}`);
          expect(opensslSubject(p, 'req')).toBe(core.formatName(csrWithSans.subject));
          expect(ossl(['asn1parse', '-in', p])).toMatch(/cons: cont \[ 0 \]/);
        });

        it('CSR without SANs passes openssl req -verify and still has the attributes field [0]', () => {
          const p = tmp(`${f}-csr-bare.pem`);
          const v = osslStatus(['req', '-in', p, '-verify', '-noout']);
          expect(v.output).toMatch(/verify OK/);
          expect(v.status).toBe(0);
          const t = ossl(['req', '-in', p, '-text', '-noout']);
          // openssl prints an empty "Requested Extensions:" heading for any CSR without them (its own too).
          expect(t).toMatch(
            /Attributes:\n\s+\(none\)\n\s+Requested Extensions:\n\s+Signature Algorithm:/,
          );
          expect(t).not.toContain('X509v3');
          expect(opensslSubject(p, 'req')).toBe('CN=bare request');
          // The empty attributes SET: `a0 00`, which asn1parse prints as a zero-length cont [ 0 ].
          expect(ossl(['asn1parse', '-in', p])).toMatch(/l= +0 cons: cont \[ 0 \]/);
        });
      });
    }

    describe('tricky subject names print identically in openssl RFC 2253 and core formatName', () => {
      const cases: { label: string; name: string; multiValued?: boolean }[] = [
        { label: 'escaped comma', name: 'CN=Doe\\, Jane,O=Example\\, Inc.,C=US' },
        {
          label: 'escaped plus, quote, semicolon, angle brackets',
          name: 'CN=a\\+b \\"c\\"\\; \\<d\\>,O=Plus\\+Corp',
        },
        { label: 'escaped backslash and leading hash', name: 'CN=\\#hash \\\\ slash,OU=x' },
        { label: 'non-ASCII UTF-8', name: 'CN=Zoë Ærøskøbing,O=Zürich Straße GmbH,L=東京,C=CH' },
        {
          label: 'multi-valued RDN',
          name: 'CN=Jane Doe+UID=jdoe,O=Example,DC=example,DC=com',
          multiValued: true,
        },
        {
          label: 'multi-valued RDN with escapes and UTF-8',
          name: 'CN=Müller\\, Jörg+UID=jm,OU=R&D',
          multiValued: true,
        },
      ];
      let caKeys: CryptoKeyPair;
      beforeAll(async () => {
        caKeys = await core.generateKeyPair({ algorithm: 'P-256' });
      });
      for (const [i, c] of cases.entries()) {
        it(`${c.label}: ${c.name}`, async () => {
          const subject = core.parseName(c.name);
          const ca = await core.createSelfSignedCa({ subject, keyPair: caKeys });
          const csr = await core.createCsr({ subject, keyPair: caKeys });
          const certPath = put(`name-${i}.pem`, certPem(ca));
          const csrPath = put(`name-${i}-csr.pem`, csrPem(csr));
          const expected = core.formatName(ca.subject);
          if (c.multiValued) {
            // DER sorts the members of a SET OF, so core may print them in another order than given.
            expect(sortRdnMembers(expected)).toBe(sortRdnMembers(c.name));
          } else {
            expect(expected).toBe(c.name);
          }
          for (const printed of [opensslSubject(certPath), opensslSubject(csrPath, 'req')]) {
            if (c.multiValued) {
              // openssl reverses members inside a multi-valued RDN; compare as sets, and as names.
              expect(sortRdnMembers(printed)).toBe(sortRdnMembers(expected));
              expect(core.nameEquals(core.parseName(printed), ca.subject)).toBe(true);
            } else {
              expect(printed).toBe(expected);
            }
          }
          // Default RFC2253 (esc_msb on) escapes UTF-8 bytes as \XX; core's parser reads that form back.
          const escaped = ossl([
            'x509',
            '-in',
            certPath,
            '-noout',
            '-subject',
            '-nameopt',
            'RFC2253',
          ])
            .trim()
            .replace(/^subject=/, '');
          expect(core.nameEquals(core.parseName(escaped), ca.subject)).toBe(true);
        });
      }
    });
  });

  // ------------------------------------------------------------------------------------------
  describe('chains made by core pass openssl verify -x509_strict', () => {
    interface ChainSpec {
      label: string;
      root: Alg;
      inter: Alg;
      leaf: Alg;
    }
    const chains: ChainSpec[] = [
      { label: 'P-256', root: 'P-256', inter: 'P-256', leaf: 'P-256' },
      { label: 'Ed25519', root: 'Ed25519', inter: 'Ed25519', leaf: 'Ed25519' },
      {
        label: 'mixed (P-384 root, Ed25519 intermediate, P-256 leaf)',
        root: 'P-384',
        inter: 'Ed25519',
        leaf: 'P-256',
      },
    ];

    async function makeChain(
      spec: ChainSpec,
      tag: string,
    ): Promise<{ ca: string; inter: string; leaf: string; wrongRoot: string }> {
      const rootKeys = await core.generateKeyPair({ algorithm: spec.root });
      const rootSubject = core.signingName(
        core.organizationName({ organization: `Chain ${spec.label}` }),
      );
      const root = await core.createSelfSignedCa({
        subject: rootSubject,
        keyPair: rootKeys,
        pathLength: 1,
      });
      const interKeys = await core.generateKeyPair({ algorithm: spec.inter });
      const interKeyPairIssuer = await core.issueCaCertificate({
        issuer: { certificate: root, privateKey: rootKeys.privateKey },
        subject: core.signingName(
          core.organizationName({ organization: `Chain ${spec.label}`, unit: 'Issuing' }),
        ),
        publicKey: interKeys.publicKey,
      });
      const leafKeys = await core.generateKeyPair({ algorithm: spec.leaf });
      const leaf = await core.issueEndEntityCertificate({
        issuer: { certificate: interKeyPairIssuer, privateKey: interKeys.privateKey },
        subject: core.personName({ commonName: 'server.example.com' }),
        publicKey: leafKeys.publicKey,
        altNames: [core.dnsName('server.example.com'), core.ipAddress('127.0.0.1')],
      });
      // Same subject as the real root, different key: openssl must not accept it as the anchor.
      const wrongKeys = await core.generateKeyPair({ algorithm: spec.root });
      const wrongRoot = await core.createSelfSignedCa({
        subject: rootSubject,
        keyPair: wrongKeys,
        pathLength: 1,
      });
      return {
        ca: put(`chain-${tag}-ca.pem`, certPem(root)),
        inter: put(`chain-${tag}-inter.pem`, certPem(interKeyPairIssuer)),
        leaf: put(`chain-${tag}-leaf.pem`, certPem(leaf)),
        wrongRoot: put(`chain-${tag}-wrong-root.pem`, certPem(wrongRoot)),
      };
    }

    for (const [i, spec] of chains.entries()) {
      describe(spec.label, () => {
        let paths: Awaited<ReturnType<typeof makeChain>>;
        beforeAll(async () => {
          paths = await makeChain(spec, String(i));
        });

        for (const purpose of ['sslserver', 'sslclient']) {
          it(`CA → intermediate → leaf verifies with -purpose ${purpose}`, () => {
            const r = osslStatus([
              'verify',
              '-x509_strict',
              '-purpose',
              purpose,
              '-CAfile',
              paths.ca,
              '-untrusted',
              paths.inter,
              paths.leaf,
            ]);
            expect(r.output.trim()).toBe(`${paths.leaf}: OK`);
            expect(r.status).toBe(0);
          });
        }

        it('the intermediate alone verifies against the root', () => {
          const r = osslStatus(['verify', '-x509_strict', '-CAfile', paths.ca, paths.inter]);
          expect(r.output.trim()).toBe(`${paths.inter}: OK`);
          expect(r.status).toBe(0);
        });

        it('fails against the wrong root (same name, different key)', () => {
          const r = osslStatus([
            'verify',
            '-x509_strict',
            '-purpose',
            'sslserver',
            '-CAfile',
            paths.wrongRoot,
            '-untrusted',
            paths.inter,
            paths.leaf,
          ]);
          expect(r.status).not.toBe(0);
          expect(r.output).toMatch(/error \d+ at \d+ depth lookup/);
          expect(r.output).not.toContain(`${paths.leaf}: OK`);
        });

        it('fails without the intermediate', () => {
          const r = osslStatus(['verify', '-x509_strict', '-CAfile', paths.ca, paths.leaf]);
          expect(r.status).not.toBe(0);
          expect(r.output).toMatch(/unable to get local issuer certificate/);
        });
      });
    }
  });

  // ------------------------------------------------------------------------------------------
  describe('keys, certificates and CSRs made by openssl are read and verified by core', () => {
    interface OsslAlg {
      alg: 'P-256' | 'P-384' | 'Ed25519' | 'RSA-2048';
      genpkey: string[];
      digest: string[];
      sigText: string;
    }
    const osslAlgs: OsslAlg[] = [
      {
        alg: 'P-256',
        genpkey: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
        digest: ['-sha256'],
        sigText: 'ecdsa-with-SHA256',
      },
      {
        alg: 'P-384',
        genpkey: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'],
        digest: ['-sha384'],
        sigText: 'ecdsa-with-SHA384',
      },
      { alg: 'Ed25519', genpkey: ['-algorithm', 'ED25519'], digest: [], sigText: 'ED25519' },
      {
        alg: 'RSA-2048',
        genpkey: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
        digest: ['-sha256'],
        sigText: 'sha256WithRSAEncryption',
      },
    ];
    const SUBJ = '/C=CH/O=Zürich AG\\, Ltd/OU=R\\+D/CN=Jane Doe+UID=jdoe';
    const SAN =
      'subjectAltName=DNS:openssl.example.com,DNS:*.openssl.example.com,IP:10.0.0.1,IP:2001:db8::1,email:a@example.com,URI:https://example.com/x';

    for (const o of osslAlgs) {
      describe(o.alg, () => {
        const f = `ossl-${fileSafe(o.alg)}`;
        let keyPath: string;
        let certPath: string;
        let csrPath: string;
        let bareCsrPath: string;
        beforeAll(() => {
          keyPath = tmp(`${f}.key`);
          certPath = tmp(`${f}.crt`);
          csrPath = tmp(`${f}.csr`);
          bareCsrPath = tmp(`${f}-bare.csr`);
          ossl(['genpkey', ...o.genpkey, '-out', keyPath]);
          ossl([
            'req',
            '-new',
            '-x509',
            '-key',
            keyPath,
            '-utf8',
            '-multivalue-rdn',
            '-subj',
            SUBJ,
            '-days',
            '30',
            ...o.digest,
            '-addext',
            SAN,
            '-out',
            certPath,
          ]);
          ossl([
            'req',
            '-new',
            '-key',
            keyPath,
            '-utf8',
            '-multivalue-rdn',
            '-subj',
            SUBJ,
            ...o.digest,
            '-addext',
            SAN,
            '-out',
            csrPath,
          ]);
          ossl([
            'req',
            '-new',
            '-key',
            keyPath,
            '-subj',
            '/CN=no extensions',
            ...o.digest,
            '-out',
            bareCsrPath,
          ]);
        });

        if (o.alg === 'RSA-2048') {
          it('importPrivateKey refuses the RSA private key with ERR_ALG_UNSUPPORTED (RSA is verify-only)', async () => {
            await expectCode(
              core.importPrivateKey(readFileSync(keyPath, 'utf8')),
              'ERR_ALG_UNSUPPORTED',
            );
            const traditional = ossl(['pkey', '-in', keyPath, '-traditional']);
            expect(traditional).toContain('BEGIN RSA PRIVATE KEY');
            await expectCode(core.importPrivateKey(traditional), 'ERR_ALG_UNSUPPORTED');
          });
        } else {
          it('importPrivateKey reads the genpkey PKCS#8 key and derives the same public key as openssl', async () => {
            const { privateKey, publicKey } = await core.importPrivateKey(
              readFileSync(keyPath, 'utf8'),
              { extractable: true },
            );
            expect(core.signingKeyAlgorithmOf(privateKey)).toBe(o.alg);
            expect(await core.exportPublicKey(publicKey)).toBe(
              ossl(['pkey', '-in', keyPath, '-pubout']),
            );
            // Re-exported PKCS#8 is a key openssl reads as the same key.
            const again = put(`${f}-reexport.key`, await core.exportPrivateKey(privateKey));
            expect(ossl(['pkey', '-in', again, '-pubout'])).toBe(
              ossl(['pkey', '-in', keyPath, '-pubout']),
            );
          });
        }

        it('importPublicKey reads openssl pkey -pubout', async () => {
          const pub = ossl(['pkey', '-in', keyPath, '-pubout']);
          const key = await core.importPublicKey(pub);
          expect(key.type).toBe('public');
          expect(await core.exportPublicKey(key)).toBe(pub);
          expect(
            core.parsePublicKeyInfo(await core.exportPublicKey(key, { format: 'der' })).algorithm,
          ).toBe(o.alg === 'RSA-2048' ? 'RSA' : o.alg);
        });

        it('the self-signed certificate parses, its signature verifies, and fields match openssl', async () => {
          const pem = readFileSync(certPath, 'utf8');
          const cert = core.parseCertificate(pem);
          await core.verifyCertificateSignature(cert, cert);
          const out = ossl([
            'x509',
            '-in',
            certPath,
            '-noout',
            '-serial',
            '-startdate',
            '-enddate',
            '-fingerprint',
            '-sha256',
          ]);
          const lines = out.trim().split('\n');
          // openssl prints the serial's magnitude; core keeps the encoding (a 00 pad if the top bit is set).
          expect(lines[0]).toBe(
            `serial=${cert.serialNumberHex.replace(/^(00)+(?=.)/, '').toUpperCase()}`,
          );
          expect(cert.notBefore.getTime()).toBe(opensslDate(lines[1]!).getTime());
          expect(cert.notAfter.getTime()).toBe(opensslDate(lines[2]!).getTime());
          expect(lines[3]!.split('=')[1]).toBe(core.fingerprint(cert));
          const printed = opensslSubject(certPath);
          expect(sortRdnMembers(core.formatName(cert.subject))).toBe(sortRdnMembers(printed));
          expect(core.nameEquals(core.parseName(printed), cert.subject)).toBe(true);
          expect(core.formatName(cert.subject)).toBe(
            'CN=Jane Doe+UID=jdoe,OU=R\\+D,O=Zürich AG\\, Ltd,C=CH',
          );
          const text = ossl(['x509', '-in', certPath, '-text', '-noout']);
          expect(text).toContain(`Signature Algorithm: ${o.sigText}`);
          expect(cert.subjectAltNames!.map(core.formatGeneralName)).toEqual(opensslSans(text));
          expect(cert.subjectAltNames).toEqual([
            { type: 'dns', value: 'openssl.example.com' },
            { type: 'dns', value: '*.openssl.example.com' },
            { type: 'ip', value: '10.0.0.1' },
            { type: 'ip', value: '2001:db8::1' },
            { type: 'email', value: 'a@example.com' },
            { type: 'uri', value: 'https://example.com/x' },
          ]);
          expect(cert.basicConstraints?.ca).toBe(true);
          expect(colonHex(cert.subjectKeyIdentifier!)).toBe(
            extensionBlock(text, 'X509v3 Subject Key Identifier').split('\n')[1],
          );
          expect(await core.exportPublicKey(await core.importPublicKey(cert.publicKey.spki))).toBe(
            ossl(['pkey', '-in', keyPath, '-pubout']),
          );
        });

        it('a tampered copy of the certificate fails with ERR_SIGNATURE_INVALID (signature byte, TBS byte)', async () => {
          const cert = core.parseCertificate(readFileSync(certPath, 'utf8'));
          const badSig = core.decodeCertificate(flip(cert.der, -1));
          await expectCode(core.verifyCertificateSignature(badSig, cert), 'ERR_SIGNATURE_INVALID');
          const at = indexOfBytes(cert.der, 'openssl.example.com');
          expect(at).toBeGreaterThan(0);
          expect(at).toBeLessThan(cert.tbs.length);
          const tbsDer = cert.der.slice();
          tbsDer[at] = 'O'.charCodeAt(0); // openssl → Openssl: still parses, no longer signed
          const badTbs = core.decodeCertificate(tbsDer);
          expect(badTbs.subjectAltNames![0]).toEqual({ type: 'dns', value: 'Openssl.example.com' });
          await expectCode(core.verifyCertificateSignature(badTbs, cert), 'ERR_SIGNATURE_INVALID');
          // openssl agrees the tampered copy is broken.
          const bad = put(`${f}-tampered.crt`, certPem(badTbs));
          expect(osslStatus(['verify', '-CAfile', certPath, bad]).status).not.toBe(0);
        });

        it('the CSR with SANs parses, verifies, and a tampered copy fails with ERR_SIGNATURE_INVALID', async () => {
          const csr = core.parseCsr(readFileSync(csrPath, 'utf8'));
          await core.verifyCsr(csr);
          expect(core.nameEquals(core.parseName(opensslSubject(csrPath, 'req')), csr.subject)).toBe(
            true,
          );
          expect(csr.subjectAltNames?.map(core.formatGeneralName)).toEqual(
            opensslSans(ossl(['req', '-in', csrPath, '-text', '-noout'])),
          );
          await expect(
            core.exportPublicKey(await core.importPublicKey(csr.publicKey.spki)),
          ).resolves.toBe(ossl(['pkey', '-in', keyPath, '-pubout']));
          await expectCode(
            core.verifyCsr(core.decodeCsr(flip(csr.der, -1))),
            'ERR_SIGNATURE_INVALID',
          );
          const at = indexOfBytes(csr.der, 'Jane Doe');
          expect(at).toBeGreaterThan(0);
          const tampered = csr.der.slice();
          tampered[at] = 'K'.charCodeAt(0);
          await expectCode(core.verifyCsr(core.decodeCsr(tampered)), 'ERR_SIGNATURE_INVALID');
        });

        it('the CSR without extensions parses and verifies', async () => {
          const csr = core.parseCsr(readFileSync(bareCsrPath, 'utf8'));
          await core.verifyCsr(csr);
          expect(core.formatName(csr.subject)).toBe('CN=no extensions');
          expect(csr.extensions).toEqual([]);
          expect(csr.subjectAltNames).toBeUndefined();
        });

        if (o.alg !== 'RSA-2048') {
          it('core issues a certificate from the openssl CSR that openssl verifies', async () => {
            const caKeys = await core.generateKeyPair({ algorithm: o.alg as Alg });
            const ca = await core.createSelfSignedCa({
              subject: core.parseName(`CN=CA for ${o.alg} CSRs`),
              keyPair: caKeys,
            });
            const cert = await core.issueCertificateFromCsr({
              issuer: { certificate: ca, privateKey: caKeys.privateKey },
              csr: readFileSync(csrPath, 'utf8'),
            });
            const ca_ = put(`${f}-csr-ca.pem`, certPem(ca));
            const leaf = put(`${f}-csr-leaf.pem`, certPem(cert));
            const r = osslStatus([
              'verify',
              '-x509_strict',
              '-purpose',
              'sslserver',
              '-CAfile',
              ca_,
              leaf,
            ]);
            expect(r.output.trim()).toBe(`${leaf}: OK`);
            expect(opensslSubject(leaf)).toBe(opensslSubject(csrPath, 'req'));
          });
        }
      });
    }

    describe('an openssl P-256 chain (root → intermediate → leaf)', () => {
      let root: core.Certificate;
      let inter: core.Certificate;
      let leaf: core.Certificate;
      beforeAll(() => {
        const key = (n: string): string => {
          const p = tmp(`osschain-${n}.key`);
          ossl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', p]);
          return p;
        };
        const rk = key('root');
        const ik = key('inter');
        const lk = key('leaf');
        const rc = tmp('osschain-root.crt');
        const ic = tmp('osschain-inter.crt');
        const lc = tmp('osschain-leaf.crt');
        ossl([
          'req',
          '-new',
          '-x509',
          '-key',
          rk,
          '-subj',
          '/O=OpenSSL Chain/CN=Root',
          '-days',
          '30',
          '-sha256',
          '-addext',
          'basicConstraints=critical,CA:TRUE,pathlen:1',
          '-addext',
          'keyUsage=critical,keyCertSign,cRLSign',
          '-out',
          rc,
        ]);
        ossl([
          'req',
          '-new',
          '-x509',
          '-key',
          ik,
          '-CA',
          rc,
          '-CAkey',
          rk,
          '-subj',
          '/O=OpenSSL Chain/CN=Intermediate',
          '-days',
          '20',
          '-sha256',
          '-addext',
          'basicConstraints=critical,CA:TRUE,pathlen:0',
          '-addext',
          'keyUsage=critical,keyCertSign,cRLSign',
          '-out',
          ic,
        ]);
        ossl([
          'req',
          '-new',
          '-x509',
          '-key',
          lk,
          '-CA',
          ic,
          '-CAkey',
          ik,
          '-subj',
          '/CN=leaf.example.com',
          '-days',
          '10',
          '-sha256',
          '-addext',
          'basicConstraints=critical,CA:FALSE',
          '-addext',
          'extendedKeyUsage=serverAuth',
          '-addext',
          'subjectAltName=DNS:leaf.example.com',
          '-out',
          lc,
        ]);
        // Sanity: openssl itself accepts its chain.
        const r = osslStatus(['verify', '-x509_strict', '-CAfile', rc, '-untrusted', ic, lc]);
        expect(r.output.trim()).toBe(`${lc}: OK`);
        root = core.parseCertificate(readFileSync(rc, 'utf8'));
        inter = core.parseCertificate(readFileSync(ic, 'utf8'));
        leaf = core.parseCertificate(readFileSync(lc, 'utf8'));
      });

      it('verifies link by link with verifyCertificateSignature', async () => {
        await core.verifyCertificateSignature(root, root);
        await core.verifyCertificateSignature(inter, root);
        await core.verifyCertificateSignature(leaf, inter);
        expect(core.nameEquals(inter.issuer, root.subject)).toBe(true);
        expect(core.nameEquals(leaf.issuer, inter.subject)).toBe(true);
        expect(inter.authorityKeyIdentifier?.keyIdentifier).toEqual(root.subjectKeyIdentifier);
        expect(leaf.authorityKeyIdentifier?.keyIdentifier).toEqual(inter.subjectKeyIdentifier);
        expect(inter.basicConstraints).toEqual({ ca: true, pathLength: 0 });
        expect(leaf.subjectAltNames).toEqual([{ type: 'dns', value: 'leaf.example.com' }]);
      });

      it('a link with the wrong issuer fails with ERR_SIGNATURE_INVALID', async () => {
        await expectCode(core.verifyCertificateSignature(leaf, root), 'ERR_SIGNATURE_INVALID');
        await expectCode(core.verifyCertificateSignature(inter, leaf), 'ERR_SIGNATURE_INVALID');
      });
    });

    describe('SEC 1 EC PRIVATE KEY', () => {
      it('imports `openssl ecparam -genkey -noout` (P-256) and matches openssl pkey -pubout', async () => {
        const p = tmp('sec1-p256.key');
        ossl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', p]);
        const pem = readFileSync(p, 'utf8');
        expect(pem).toContain('BEGIN EC PRIVATE KEY');
        const { privateKey, publicKey } = await core.importPrivateKey(pem);
        expect(core.signingKeyAlgorithmOf(privateKey)).toBe('P-256');
        expect(await core.exportPublicKey(publicKey)).toBe(ossl(['pkey', '-in', p, '-pubout']));
      });

      it('imports `openssl pkey -traditional` of a P-384 PKCS#8 key', async () => {
        const p8 = tmp('sec1-p384-pkcs8.key');
        ossl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-out', p8]);
        const sec1 = ossl(['pkey', '-in', p8, '-traditional']);
        expect(sec1).toContain('BEGIN EC PRIVATE KEY');
        const { privateKey, publicKey } = await core.importPrivateKey(sec1, { extractable: true });
        expect(core.signingKeyAlgorithmOf(privateKey)).toBe('P-384');
        expect(await core.exportPublicKey(publicKey)).toBe(ossl(['pkey', '-in', p8, '-pubout']));
        // The SEC 1 key signs certificates openssl accepts.
        const ca = await core.createSelfSignedCa({
          subject: core.parseName('CN=SEC1 CA'),
          keyPair: { privateKey, publicKey },
        });
        const caPath = put('sec1-ca.pem', certPem(ca));
        expect(osslStatus(['verify', '-x509_strict', '-CAfile', caPath, caPath]).status).toBe(0);
      });

      // `openssl ecparam -genkey` without -noout writes an EC PARAMETERS block before the key.
      it('imports `openssl ecparam -genkey` output that also carries an EC PARAMETERS block', async () => {
        const pem = ossl(['ecparam', '-name', 'prime256v1', '-genkey']);
        expect(pem).toContain('BEGIN EC PARAMETERS');
        const { privateKey } = await core.importPrivateKey(pem);
        expect(core.signingKeyAlgorithmOf(privateKey)).toBe('P-256');
      });
    });

    describe('RSA signatures', () => {
      let rsaKey: string;
      beforeAll(() => {
        rsaKey = tmp('rsa-sig.key');
        ossl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', rsaKey]);
      });

      it('an RSA-PSS-signed certificate (rsaEncryption key, -sigopt rsa_padding_mode:pss) verifies', async () => {
        const p = tmp('rsa-pss.crt');
        ossl([
          'req',
          '-new',
          '-x509',
          '-key',
          rsaKey,
          '-subj',
          '/CN=PSS',
          '-days',
          '1',
          '-sha256',
          '-sigopt',
          'rsa_padding_mode:pss',
          '-sigopt',
          'rsa_pss_saltlen:32',
          '-out',
          p,
        ]);
        expect(ossl(['x509', '-in', p, '-text', '-noout'])).toContain(
          'Signature Algorithm: rsassaPss',
        );
        const cert = core.parseCertificate(readFileSync(p, 'utf8'));
        await core.verifyCertificateSignature(cert, cert);
        await expectCode(
          core.verifyCertificateSignature(core.decodeCertificate(flip(cert.der, -1)), cert),
          'ERR_SIGNATURE_INVALID',
        );
      });

      it('an RSA-PSS-signed certificate with openssl’s default (digest-length) salt verifies', async () => {
        const p = tmp('rsa-pss-default.crt');
        ossl([
          'req',
          '-new',
          '-x509',
          '-key',
          rsaKey,
          '-subj',
          '/CN=PSS default',
          '-days',
          '1',
          '-sha384',
          '-sigopt',
          'rsa_padding_mode:pss',
          '-out',
          p,
        ]);
        const cert = core.parseCertificate(readFileSync(p, 'utf8'));
        await core.verifyCertificateSignature(cert, cert);
      });

      it('a certificate for an RSA-PSS key (genpkey -algorithm RSA-PSS) verifies', async () => {
        const k = tmp('rsa-pss-key.key');
        const p = tmp('rsa-pss-key.crt');
        ossl(['genpkey', '-algorithm', 'RSA-PSS', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', k]);
        ossl([
          'req',
          '-new',
          '-x509',
          '-key',
          k,
          '-subj',
          '/CN=PSS key',
          '-days',
          '1',
          '-sha256',
          '-out',
          p,
        ]);
        const cert = core.parseCertificate(readFileSync(p, 'utf8'));
        expect(cert.publicKey.algorithm).toBe('RSA-PSS');
        await core.verifyCertificateSignature(cert, cert);
      });

      it('an RSA certificate signed with SHA-1 is refused with ERR_ALG_UNSUPPORTED', async () => {
        const p = tmp('rsa-sha1.crt');
        ossl([
          'req',
          '-new',
          '-x509',
          '-key',
          rsaKey,
          '-subj',
          '/CN=SHA-1',
          '-days',
          '1',
          '-sha1',
          '-out',
          p,
        ]);
        expect(ossl(['x509', '-in', p, '-text', '-noout'])).toContain(
          'Signature Algorithm: sha1WithRSAEncryption',
        );
        const cert = core.parseCertificate(readFileSync(p, 'utf8'));
        await expectCode(core.verifyCertificateSignature(cert, cert), 'ERR_ALG_UNSUPPORTED');
      });

      it('an RSA CSR signed with SHA-1 is refused with ERR_ALG_UNSUPPORTED', async () => {
        const p = tmp('rsa-sha1.csr');
        ossl(['req', '-new', '-key', rsaKey, '-subj', '/CN=SHA-1', '-sha1', '-out', p]);
        await expectCode(
          core.verifyCsr(core.parseCsr(readFileSync(p, 'utf8'))),
          'ERR_ALG_UNSUPPORTED',
        );
      });
    });
  });

  // ------------------------------------------------------------------------------------------
  describe('keys made by core load in openssl', () => {
    const PKEY_TEXT: Record<Alg, RegExp> = {
      Ed25519: /ED25519 Private-Key:/,
      'P-256': /Private-Key: \(256 bit\)[\s\S]*NIST CURVE: P-256/,
      'P-384': /Private-Key: \(384 bit\)[\s\S]*NIST CURVE: P-384/,
    };

    for (const alg of ALGS) {
      describe(alg, () => {
        const f = `core-key-${fileSafe(alg)}`;
        let keys: CryptoKeyPair;
        let keyPath: string;
        let pubPem: string;
        beforeAll(async () => {
          keys = await core.generateKeyPair({ algorithm: alg, extractable: true });
          keyPath = put(`${f}.key`, await core.exportPrivateKey(keys.privateKey));
          pubPem = await core.exportPublicKey(keys.publicKey);
        });

        it('openssl pkey -text reads the exported PKCS#8 PEM', () => {
          expect(readFileSync(keyPath, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
          expect(ossl(['pkey', '-in', keyPath, '-noout', '-text'])).toMatch(PKEY_TEXT[alg]);
        });

        it('openssl pkey -pubout equals exportPublicKey PEM', () => {
          expect(ossl(['pkey', '-in', keyPath, '-pubout'])).toBe(pubPem);
          const pubPath = put(`${f}.pub`, pubPem);
          expect(ossl(['pkey', '-pubin', '-in', pubPath, '-pubout'])).toBe(pubPem);
        });

        it('openssl pkey reads the DER export too', async () => {
          const der = put(
            `${f}.der`,
            await core.exportPrivateKey(keys.privateKey, { format: 'der' }),
          );
          expect(ossl(['pkey', '-inform', 'DER', '-in', der, '-pubout'])).toBe(pubPem);
        });

        it('openssl signs with our key and WebCrypto verifies with our public key; and vice versa', async () => {
          const data = new TextEncoder().encode(`interop ${alg}`);
          const dataPath = put(`${f}.data`, data);
          const sigPath = tmp(`${f}.sig`);
          const pubPath = put(`${f}-v.pub`, pubPem);
          const size = alg === 'P-384' ? 48 : 32;
          const hash = alg === 'P-384' ? 'SHA-384' : 'SHA-256';
          const params: Algorithm | EcdsaParams =
            alg === 'Ed25519' ? { name: 'Ed25519' } : { name: 'ECDSA', hash };
          if (alg === 'Ed25519') {
            ossl([
              'pkeyutl',
              '-sign',
              '-rawin',
              '-inkey',
              keyPath,
              '-in',
              dataPath,
              '-out',
              sigPath,
            ]);
          } else {
            ossl([
              'dgst',
              `-${hash.replace('-', '').toLowerCase()}`,
              '-sign',
              keyPath,
              '-out',
              sigPath,
              dataPath,
            ]);
          }
          const osslSig = new Uint8Array(readFileSync(sigPath));
          const raw = alg === 'Ed25519' ? osslSig : ecdsaDerToRaw(osslSig, size);
          expect(await crypto.subtle.verify(params, keys.publicKey, raw, data)).toBe(true);

          if (alg === 'Ed25519') {
            const ours = new Uint8Array(await crypto.subtle.sign(params, keys.privateKey, data));
            const ourSig = put(`${f}-ours.sig`, ours);
            const r = osslStatus([
              'pkeyutl',
              '-verify',
              '-rawin',
              '-pubin',
              '-inkey',
              pubPath,
              '-in',
              dataPath,
              '-sigfile',
              ourSig,
            ]);
            expect(r.output).toContain('Signature Verified Successfully');
          }
        });

        it('JWK export → import round-trips to the same PKCS#8 and SPKI', async () => {
          const jwk = await core.exportPrivateKey(keys.privateKey, { format: 'jwk' });
          expect(jwk.d).toEqual(expect.any(String));
          const back = await core.importPrivateKey(jwk, { extractable: true });
          expect(await core.exportPrivateKey(back.privateKey)).toBe(readFileSync(keyPath, 'utf8'));
          expect(await core.exportPublicKey(back.publicKey)).toBe(pubPem);
          const pubJwk = await core.exportPublicKey(keys.publicKey, { format: 'jwk' });
          expect(pubJwk.d).toBeUndefined();
          expect(await core.exportPublicKey(await core.importPublicKey(pubJwk))).toBe(pubPem);
          const p = put(`${f}-jwk-roundtrip.key`, await core.exportPrivateKey(back.privateKey));
          expect(ossl(['pkey', '-in', p, '-pubout'])).toBe(pubPem);
        });
      });
    }

    it('an openssl key survives import → JWK → import → PKCS#8 export unchanged in openssl’s eyes', async () => {
      const k = tmp('ossl-jwk.key');
      ossl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-out', k]);
      const { privateKey } = await core.importPrivateKey(readFileSync(k, 'utf8'), {
        extractable: true,
      });
      const jwk = await core.exportPrivateKey(privateKey, { format: 'jwk' });
      expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-384' });
      const again = await core.importPrivateKey(jwk, { extractable: true });
      const p = put('ossl-jwk-roundtrip.key', await core.exportPrivateKey(again.privateKey));
      expect(ossl(['pkey', '-in', p, '-pubout'])).toBe(ossl(['pkey', '-in', k, '-pubout']));
      expect(await core.exportPublicKey(again.publicKey)).toBe(ossl(['pkey', '-in', k, '-pubout']));
    });
  });
});
