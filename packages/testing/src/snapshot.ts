/**
 * @module @certified/testing/snapshot — a directory tree as data, for tests that must prove a failed
 * operation changed nothing (all-or-nothing commits, refused CLI commands).
 */
import * as nodeFs from 'node:fs/promises';
import path from 'node:path';

/**
 * Every path under `dir` (`.` for `dir` itself) with its kind, permission bits and, for files, the
 * content as hex — two snapshots are equal exactly when the trees are byte- and mode-identical.
 */
export async function snapshotDir(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string): Promise<void> => {
    const p = rel === '.' ? dir : path.join(dir, rel);
    let st;
    try {
      st = await nodeFs.lstat(p);
    } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') return;
      throw e;
    }
    const mode = (st.mode & 0o777).toString(8).padStart(3, '0');
    if (st.isDirectory()) {
      out[rel] = `dir ${mode}`;
      for (const name of (await nodeFs.readdir(p)).sort())
        await walk(rel === '.' ? name : `${rel}/${name}`);
    } else if (st.isSymbolicLink()) {
      out[rel] = `link -> ${await nodeFs.readlink(p)}`;
    } else {
      out[rel] = `file ${mode} ${Buffer.from(await nodeFs.readFile(p)).toString('hex')}`;
    }
  };
  await walk('.');
  return out;
}
