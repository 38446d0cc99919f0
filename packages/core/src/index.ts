/**
 * @module @certified/core — X.509 keys, names, certificates and CSRs on pure WebCrypto.
 * Runs unchanged on Node, Deno, Bun, browsers and edge workers.
 */
export * from './errors.js';
export { describeValue, VALIDATED_PATH } from './peer.js';
export { certifiedPeer } from './caller.js';
export type {
  CertifiedAltNames,
  CertifiedAnchor,
  CertifiedPeer,
  CertifiedPeerOptions,
} from './caller.js';
export {
  decodePem,
  decodePemBundle,
  encodePem,
  fromBase64Der,
  readDerInput,
  toBase64Der,
  toOrnlBase64Der,
  MAX_TEXT_LENGTH,
} from './encoding/pem.js';
export type { InputEncoding, PemBlock } from './encoding/pem.js';
export { MAX_DER_BYTES } from './internal/der.js';
export { EKU } from './internal/oids.js';
export {
  exportPrivateKey,
  exportPublicKey,
  generateKeyPair,
  importPrivateKey,
  readPrivateKeyDer,
  importPublicKey,
  signingKeyAlgorithmOf,
  subtleOf,
} from './keys/keys.js';
export type {
  CryptoOptions,
  GenerateKeyPairOptions,
  ImportPrivateKeyOptions,
  KeyFormat,
} from './keys/keys.js';
export { parsePublicKeyInfo } from './keys/public-key-info.js';
export type {
  PublicKeyAlgorithm,
  PublicKeyInfo,
  SigningKeyAlgorithm,
} from './keys/public-key-info.js';
export {
  commonNameOf,
  formatName,
  nameEquals,
  nameKey,
  organizationName,
  parseName,
  personName,
  signingName,
  SIGNING_PSEUDONYM,
} from './x509/name.js';
export type {
  AttributeTypeAndValue,
  Name,
  OrganizationNameOptions,
  PersonNameOptions,
  RelativeDistinguishedName,
} from './x509/name.js';
export {
  bytesToIp,
  dnsName,
  emailAddress,
  formatGeneralName,
  ipAddress,
  ipToBytes,
  parseAltName,
  uriName,
} from './x509/general-name.js';
export type { GeneralName } from './x509/general-name.js';
export { KEY_USAGES } from './x509/extensions.js';
export type {
  AuthorityKeyIdentifier,
  BasicConstraints,
  ExtendedKeyUsage,
  Extension,
  KeyUsage,
  NameConstraintsSpec,
} from './x509/extensions.js';
export {
  decodeCertificate,
  fingerprint,
  isCa,
  parseCertificate,
  parseCertificates,
} from './x509/certificate.js';
export type { Certificate } from './x509/certificate.js';
export type { AlgorithmIdentifier } from './x509/signature.js';
export {
  createSelfSignedCa,
  DEFAULT_CA_LIFETIME_SECONDS,
  DEFAULT_LEAF_LIFETIME_SECONDS,
  issueCaCertificate,
  issueEndEntityCertificate,
  spkiOf,
} from './x509/build-certificate.js';
export type {
  CreateSelfSignedCaOptions,
  IssueCaCertificateOptions,
  IssueEndEntityOptions,
  Issuer,
  PublicKeyInput,
  ValidityOptions,
} from './x509/build-certificate.js';
export { verifyCertificateSignature } from './x509/verify-certificate.js';
export { decodeCrl, parseCrl } from './x509/crl.js';
export type { CertificateRevocationList, RevokedCertificate } from './x509/crl.js';
export { createCsr, decodeCsr, issueCertificateFromCsr, parseCsr, verifyCsr } from './csr/csr.js';
export type {
  CertificationRequest,
  CreateCsrOptions,
  CsrAttribute,
  IssuanceProfile,
  IssueFromCsrOptions,
} from './csr/csr.js';
export * from './chain/index.js';
export { ornlName } from './x509/ornl-name.js';
export { equalBytes, fromHex, toHex } from './internal/bytes.js';
