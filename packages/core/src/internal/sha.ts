/**
 * @module internal/sha — synchronous SHA-1/SHA-256 for identifiers and fingerprints.
 * WebCrypto's digest is async and costs ~25 µs per call in Node, more than hashing a key or a
 * certificate in JS; @noble/hashes is audited, pure and runtime-neutral.
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { sha1 as nobleSha1 } from '@noble/hashes/legacy.js';

export const sha256 = (b: Uint8Array): Uint8Array => nobleSha256(b);
export const sha1 = (b: Uint8Array): Uint8Array => nobleSha1(b);
