/**
 * The CA's files on Node: `initCa` makes a directory the server loads as written, never replaces a
 * file, and keeps the key and secret 0600; the embedded store is one process at a time.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCsr, dnsName, encodePem, generateKeyPair, personName } from '@certified/core';
import { rejected } from '@certified/testing';
import { initCa, loadCaFile, lockDirectory, openConfiguredStore } from './index.js';

const tmp = () => mkdtemp(join(tmpdir(), 'certified-ca-node-'));

// PGlite takes seconds to start on a busy 2-core machine.
const SLOW = { timeout: 60_000 };

describe('initCa', () => {
  it(
    'writes a CA whose config loads and whose example RA issues for its domains only',
    SLOW,
    async () => {
      const dir = await tmp();
      const r = await initCa({ dir, organization: 'Example', domains: ['.example.test'] });
      expect((await stat(r.key)).mode & 0o777).toBe(0o600);
      expect((await stat(r.secretFile)).mode & 0o777).toBe(0o600);
      const secret = (await readFile(r.secretFile, 'utf8')).trim();
      expect(await readFile(r.config, 'utf8')).not.toContain(secret);
      const { ca } = await loadCaFile(r.config);
      try {
        const keyPair = await generateKeyPair({ algorithm: 'P-256' });
        const ask = async (cn: string) =>
          ca.issue({
            ra: 'default',
            endpoint: 'certificates',
            credentials: { user: 'admin', secret },
            source: '127.0.0.1',
            csr: encodePem(
              'CERTIFICATE REQUEST',
              (await createCsr({ subject: personName({ commonName: cn }), keyPair })).der,
            ),
          });
        const issued = await ask('web.example.test');
        expect(issued.certificate.subjectAltNames).toEqual([dnsName('web.example.test')]);
        const refused = await rejected(ask('web.example.org'));
        expect(refused).toMatchObject({
          code: 'ERR_CA_VALIDATION_FAILED',
          validator: 'common_name',
        });
      } finally {
        await ca.store.close();
      }
    },
  );

  it('replaces nothing: a second init in the same directory fails and leaves the first intact', async () => {
    const dir = await tmp();
    const first = await initCa({ dir, organization: 'Example', domains: ['.example.test'] });
    const before = await readFile(first.config, 'utf8');
    const e = await rejected(initCa({ dir, organization: 'Other', domains: ['.other.test'] }));
    expect((e as NodeJS.ErrnoException).code).toBe('EEXIST');
    expect(await readFile(first.config, 'utf8')).toBe(before);
  });

  const procfs = process.platform === 'linux' && existsSync('/proc/self');

  it.skipIf(!procfs)(
    "why initCa makes its own directories: Node's recursive mkdir never settles under /proc",
    () => {
      // In a child, since the walk spins a thread-pool thread forever; killed after 3 s.
      const r = spawnSync(
        process.execPath,
        [
          '-e',
          "require('fs').promises.mkdir('/proc/certified-test/ca', { recursive: true })" +
            ".then(() => console.log('settled'), (e) => console.log('settled', e.code))",
        ],
        { timeout: 3_000, encoding: 'utf8' },
      );
      expect(r.stdout).not.toContain('settled');
      expect(r.signal).toBe('SIGTERM');
    },
  );

  it.skipIf(!procfs)('fails at once, writing nothing, where no directory can be made', async () => {
    const started = Date.now();
    const e = await rejected(
      initCa({ dir: '/proc/certified-test/ca', organization: 'Example', domains: ['.x.test'] }),
    );
    expect((e as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('fails under a dangling symlink, and removes the directories it made', async () => {
    const dir = await tmp();
    await symlink(join(dir, 'nowhere'), join(dir, 'dangling'));
    const e = await rejected(
      initCa({ dir: join(dir, 'dangling', 'ca'), organization: 'Example', domains: ['.x.test'] }),
    );
    expect((e as NodeJS.ErrnoException).code).toBe('ENOENT');
    // A config it cannot write (a user name YAML cannot hold) fails after the directories were
    // made: they are removed again.
    const f = await rejected(
      initCa({
        dir: join(dir, 'new', 'deeper'),
        organization: 'X',
        domains: ['.x.test'],
        user: 'a: [',
      }),
    );
    expect(f).toBeDefined();
    expect(readdirSync(dir)).toEqual(['dangling']);
  });
});

describe('the embedded store lock', () => {
  it('refuses a second opener while the first holds it, and frees it on close', SLOW, async () => {
    const dir = await tmp();
    const store = { backend: 'pglite' as const, path: 'data', no_store: false, retention_hours: 1 };
    const first = await openConfiguredStore(store, dir);
    const e = await rejected(openConfiguredStore(store, dir));
    expect(e).toMatchObject({ code: 'ERR_CA_STORE_BUSY', status: 503 });
    expect((e as Error).message).toContain(String(process.pid));
    await first.close();
    const again = await openConfiguredStore(store, dir);
    await again.close();
  });

  it(
    'a data directory PGlite cannot use is ERR_CA_STORE_FAILED, and the lock is released',
    SLOW,
    async () => {
      const dir = await tmp();
      await writeFile(join(dir, 'data'), 'a file, not a directory');
      const store = {
        backend: 'pglite' as const,
        path: 'data',
        no_store: false,
        retention_hours: 1,
      };
      expect(await rejected(openConfiguredStore(store, dir))).toMatchObject({
        code: 'ERR_CA_STORE_FAILED',
      });
      await lockDirectory(join(dir, 'data')).then((l) => l.release());
    },
  );

  it('a store path where no lock file can be made is ERR_CA_STORE_FAILED, not an internal error', async () => {
    const dir = await tmp();
    await symlink(join(dir, 'nowhere'), join(dir, 'dangling'));
    expect(await rejected(lockDirectory(join(dir, 'dangling', 'data')))).toMatchObject({
      code: 'ERR_CA_STORE_FAILED',
      message: expect.stringContaining('data.lock cannot be created'),
    });
  });

  it('takes over a lock whose process is gone', async () => {
    const dir = await tmp();
    const gone = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => gone.on('exit', r));
    await writeFile(join(dir, 'data.lock'), `${gone.pid}\nsomething that crashed\n`);
    const lock = await lockDirectory(join(dir, 'data'));
    expect(await readFile(lock.path, 'utf8')).toContain(String(process.pid));
    await lock.release();
  });
});

describe('loadCaFile on files that are not small regular files', () => {
  it('refuses a device, a pipe or a huge file at once instead of reading it', async () => {
    // /dev/zero was read until memory ran out; opening a FIFO blocked for ever.
    const zero = await rejected(loadCaFile('/dev/zero'));
    expect(zero).toMatchObject({ code: 'ERR_CA_CONFIG_INVALID' });
    expect(zero.message).toMatch(/Cannot read the config \/dev\/zero: it is not a regular file/);
    const dir = await tmp();
    const r = await initCa({ dir, organization: 'Example', domains: ['.example.test'] });
    const fifo = join(dir, 'fifo.yaml');
    spawnSync('mkfifo', [fifo]);
    expect(await rejected(loadCaFile(fifo))).toMatchObject({ code: 'ERR_CA_CONFIG_INVALID' });
    // The certificate the config names, replaced by a link to /dev/zero.
    await rm(r.cert);
    await symlink('/dev/zero', r.cert);
    const cert = await rejected(loadCaFile(r.config));
    expect(cert).toMatchObject({ code: 'ERR_CA_CONFIG_INVALID' });
    expect(cert.message).toMatch(/cannot read .*ca\.crt: it is not a regular file/);
    await rm(r.cert);
    await writeFile(r.cert, '');
    await truncate(r.cert, 16 * 1024 * 1024 + 1);
    expect((await rejected(loadCaFile(r.config))).message).toMatch(/it is 16777217 bytes/);
  });
});
