/**
 * @module test/ornl-compat.test — compatibility with ORNL certified's identity directories, both ways.
 * We read what ORNL writes: the directories and letter in test/fixtures/ornl/ (built by its
 * generate.py after ORNL's code: layout, PEM/PKCS#8 files, rfc4514 file names, PyYAML service files
 * with folded scalars, `json.dumps(indent=2)` letters in the `-_` base64 alphabet). And ORNL reads what
 * we write: fixtures/ornl/ornl_read.py follows ORNL's own read paths (CA.load, LeafCert.load,
 * lookup_server + TrustedService, add-intro, introduce, add-service, the ssl contexts it builds).
 * Those contexts also meet ours over real TLS on 127.0.0.1 (Python's ssl, so OpenSSL, on their side):
 * ORNL's client against our `serve`, our session against ORNL's server, each way with a stranger.
 *
 * The Python half needs `python3` with python-cryptography (PyYAML for service files): without them
 * those tests are skipped with a warning on a developer's machine, and fail under CI=true (.ci/run
 * installs Debian's python3-cryptography and python3-yaml when they are missing).
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, parseDocument } from 'yaml';
import * as core from '@certified/core';
import * as identity from '@certified/identity';
import {
  createFileStore,
  createSession,
  serve,
  type CertifiedServer,
  type ConnectionEvent,
  type ServeEnv,
} from '@certified/node';

const execFileAsync = promisify(execFile);
const FIXTURE = join(import.meta.dirname, 'fixtures', 'ornl');
const PERSON = join(FIXTURE, 'ornl-person');
const SERVICE = join(FIXTURE, 'ornl-service');
/** Inside the fixture's validity (2026-01-01 .. 2046-01-01). */
const AT = new Date('2030-06-01T00:00:00Z');

interface Expected {
  person: { subject: string; signer: string; getIdent: string; getSigner: string };
  service: { subject: string; signer: string; getIdent: string; getSigner: string };
  introduction: {
    idFile: string;
    services: Record<string, { url: string; auths: string[] }>;
  };
}
const expected = JSON.parse(readFileSync(join(FIXTURE, 'expected.json'), 'utf8')) as Expected;

// --- python plumbing ---

const probe = (code: string) =>
  spawnSync('python3', ['-c', code], { encoding: 'utf8' }).status === 0;
const hasCryptography = probe('import cryptography.x509');
const hasPyYaml = hasCryptography && probe('import yaml');
if (process.env.CI === 'true' && !hasPyYaml)
  throw new Error(
    'CI=true: python3 with python-cryptography and PyYAML is required (see .ci/run).',
  );
if (!hasCryptography)
  console.warn(
    '\n!!! python3 with python-cryptography not found: SKIPPING the "read by ORNL" half of test/ornl-compat.test.ts !!!\n',
  );
else if (!hasPyYaml)
  console.warn(
    '\n!!! PyYAML not found: SKIPPING the PyYAML checks of test/ornl-compat.test.ts (pip install pyyaml) !!!\n',
  );

