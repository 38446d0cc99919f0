import { beforeAll, describe, expect, it } from 'vitest';
import {
  encodePem,
  fromBase64Der,
  toBase64Der,
  toHex,
  generateKeyPair,
  parsePublicKeyInfo,
  createCsr,
  createSelfSignedCa,
  issueCaCertificate,
  issueEndEntityCertificate,
  type Issuer,
  decodeCertificate,
  type Certificate,
  dnsName,
  emailAddress,
  nameEquals,
  organizationName,
  personName,
  signingName,
  verifyCertificateSignature,
  ornlName,
} from '@certified/core';
import { rejected, thrown } from '@certified/testing';
import {
  createIntroLetter,
  letterAliasProblem,
  parseIntroLetter,
  verifyIntroLetter,
  type IntroLetter,
} from './intro-letter.js';

const NOW = new Date('2030-01-01T00:00:00Z');
const DAY = 86_400_000;
const at = (ms: number): Date => new Date(NOW.getTime() + ms);

/** ORNL's `der_to_b64`: base64 with `-_` for `+/`. */
const ornlB64 = (der: Uint8Array): string =>
  toBase64Der(der).replace(/\+/g, '-').replace(/\//g, '_');
const fromOrnlB64 = (s: string): Uint8Array =>
  fromBase64Der(s.replace(/-/g, '+').replace(/_/g, '/'));

const signerName = signingName(
  organizationName({ organization: 'Org2', unit: 'Fraud Detection', country: 'US' }),
);
const subjectName = personName({ commonName: 'David Rogers', country: 'US' });
const subjectAltNames = [emailAddress('me@home.org'), dnsName('rogers.example')];

let introducer: Issuer; // the signer's CA
let subjectKeys: CryptoKeyPair;
let subjectCa: Issuer; // the subject's own CA, which signed its id.crt
let subjectId: Certificate; // the subject's id.crt, as `certified get-ident` exports it
let otherKeys: CryptoKeyPair;

beforeAll(async () => {
  const caKeys = await generateKeyPair({ algorithm: 'P-256' });
  introducer = {
    certificate: await createSelfSignedCa({ subject: signerName, keyPair: caKeys, now: NOW }),
    privateKey: caKeys.privateKey,
  };
  const subjectCaKeys = await generateKeyPair();
  subjectCa = {
    certificate: await createSelfSignedCa({
      subject: signingName(subjectName),
      keyPair: subjectCaKeys,
      now: NOW,
    }),
    privateKey: subjectCaKeys.privateKey,
  };
  subjectKeys = await generateKeyPair();
  subjectId = await issueEndEntityCertificate({
    issuer: subjectCa,
    subject: subjectName,
    publicKey: subjectKeys.publicKey,
    altNames: subjectAltNames,
    now: NOW,
  });
  otherKeys = await generateKeyPair();
});

const introduce = (extra: Partial<Parameters<typeof createIntroLetter>[0]> = {}) =>
  createIntroLetter({ issuer: introducer, subject: ornlB64(subjectId.der), now: NOW, ...extra });

/** A letter assembled by hand the way ORNL's `introduce` prints one: `json.dumps(intro, indent=2)`. */
const ornlLetter = (signed: Certificate, ca: Certificate): string =>
  `{\n  "signed_cert": "${ornlB64(signed.der)}",\n  "ca_cert": "${ornlB64(ca.der)}"\n}`;

describe('createIntroLetter', () => {
  it('issues an identity for the subject key and names, signed by the issuer', async () => {
    const letter = await introduce();
    const signed = decodeCertificate(fromOrnlB64(letter.signed_cert));
    expect(toHex(signed.publicKey.spki)).toBe(toHex(subjectId.publicKey.spki));
    expect(nameEquals(signed.subject, subjectName)).toBe(true);
    expect(toHex(signed.subjectDer)).toBe(toHex(subjectId.subjectDer));
    expect(signed.subjectAltNames).toEqual(subjectAltNames);
    expect(toHex(signed.issuerDer)).toBe(toHex(introducer.certificate.subjectDer));
    expect(signed.basicConstraints).toEqual({ ca: false });
    expect(signed.keyUsage).toEqual(['digitalSignature']);
    expect(signed.extKeyUsage).toEqual(['1.3.6.1.5.5.7.3.2', '1.3.6.1.5.5.7.3.1']);
    expect(signed.notAfter.getTime() - signed.notBefore.getTime()).toBe(365 * DAY + 60_000);
    await verifyCertificateSignature(signed, introducer.certificate);
    expect(letter.ca_cert).toBe(ornlB64(introducer.certificate.der));
  });

  it('uses exactly the field names signed_cert, ca_cert and services, in that order', async () => {
    expect(Object.keys(await introduce())).toEqual(['signed_cert', 'ca_cert']);
    const withServices = await introduce({ services: { api: 'https://api.example.org:8443' } });
    expect(Object.keys(withServices)).toEqual(['signed_cert', 'ca_cert', 'services']);
    expect(withServices.services).toEqual({ api: 'https://api.example.org:8443' });
  });

  it("writes base64 in ORNL's alphabet (- and _, padded)", async () => {
    const letter = await introduce();
    for (const v of [letter.signed_cert, letter.ca_cert]) {
      expect(v).toMatch(/^[A-Za-z0-9_-]+={0,2}$/);
      expect(v.length % 4).toBe(0);
    }
  });

  it('honours days', async () => {
    const signed = decodeCertificate(fromOrnlB64((await introduce({ days: 30 })).signed_cert));
    expect(signed.notAfter.toISOString()).toBe(at(30 * DAY).toISOString());
  });

  it('accepts the subject as PEM, DER, standard base64, PEM bytes, and as a CSR', async () => {
    const csr = await createCsr({
      subject: subjectName,
      keyPair: subjectKeys,
      altNames: subjectAltNames,
    });
    const inputs: (string | Uint8Array)[] = [
      encodePem('CERTIFICATE', subjectId.der),
      subjectId.der,
      toBase64Der(subjectId.der),
      new TextEncoder().encode(encodePem('CERTIFICATE', subjectId.der)),
      encodePem('CERTIFICATE REQUEST', csr.der),
      csr.der,
      ornlB64(csr.der),
    ];
    for (const subject of inputs) {
      const letter = await introduce({ subject });
      const v = await verifyIntroLetter(letter, { publicKey: subjectKeys.publicKey, time: NOW });
      expect(v.signedCert.subjectAltNames).toEqual(subjectAltNames);
    }
  });

  it('rejects a forged CSR with ERR_INTRO_SUBJECT_INVALID', async () => {
    const csr = await createCsr({ subject: subjectName, keyPair: subjectKeys });
    const forged = csr.der.slice();
    forged[forged.length - 1]! ^= 0x01;
    const e = await rejected(introduce({ subject: forged }));
    expect(e.code).toBe('ERR_INTRO_SUBJECT_INVALID');
    expect(e.message).toMatch(/^The subject's certification request cannot be trusted: /);
  });

  it('rejects unreadable input with ERR_INTRO_SUBJECT_INVALID', async () => {
    for (const subject of ['not base64 at all!', 'QUJD', new Uint8Array([0x30, 0x03, 1, 2, 3])]) {
      const e = await rejected(introduce({ subject }));
      expect(e.code).toBe('ERR_INTRO_SUBJECT_INVALID');
      expect(e.message).toMatch(
        /^The subject is not a readable certificate or certification request: /,
      );
    }
  });

  it('rejects a CA certificate as an identity with ERR_INTRO_NOT_IDENTITY', async () => {
    const e = await rejected(introduce({ subject: subjectCa.certificate.der }));
    expect(e.code).toBe('ERR_INTRO_NOT_IDENTITY');
    expect(e.message).toMatch(/is a CA certificate; only identities can be introduced\.$/);
  });

  it('rejects a CSR asking for a CA with ERR_INTRO_NOT_IDENTITY', async () => {
    const csr = await createCsr({ subject: subjectName, keyPair: subjectKeys, ca: {} });
    const e = await rejected(introduce({ subject: csr.der }));
    expect(e.code).toBe('ERR_INTRO_NOT_IDENTITY');
  });

  it("rejects the issuer's own name with ERR_INTRO_SUBJECT_INVALID", async () => {
    const csr = await createCsr({ subject: signerName, keyPair: otherKeys });
    const e = await rejected(introduce({ subject: csr.der }));
    expect(e.code).toBe('ERR_INTRO_SUBJECT_INVALID');
    expect(e.message).toMatch(/is the issuer's own/);
  });

  it('rejects an RSA subject key with ERR_INTRO_SUBJECT_INVALID', async () => {
    const rsa = (await crypto.subtle.generateKey(
      {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-256',
      },
      true,
      ['sign', 'verify'],
    )) as CryptoKeyPair;
    const id = await issueEndEntityCertificate({
      issuer: subjectCa,
      subject: subjectName,
      publicKey: parsePublicKeyInfo(
        new Uint8Array(await crypto.subtle.exportKey('spki', rsa.publicKey)),
      ),
      now: NOW,
    });
    const e = await rejected(introduce({ subject: id.der }));
    expect(e.code).toBe('ERR_INTRO_SUBJECT_INVALID');
    expect(e.reason).toBe('key type');
  });

  it('refuses bad services and days as caller errors', async () => {
    await expect(introduce({ services: { 'a/b': 'https://x.example' } })).rejects.toThrow(
      TypeError,
    );
    await expect(introduce({ services: { a: 'ftp://x.example' } })).rejects.toThrow(TypeError);
    await expect(introduce({ days: 0 })).rejects.toThrow(RangeError);
  });

  it('refuses a service alias add-intro would refuse (a host name) as a caller error', async () => {
    await expect(
      introduce({ services: { 'api.partner.org': 'https://api.partner.org' } }),
    ).rejects.toThrow(/services alias "api\.partner\.org" looks like a host name/);
    await expect(
      introduce({ services: { 'localhost:8443': 'https://127.0.0.1:8443' } }),
    ).rejects.toThrow(TypeError);
  });
});

describe('letterAliasProblem', () => {
  it.each(['notes', 'alias-name', 'org1-api', 'nist-materials-api', 'Notes_2', 'x', 'ünïcode'])(
    'accepts the plain alias %j',
    (alias) => {
      expect(letterAliasProblem(alias)).toBeUndefined();
    },
  );

  it.each([
    ['api.partner.org', /looks like a host name/],
    ['10.0.0.5', /looks like a host name/],
    ['10.0.0.5:8443', /looks like a host name/],
    ['notes:8443', /host:port/],
    ['[::1]', /looks like/],
    ['::1', /looks like/],
    ['notes.', /looks like/],
    ['localhost', /is localhost/],
    ['LocalHost', /is localhost/],
    // what a URL parser makes of them: numbers are IPv4, %2E and ideographic full stops are dots
    ['167772165', /read by a URL as the host "10\.0\.0\.5"/],
    ['0x7f000001', /read by a URL as the host "127\.0\.0\.1"/],
    ['api%2Epartner%2Eorg', /read by a URL as the host "api\.partner\.org"/],
    ['api\u3002partner\u3002org', /read by a URL as the host "api\.partner\.org"/],
    ['localhost%2E', /read by a URL as the host "localhost\."/],
  ])('refuses %j', (alias, why) => {
    expect(letterAliasProblem(alias)).toMatch(why);
  });
});

describe('parseIntroLetter', () => {
  it('parses a letter built the way ORNL introduce prints one', () => {
    const text = ornlLetter(subjectId, subjectCa.certificate);
    const p = parseIntroLetter(text);
    expect(toHex(p.signedCert.der)).toBe(toHex(subjectId.der));
    expect(toHex(p.caCert.der)).toBe(toHex(subjectCa.certificate.der));
    expect(p.services).toEqual({});
  });

  it('accepts the standard base64 alphabet too, and ignores unknown fields', () => {
    const p = parseIntroLetter({
      signed_cert: toBase64Der(subjectId.der),
      ca_cert: toBase64Der(subjectCa.certificate.der),
      services: { 'alias-name': 'https://host:8443', plain: 'http://10.0.0.1/api' },
      note: 'extra fields are ignored',
    });
    expect(p.services).toEqual({
      'alias-name': 'https://host:8443',
      plain: 'http://10.0.0.1/api',
    });
  });

  it('keeps a "__proto__" alias as data', () => {
    const p = parseIntroLetter(
      `{"signed_cert":"${ornlB64(subjectId.der)}","ca_cert":"${ornlB64(subjectId.der)}","services":{"__proto__":"https://x.example"}}`,
    );
    expect(Object.keys(p.services)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(p.services)).toBe(Object.prototype);
  });

  const good = (): Record<string, unknown> => ({
    signed_cert: ornlB64(subjectId.der),
    ca_cert: ornlB64(subjectCa.certificate.der),
  });
  const cases: [string, () => string | object, string, RegExp][] = [
    [
      'text that is not JSON',
      () => '{"signed_cert": ',
      'json',
      /^The introduction letter is not valid JSON\.$/,
    ],
    ['a JSON array', () => '[]', 'json', /must be a JSON object, found an array/],
    ['JSON null', () => 'null', 'json', /must be a JSON object, found null/],
    [
      'a missing signed_cert',
      () => ({ ca_cert: good()['ca_cert'] }),
      'signed_cert',
      /has no "signed_cert" field/,
    ],
    [
      'a missing ca_cert',
      () => ({ signed_cert: good()['signed_cert'] }),
      'ca_cert',
      /has no "ca_cert" field/,
    ],
    [
      'a numeric ca_cert',
      () => ({ ...good(), ca_cert: 42 }),
      'ca_cert',
      /must be a base64 string, found a number/,
    ],
    [
      'non-base64',
      () => ({ ...good(), signed_cert: 'MIIB!xyz' }),
      'signed_cert',
      /is not padded base64/,
    ],
    [
      'unpadded base64',
      () => ({ ...good(), signed_cert: 'QUJDRA' }),
      'signed_cert',
      /is not padded base64/,
    ],
    [
      'base64 with whitespace',
      () => ({ ...good(), signed_cert: 'QUJD\nRA==' }),
      'signed_cert',
      /is not padded base64/,
    ],
    ['an empty string', () => ({ ...good(), ca_cert: '' }), 'ca_cert', /is not padded base64/],
    [
      'base64 that is not a certificate',
      () => ({ ...good(), ca_cert: 'QUJDRA==' }),
      'ca_cert',
      /is not a certificate: /,
    ],
    [
      'services that are a list',
      () => ({ ...good(), services: ['https://x.example'] }),
      'services',
      /must be an object/,
    ],
    ['services that are null', () => ({ ...good(), services: null }), 'services', /found null/],
    [
      'more services than a letter may list',
      () => ({
        ...good(),
        services: Object.fromEntries(
          Array.from({ length: 1001 }, (_, i) => [`s${i}`, 'https://x.example']),
        ),
      }),
      'services',
      /list 1001 services; a letter may list at most 1000/,
    ],
    [
      'an alias longer than a file name can be',
      () => ({ ...good(), services: { ['a'.repeat(201)]: 'https://x.example' } }),
      'services',
      /is 201 characters; at most 200/,
    ],
    [
      'a non-string URL',
      () => ({ ...good(), services: { a: 1 } }),
      'services',
      /entry "a" must be a URL string/,
    ],
    [
      'a relative URL',
      () => ({ ...good(), services: { a: '/api' } }),
      'services',
      /absolute http\(s\) URL/,
    ],
    [
      'a non-http URL',
      () => ({ ...good(), services: { a: 'file:///etc/passwd' } }),
      'services',
      /absolute http\(s\) URL/,
    ],
    [
      'an empty alias',
      () => ({ ...good(), services: { '': 'https://x.example' } }),
      'services',
      /alias "" must be non-empty/,
    ],
    [
      'an alias with a slash',
      () => ({ ...good(), services: { '../x': 'https://x.example' } }),
      'services',
      /alias "..\/x"/,
    ],
  ];
  it.each(cases)('rejects %s with ERR_INTRO_MALFORMED', (_l, input, field, message) => {
    const e = thrown(() => parseIntroLetter(input()));
    expect(e.code).toBe('ERR_INTRO_MALFORMED');
    expect(e.field).toBe(field);
    expect(e.message).toMatch(message);
  });
});

describe('verifyIntroLetter', () => {
  it('round-trips create → JSON.stringify → parse → verify', async () => {
    const letter = await introduce({ services: { 'alias-name': 'https://host:8443' } });
    const json = JSON.stringify(letter, null, 2);
    expect(json).toMatch(/^\{\n {2}"signed_cert": "[A-Za-z0-9_=-]+",\n {2}"ca_cert": /);
    const parsed = parseIntroLetter(json);
    const v = await verifyIntroLetter(parsed, { publicKey: subjectKeys.publicKey, time: at(DAY) });
    expect(v.signerName).toBe('P=Signing Certificate,C=US,OU=Fraud Detection,O=Org2');
    expect(v.signerName).toBe(ornlName(introducer.certificate.subject));
    expect(v.services).toEqual({ 'alias-name': 'https://host:8443' });
    expect(toHex(v.caCert.der)).toBe(toHex(introducer.certificate.der));
    // The key may also be given as PublicKeyInfo or SPKI DER, the letter as JSON text.
    await verifyIntroLetter(json, { publicKey: subjectId.publicKey, time: at(DAY) });
    await verifyIntroLetter(letter, { publicKey: subjectId.publicKey.spki, time: at(DAY) });
  });

  it("verifies a letter built by hand as ORNL does, with ORNL's end-entity extensions", async () => {
    const signed = await issueEndEntityCertificate({
      issuer: introducer,
      subject: subjectName,
      publicKey: subjectKeys.publicKey,
      altNames: subjectAltNames,
      keyUsages: ['digitalSignature', 'keyEncipherment'],
      extendedKeyUsages: ['clientAuth', 'serverAuth', 'codeSigning'],
      now: NOW,
    });
    const v = await verifyIntroLetter(ornlLetter(signed, introducer.certificate), {
      publicKey: subjectKeys.publicKey,
      time: at(DAY),
    });
    expect(v.signerName).toBe(ornlName(introducer.certificate.subject));
  });

  it("rejects a letter for someone else's key with ERR_INTRO_KEY_MISMATCH", async () => {
    const letter = await introduce();
    const e = await rejected(
      verifyIntroLetter(letter, { publicKey: otherKeys.publicKey, time: NOW }),
    );
    expect(e.code).toBe('ERR_INTRO_KEY_MISMATCH');
    expect(e.message).toMatch(/a letter for someone else\.$/);
  });

  it('rejects a CA certificate posing as an identity with ERR_INTRO_NOT_IDENTITY', async () => {
    const k = await generateKeyPair({ algorithm: 'P-256' });
    const parent: Issuer = {
      certificate: await createSelfSignedCa({
        subject: signerName,
        keyPair: k,
        now: NOW,
        pathLength: 1,
      }),
      privateKey: k.privateKey,
    };
    const c = await issueCaCertificate({
      issuer: parent,
      subject: subjectName,
      publicKey: subjectKeys.publicKey,
      now: NOW,
    });
    const e = await rejected(
      verifyIntroLetter(ornlLetter(c, parent.certificate), {
        publicKey: subjectKeys.publicKey,
        time: NOW,
      }),
    );
    expect(e.code).toBe('ERR_INTRO_NOT_IDENTITY');
    expect(e.message).toBe(
      "The letter's signed_cert (C=US,CN=David Rogers) is a CA certificate posing as an identity.",
    );
  });

  it('rejects an expired letter with ERR_INTRO_EXPIRED, naming the dates', async () => {
    const letter = await introduce({ days: 10 });
    const e = await rejected(
      verifyIntroLetter(letter, { publicKey: subjectKeys.publicKey, time: at(11 * DAY) }),
    );
    expect(e.code).toBe('ERR_INTRO_EXPIRED');
    expect(e.field).toBe('signed_cert');
    expect(e.message).toBe(
      "The letter's signed_cert expired at 2030-01-11T00:00:00.000Z (checked at 2030-01-12T00:00:00.000Z).",
    );
  });

  it('rejects a letter whose CA has expired with ERR_INTRO_EXPIRED on ca_cert', async () => {
    const letter = await introduce();
    const e = await rejected(
      verifyIntroLetter(letter, { publicKey: subjectKeys.publicKey, time: at(4000 * DAY) }),
    );
    expect(e.code).toBe('ERR_INTRO_EXPIRED');
    expect(e.field).toBe('ca_cert');
  });

  it('rejects a not-yet-valid letter with ERR_INTRO_NOT_YET_VALID, naming the dates', async () => {
    const letter = await introduce({ now: at(10 * DAY) });
    const e = await rejected(
      verifyIntroLetter(letter, { publicKey: subjectKeys.publicKey, time: at(DAY) }),
    );
    expect(e.code).toBe('ERR_INTRO_NOT_YET_VALID');
    expect(e.field).toBe('signed_cert');
    expect(e.message).toBe(
      "The letter's signed_cert is not valid until 2030-01-10T23:59:00.000Z (checked at 2030-01-02T00:00:00.000Z).",
    );
  });

  it('rejects a tampered signed_cert with ERR_INTRO_SIGNATURE_INVALID', async () => {
    const letter = await introduce();
    const der = fromOrnlB64(letter.signed_cert);
    // Rename the DNS SAN rogers.example → rogert.example: still DER, no longer what was signed.
    const needle = new TextEncoder().encode('rogers.example');
    const pos = toHex(der).indexOf(toHex(needle)) / 2 + 5;
    expect(pos).toBeGreaterThan(5);
    const tampered = der.slice();
    tampered[pos] = 0x74; // 's' → 't'
    decodeCertificate(tampered); // still parses
    const e = await rejected(
      verifyIntroLetter(
        { ...letter, signed_cert: ornlB64(tampered) },
        { publicKey: subjectKeys.publicKey, time: NOW },
      ),
    );
    expect(e.code).toBe('ERR_INTRO_SIGNATURE_INVALID');
    expect(e.message).toMatch(/^The letter's signed_cert was not signed by its ca_cert \(/);
  });

  it('rejects a ca_cert that did not sign, even under the same name, with ERR_INTRO_SIGNATURE_INVALID', async () => {
    const letter = await introduce();
    const impostorKeys = await generateKeyPair({ algorithm: 'P-256' });
    const impostor = await createSelfSignedCa({
      subject: signerName,
      keyPair: impostorKeys,
      now: NOW,
    });
    const e = await rejected(
      verifyIntroLetter(
        { ...letter, ca_cert: ornlB64(impostor.der) },
        { publicKey: subjectKeys.publicKey, time: NOW },
      ),
    );
    expect(e.code).toBe('ERR_INTRO_SIGNATURE_INVALID');
    expect(e.reason).toBe('signature');

    const e2 = await rejected(
      verifyIntroLetter(
        { ...letter, ca_cert: ornlB64(subjectCa.certificate.der) },
        { publicKey: subjectKeys.publicKey, time: NOW },
      ),
    );
    expect(e2.code).toBe('ERR_INTRO_SIGNATURE_INVALID');
    expect(e2.reason).toBe('issuer name');
    expect(e2.message).toMatch(/^The letter's signed_cert was issued by .*, not by its ca_cert \(/);
  });

  it('rejects a ca_cert that is not a CA with ERR_INTRO_ISSUER_NOT_CA', async () => {
    const e = await rejected(
      verifyIntroLetter(ornlLetter(subjectId, subjectId), {
        publicKey: subjectKeys.publicKey,
        time: NOW,
      }),
    );
    expect(e.code).toBe('ERR_INTRO_ISSUER_NOT_CA');
    expect(e.field).toBe('ca_cert');
  });

  it('rejects a malformed letter with ERR_INTRO_MALFORMED before any crypto', async () => {
    const bad: IntroLetter = { signed_cert: 'QUJD', ca_cert: 'QUJD' };
    const e = await rejected(verifyIntroLetter(bad, { publicKey: subjectKeys.publicKey }));
    expect(e.code).toBe('ERR_INTRO_MALFORMED');
  });
});
