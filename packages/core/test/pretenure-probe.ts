/**
 * Child process for keep.test.ts (run with --allow-natives-syntax and a small young generation):
 * prints, as JSON, which objects of a new peer's validation V8 allocated in the old generation after
 * a validator's cache filled with `FILL` new peers. Mode `control` instead keeps `FILL` parsed
 * certificates itself and reports on the certificates parsed afterwards: it shows these conditions do
 * make V8 pretenure the allocation sites of objects that were kept.
 */
import { createPathValidator, decodeCertificate } from '../src/index.js';
import { factsOf } from '../src/chain/facts.js';
import { issueLeaves } from './leaves.js';

const mode = process.argv[2];
const FILL = 800;
const { anchor, intermediate, leaves } = await issueLeaves(FILL + 400);
const inOld = new Function('o', 'return !%InYoungGeneration(o)') as (o: unknown) => boolean;

/** Paths of the objects reachable from `root` (not through `skip`) that are in the old generation. */
function oldObjects(root: object, name: string, skip: Set<unknown>): string[] {
  const found: string[] = [];
  const seen = new Set<unknown>();
  const walk = (o: unknown, path: string): void => {
    if (typeof o !== 'object' || o === null || seen.has(o) || skip.has(o)) return;
    seen.add(o);
    if (inOld(o)) found.push(path);
    if (ArrayBuffer.isView(o)) return;
    for (const [k, v] of Object.entries(o)) walk(v, `${path}.${k}`);
  };
  walk(root, name);
  return found;
}

let old: string[];
if (mode === 'control') {
  // Twice the validator's fill (each leaf parsed twice): when V8 decides varies from run to run.
  const kept = [];
  for (let i = 0; i < 2 * FILL; i++) kept.push(decodeCertificate(leaves[i % FILL]!.slice()));
  old = [];
  for (let i = FILL; i < leaves.length; i++)
    old.push(...oldObjects(decodeCertificate(leaves[i]!.slice()), `certificate ${i}`, new Set()));
  if (kept.length !== 2 * FILL) throw new Error('unreachable');
} else {
  // Room for FILL certificates: the first FILL peers are kept, those after are not (new peers
  // once the cache is full), and the last one is the peer looked at.
  const validator = createPathValidator({ anchors: [anchor], cacheSize: FILL / 2 });
  const input = (peer: Uint8Array) => ({
    peer: peer.slice(),
    chain: [intermediate.slice()],
    purpose: 'clientAuth' as const,
  });
  for (const leaf of leaves.slice(0, -1)) {
    const r = await validator.validate(input(leaf));
    if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
  }
  const r = await validator.validate(input(leaves.at(-1)!));
  if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
  // The anchor and intermediate are old by now, as they should be: only the peer's objects count.
  const [, issuer, root] = r.path;
  const skip = new Set<unknown>([issuer, root, issuer!.publicKey, root!.publicKey]);
  old = [
    ...oldObjects(r, 'result', skip),
    ...oldObjects(factsOf(r.peer.certificate), 'facts', skip),
  ];
}
console.log(JSON.stringify(old));