/** Runs fixtures/ornl/ornl_read.py; throws with its traceback when ORNL's read path fails. */
function ornl<T = Record<string, unknown>>(command: string, arg: string): T {
  const r = spawnSync('python3', [join(FIXTURE, 'ornl_read.py'), command, arg], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`ornl_read.py ${command} ${arg} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

// --- helpers ---

let tmp = '';
let n = 0;
/** A fresh directory under the suite's temp dir. */
const fresh = (name: string) => join(tmp, `${n++}-${name}`);

/** Every file under `dir`, path → bytes, for createMemoryStore. */
function readTree(dir: string): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const full = join(e.parentPath, e.name);
    out[relative(dir, full).split('\\').join('/')] = new Uint8Array(readFileSync(full));
  }
  return out;
}

/** A copy of a fixture directory on disk, key files back at 0600 (git does not keep modes). */
function copyOnDisk(dir: string): string {
  const to = fresh('copy');
  cpSync(dir, to, { recursive: true });
  for (const key of ['CA.key', 'id.key']) {
    try {
      chmodSync(join(to, key), 0o600);
    } catch {
      // set-org'ed directories have no CA.key
    }
  }
  return to;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const pemCerts = (text: string) => core.decodePemBundle(text).map((b) => hex(b.der));
const ornlBase64 = /^[A-Za-z0-9_-]+={0,2}$/;

let person: identity.Identity;
let service: identity.Identity;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'ornl-compat-'));
  person = await identity.loadIdentity(createFileStore(PERSON));
  service = await identity.loadIdentity(createFileStore(SERVICE));
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('ORNL directories, read by us', () => {
  it('loads the person directory (init, add-intro, add-service) with no problems', () => {
    expect(person.problems).toEqual([]);
    expect(core.ornlName(person.id.certificate.subject)).toBe(expected.person.subject);
    expect(core.ornlName(person.signer!.certificate.subject)).toBe(expected.person.signer);
    expect(person.id.certificate.publicKey.algorithm).toBe('Ed25519');
    expect(person.id.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(person.id.chain).toEqual([]);
    expect(person.signatures.map((f) => f.file)).toEqual([expected.introduction.idFile]);
    expect(person.caSignatures).toEqual([]);
    expect(person.knownClients.map((f) => f.name)).toEqual(['self']);
    expect(person.knownServers.map((f) => f.name)).toEqual(['self']);
    expect(
      Object.fromEntries(person.services.map((s) => [s.alias, { url: s.url, auths: s.auths }])),
    ).toEqual(expected.introduction.services);
  });

  it('loads the service directory (init --org, add-client) with no problems', () => {
    expect(service.problems).toEqual([]);
    expect(core.ornlName(service.id.certificate.subject)).toBe(expected.service.subject);
    expect(core.ornlName(service.signer!.certificate.subject)).toBe(expected.service.signer);
    expect(service.id.certificate.publicKey.algorithm).toBe('P-256');
    expect(service.knownClients.map((f) => f.name)).toEqual(['ada', 'self']);
    expect(hex(service.knownClients[0]!.certificates[0]!.der)).toBe(
      hex(person.signer!.certificate.der),
    );
  });

  it("has ORNL's CA subject: the identity's name plus pseudonym Signing Certificate", () => {
    for (const id of [person, service]) {
      const ca = id.signer!.certificate;
      expect(core.nameEquals(ca.subject, core.signingName(id.id.certificate.subject))).toBe(true);
      expect(ca.subject.at(-1)).toEqual([
        expect.objectContaining({ type: '2.5.4.65', value: 'Signing Certificate' }),
      ]);
      expect(ca.basicConstraints).toEqual({ ca: true, pathLength: 0 });
      expect(hex(id.id.certificate.issuerDer)).toBe(hex(ca.subjectDer));
    }
    // ORNL's end-entity profile: digitalSignature + keyEncipherment, EKU clientAuth, serverAuth, codeSigning.
    expect(service.id.certificate.keyUsage).toEqual(['digitalSignature', 'keyEncipherment']);
    expect(service.id.certificate.extKeyUsage).toEqual([
      core.EKU.clientAuth,
      core.EKU.serverAuth,
      '1.3.6.1.5.5.7.3.3',
    ]);
  });

  it("names id/<signer>.crt and auths entries by ORNL's rfc4514name", () => {
    const [sig] = person.signatures;
    expect(sig!.name).toBe(expected.service.signer);
    expect(core.ornlName(sig!.certificates[0]!.issuer)).toBe(sig!.name);
    expect(sig!.certificates).toHaveLength(1); // ORNL's add_identity saves only signed_cert
    for (const s of person.services) expect(s.auths).toContain(expected.service.signer);
  });

  it("reads ORNL's PyYAML service files, folded plain scalars included", () => {
    const text = readFileSync(join(PERSON, 'known_servers', 'notes.yaml'), 'utf8');
    // PyYAML folded the long name at a space past column 80.
    expect(text).toContain(',OU=Notes\n  Service,O=Example Corp\n');
    const s = identity.parseService('notes', 'known_servers/notes.yaml', text);
    expect(s.auths).toEqual([expected.service.signer]);
    expect(hex(s.cert!.der)).toBe(hex(service.signer!.certificate.der));
    expect(s.url).toBe('https://127.0.0.1:8443');
  });

  it('finds nothing wrong once the key files are 0600 again', async () => {
    for (const dir of [PERSON, SERVICE])
      expect(await identity.checkIdentity(createFileStore(copyOnDisk(dir)), { now: AT })).toEqual(
        [],
      );
  });

  it("verifies ORNL's letter with the person's key and installs it as ORNL did", async () => {
    const letterText = readFileSync(join(FIXTURE, 'letter.json'), 'utf8');
    const verified = await identity.verifyIntroLetter(letterText, {
      publicKey: person.id.certificate.publicKey,
      time: AT,
    });
    expect(verified.signerName).toBe(expected.service.signer);
    // Install it into a copy that has not had it yet.
    const files = readTree(PERSON);
    for (const p of Object.keys(files))
      if (p.startsWith('id/') || p === 'known_servers/notes.yaml') delete files[p];
    const store = identity.createMemoryStore({ files });
    const r = await identity.addIntro(await identity.loadIdentity(store), letterText, { now: AT });
    expect(r.written).toEqual([expected.introduction.idFile, 'known_servers/notes.yaml']);
    const ours = new TextDecoder().decode((await store.read(expected.introduction.idFile))!);
    const theirs = readFileSync(join(PERSON, expected.introduction.idFile), 'utf8');
    expect(pemCerts(ours)[0]).toBe(pemCerts(theirs)[0]);
    const yamlOurs = new TextDecoder().decode((await store.read('known_servers/notes.yaml'))!);
    const yamlTheirs = readFileSync(join(PERSON, 'known_servers', 'notes.yaml'), 'utf8');
    expect(parseYaml(yamlOurs)).toEqual(parseYaml(yamlTheirs));
    // A letter for someone else's key is refused.
    const e = await identity.addIntro(service, letterText, { now: AT }).catch((x: unknown) => x);
    expect((e as core.CertifiedError).code).toBe('ERR_INTRO_KEY_MISMATCH');
  });

  it('validates ORNL-made chains end to end', async () => {
    const notes = person.services.find((s) => s.alias === 'notes')!;
    // The introduced client: id/<service>.crt, judged by the service's known_clients.
    const creds = identity.clientCredentials(person, notes);
    expect(creds.via).toMatch(/^id\//);
    const clients = core.createPathValidator({ anchors: identity.clientAnchors(service) });
    const asClient = (c: identity.Credentials) =>
      clients.validate({
        peer: c.certificates[0]!,
        chain: c.certificates.slice(1),
        purpose: 'clientAuth',
        time: AT,
      });
    expect((await asClient(creds)).ok).toBe(true);
    // The directly trusted client (known_clients/ada.crt): the person's own chain.
    expect((await asClient(identity.clientCredentials(person))).ok).toBe(true);
    // The server, judged by the person's pinned cert for the URL's host.
    const server = identity.serverCredentials(service);
    const servers = core.createPathValidator({ anchors: identity.serverAnchors(person, notes) });
    const r = await servers.validate({
      peer: server.certificates[0]!,
      chain: server.certificates.slice(1),
      purpose: 'serverAuth',
      peerName: new URL(notes.url).hostname,
      time: AT,
    });
    expect(r.ok).toBe(true);
  });
});

describe('what we write, in ORNL form', () => {
  it("prints get-ident and get-signer exactly as ORNL's commands do", () => {
    expect(identity.getIdent(person)).toBe(expected.person.getIdent);
    expect(identity.getIdent(service)).toBe(expected.service.getIdent);
    expect(identity.getSigner(person)).toEqual(JSON.parse(expected.person.getSigner));
    expect(Object.keys(identity.getSigner(service))).toEqual(['ca_cert']);
    expect(identity.getSigner(service).ca_cert).toMatch(ornlBase64);
  });

  it("writes introduction letters with ORNL's field names and alphabet", async () => {
    const letter = await identity.introduce(service, identity.getIdent(person), {
      now: AT,
      services: { notes: 'https://127.0.0.1:8443' },
    });
    expect(Object.keys(letter)).toEqual(['signed_cert', 'ca_cert', 'services']);
    for (const v of [letter.signed_cert, letter.ca_cert]) {
      expect(v).toMatch(ornlBase64);
      expect(v.length % 4).toBe(0);
    }
    expect(letter.ca_cert).toBe(JSON.parse(expected.service.getSigner).ca_cert);
    // ORNL's own letter has the same shape.
    const theirs = JSON.parse(readFileSync(join(FIXTURE, 'letter.json'), 'utf8')) as object;
    expect(Object.keys(theirs)).toEqual(Object.keys(letter));
  });

  it("writes service files with ORNL's keys, read back the same as ORNL's own", () => {
    const text = readFileSync(join(PERSON, 'known_servers', 'notes.example.org.yaml'), 'utf8');
    const theirs = identity.parseService('x', 'x.yaml', text);
    const ours = identity.serviceYaml(theirs);
    const doc = parseDocument(ours, { strict: true, uniqueKeys: true });
    expect(doc.errors).toEqual([]);
    expect(doc.warnings).toEqual([]);
    expect(Object.keys(doc.toJS() as object)).toEqual(['auths', 'cert', 'url']);
    expect(doc.toJS()).toEqual(parseYaml(text));
    // Unfolded, and otherwise line for line what PyYAML wrote.
    expect(ours).toBe(text.replace('OU=Notes\n  Service', 'OU=Notes Service'));
  });
});

describe.skipIf(!hasCryptography)('what we write, read by ORNL (python)', () => {
  let dir: string;
  let ours: identity.Identity;
  let letterFile: string;

  beforeAll(async () => {
    // Our identity, introduced by ORNL's service, with a service and a client of its own.
    dir = fresh('ours');
    const store = createFileStore(dir);
    await identity.initIdentity(store, {
      subject: core.personName({ commonName: 'Grace Hopper', country: 'US' }),
      altNames: [core.emailAddress('grace@example.org'), core.dnsName('grace.example')],
      keyType: 'secp256r1',
      now: AT,
    });
    ours = await identity.loadIdentity(store);
    const ornlService = await identity.loadIdentity(createFileStore(copyOnDisk(SERVICE)));
    const letter = await identity.introduce(ornlService, identity.getIdent(ours), {
      now: AT,
      services: { notes: 'https://127.0.0.1:8443' },
    });
    letterFile = join(tmp, 'our-letter.json');
    writeFileSync(letterFile, JSON.stringify(letter, null, 2));
    await identity.addIntro(ours, letter, { now: AT });
    await identity.addService(ours, 'partner', identity.getSigner(person).ca_cert, {
      url: 'https://partner.example:9443/api',
      auths: ['O=Partner Org,C=US'],
    });
    await identity.addClient(ours, 'ada', readFileSync(join(PERSON, 'CA.crt')));
    ours = await identity.loadIdentity(store);
  });

  it('writes key files 0600 as ORNL requires', () => {
    for (const key of ['CA.key', 'id.key'])
      expect(statSync(join(dir, key)).mode & 0o777).toBe(0o600);
  });

  it('makes a directory ORNL loads: keys, certificates, names, self.crt, TLS contexts', () => {
    const r = ornl<{
      ca: string;
      id: string;
      idIsCa: boolean;
      selfMatches: boolean;
      ids: string[];
      services: Record<string, { url: string; auths: string[]; chain: string | null }> | null;
    }>('dir', dir);
    expect(r.id).toBe(core.ornlName(ours.id.certificate.subject));
    expect(r.ca).toBe(core.ornlName(ours.signer!.certificate.subject));
    expect(r.ca).toBe(`P=Signing Certificate,${r.id}`);
    expect(r.idIsCa).toBe(false);
    expect(r.selfMatches).toBe(true);
    expect(r.ids).toEqual([expected.service.signer]);
    if (!hasPyYaml) return;
    expect(r.services).toEqual({
      notes: expect.objectContaining({
        url: 'https://127.0.0.1:8443',
        auths: [expected.service.signer],
        chain: `id/${expected.service.signer}.crt`,
      }),
      partner: expect.objectContaining({
        url: 'https://partner.example:9443/api',
        auths: ['O=Partner Org,C=US', expected.person.signer],
        chain: null,
      }),
    });
  });

  it("writes letters ORNL's add-intro installs under the same signer name", () => {
    const r = ornl<{ keys: string[]; signer: string; subject: string }>('letter', letterFile);
    expect(r.keys).toEqual(['signed_cert', 'ca_cert', 'services']);
    expect(r.signer).toBe(expected.service.signer);
    expect(r.subject).toBe(core.ornlName(ours.id.certificate.subject));
  });

  it("prints get-ident that ORNL's introduce reads, get-signer that its add-service reads", () => {
    const ident = join(tmp, 'ident.b64');
    writeFileSync(ident, `${identity.getIdent(ours)}\n`);
    expect(ornl('ident', ident)).toEqual({
      subject: core.ornlName(ours.id.certificate.subject),
      isCa: false,
    });
    const signer = join(tmp, 'signer.json');
    writeFileSync(signer, `${JSON.stringify(identity.getSigner(ours))}\n`);
    expect(ornl('signer', signer)).toEqual({
      subject: core.ornlName(ours.signer!.certificate.subject),
    });
  });

  it.skipIf(!hasPyYaml)('writes YAML PyYAML reads back unchanged, whatever the names', () => {
    const names = [
      expected.service.signer,
      'yes',
      'on',
      'No',
      '1:20',
      '1_000',
      '2001-01-01',
      '0x1F',
      '~',
      'null',
      '=',
      '<<',
      '#x',
      'CN=a: b',
      '- x',
      "CN=it's",
      'CN=a"b',
      '  lead',
      'trail ',
      'CN=é,O=日本',
      'CN=😀',
      'a\nb',
      'CN=a\tb',
      'CN=a\rb',
      'CN=a\u0001b',
      'CN=a\u007fb',
      'CN=a\u0085b',
      'CN=a\u00a0b',
      'CN=a\u2028b',
      '\ufeffCN=x',
      '',
    ];
    const file = join(tmp, 'tricky.yaml');
    const url = 'https://notes.example:8443/v1';
    const text = identity.serviceYaml({ url, cert: service.signer!.certificate, auths: names });
    writeFileSync(file, text);
    const r = ornl<{ url: string; cert: string; auths: string[] }>('yaml', file);
    expect(r.auths).toEqual(names);
    expect(r.url).toBe(url);
    expect(r.cert).toBe(identity.getSigner(service).ca_cert);
    const doc = parseDocument(text, { strict: true, uniqueKeys: true });
    expect(doc.errors).toEqual([]);
    expect(identity.parseService('t', 't.yaml', text).auths).toEqual(names);
  });
});

// --- over real TLS: ORNL's ssl contexts (Python's ssl, OpenSSL) against our server and client ---

describe("ORNL's TLS contexts and ours, over real TLS on 127.0.0.1", () => {
  // Service files need PyYAML on the Python side; under CI=true a missing one already failed above.
  const skip = !hasPyYaml;
  const dirs = { svc: '', ada: '', stranger: '', mallory: '' };
  const subjects = { svc: 'O=Notes API', ada: 'CN=Ada Lovelace', stranger: 'CN=Eve Stranger' };
  const ids = {} as Record<keyof typeof dirs, identity.Identity>;
  const certPem = (c: core.Certificate) => core.encodePem('CERTIFICATE', c.der);
  let ours: CertifiedServer | undefined;
  let theirs: ChildProcess | undefined;
  let theirPort = 0;
  const refusals: Extract<ConnectionEvent, { type: 'refused' }>[] = [];

  beforeAll(async () => {
    if (skip) return;
    const make = async (k: keyof typeof dirs, subject: core.Name, altNames: core.GeneralName[]) => {
      dirs[k] = fresh(`tls-${k}`);
      ids[k] = await identity.initIdentity(createFileStore(dirs[k]), { subject, altNames });
    };
    await make('svc', core.organizationName({ organization: 'Notes API' }), [
      core.ipAddress('127.0.0.1'),
      core.dnsName('localhost'),
    ]);
    await make('ada', core.personName({ commonName: 'Ada Lovelace' }), [
      core.emailAddress('ada@example.org'),
    ]);
    await make('stranger', core.personName({ commonName: 'Eve Stranger' }), [
      core.emailAddress('eve@example.org'),
    ]);
    await make('mallory', core.personName({ commonName: 'Mallory' }), [
      core.emailAddress('mallory@example.org'),
    ]);
    await identity.addClient(ids.svc, 'ada', certPem(ids.ada.signer!.certificate), { ca: true });
    ours = await serve(
      (_req: Request, env: ServeEnv) => Response.json({ hello: env.peer?.peer.commonName ?? null }),
      {
        configDir: dirs.svc,
        url: 'https://127.0.0.1:0',
        reloadIntervalMs: 0,
        onConnection: (e: ConnectionEvent) => {
          if (e.type === 'refused') refusals.push(e);
        },
      },
    );
    theirs = spawn('python3', [join(FIXTURE, 'ornl_read.py'), 'serve', dirs.svc], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    theirPort = await new Promise<number>((resolve, reject) => {
      let out = '';
      theirs!.stdout!.on('data', (d: Buffer) => {
        out += String(d);
        const line = out.split('\n')[0]!;
        if (out.includes('\n')) resolve((JSON.parse(line) as { port: number }).port);
      });
      theirs!.once('exit', (code) => reject(new Error(`ornl_read.py serve exited ${code}`)));
    });
  }, 60_000);

  afterAll(async () => {
    theirs?.kill('SIGKILL');
    await ours?.close();
  });

  /** `who` introduced by `by` (the how-to's Method 2): id/<by's signer>.crt and known_servers/notes.yaml. */
  async function introduced(who: keyof typeof dirs, by: keyof typeof dirs): Promise<void> {
    const letter = await identity.introduce(ids[by], identity.getIdent(ids[who]), {
      services: { notes: ours!.url },
    });
    const loaded = await identity.loadIdentity(createFileStore(dirs[who]));
    await identity.addIntro(loaded, JSON.stringify(letter), { overwrite: true });
  }

  it.skipIf(skip)(
    "ORNL's client context, Ada introduced by the service (Method 2), gets 200 from our server",
    async () => {
      await introduced('ada', 'svc');
      const r = await ornlCall(dirs.ada, 'notes', '/');
      expect(r, JSON.stringify(r)).toMatchObject({ status: 200, server: subjects.svc });
      expect(JSON.parse(r.body!)).toEqual({ hello: 'Ada Lovelace' });
    },
  );

  it.skipIf(skip)(
    "ORNL's client context, a stranger introduced by someone the service does not trust, is refused",
    async () => {
      await introduced('stranger', 'mallory');
      // It trusts the service's signer for the server, and presents Mallory's certificate.
      await identity.addService(ids.stranger, 'notes', certPem(ids.svc.signer!.certificate), {
        url: ours!.url,
        auths: [core.ornlName(ids.mallory.signer!.certificate.subject)],
        overwrite: true,
      });
      const r = await ornlCall(dirs.stranger, 'notes', '/');
      expect(r.status, JSON.stringify(r)).toBeUndefined();
      expect(r.error).toMatch(/\S/);
      const refusal = refusals.find((e) => e.subject === subjects.stranger);
      expect(refusal, JSON.stringify(refusals)).toMatchObject({ code: 'ERR_CHAIN_NO_PATH' });
    },
  );

  it.skipIf(skip)(
    "our session reaches ORNL's server context as Ada; a stranger's is refused",
    async () => {
      const url = `https://127.0.0.1:${theirPort}`;
      for (const who of ['ada', 'stranger'] as const)
        await identity.addService(ids[who], 'py', certPem(ids.svc.signer!.certificate), { url });
      await using ada = await createSession({ configDir: dirs.ada });
      const res = await ada.fetch('https://py/');
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ client: subjects.ada });
      await using stranger = await createSession({ configDir: dirs.stranger });
      const refused = await stranger.fetch('https://py/').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(refused).toBeInstanceOf(core.CertifiedError);
      expect((refused as core.CertifiedError).code, String(refused)).toBe('ERR_NET_TLS');
      expect(String(refused)).toMatch(/the server refused our certificate/);
    },
  );

  it.skipIf(skip)(
    "our session refuses ORNL's server when the service file names another signer",
    async () => {
      const url = `https://127.0.0.1:${theirPort}`;
      // Ada's file for "wrong" pins the stranger's signer: the server's chain must not validate.
      await identity.addService(ids.ada, 'wrong', certPem(ids.stranger.signer!.certificate), {
        url,
      });
      await using ada = await createSession({ configDir: dirs.ada });
      const refused = await ada.fetch('https://wrong/').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((refused as core.CertifiedError | undefined)?.code, String(refused)).toBe(
        'ERR_CHAIN_NO_PATH',
      );
    },
  );
});

/** ornl_read.py call: ORNL's client context for `service`, one HTTPS GET (async: our server is in this process). */
async function ornlCall(
  dir: string,
  service: string,
  path: string,
): Promise<{ status?: number; body?: string; server?: string; error?: string }> {
  const { stdout } = await execFileAsync(
    'python3',
    [join(FIXTURE, 'ornl_read.py'), 'call', dir, service, path],
    { encoding: 'utf8', timeout: 20_000 },
  );
  return JSON.parse(stdout) as { status?: number; body?: string; server?: string; error?: string };
}
