/**
 * @module @certified/node — certified on the Node APIs that Node, Deno and Bun share: identity
 * directories on disk, and an mTLS server and client whose trust decisions are made by our validator.
 */
