/**
 * @module @certified/core/inspect — human-readable views of certificates and CSRs (what `certified
 * inspect` and `openssl x509 -text` print). A subpath of its own: it loads PKI.js to name every
 * extension, which nothing else in core needs.
 */
export { formatCertificateText, inspectCertificate, inspectCsr } from './x509/inspect.js';
export type { CertificateView, CsrView, ExtensionView, PublicKeyView } from './x509/inspect.js';
