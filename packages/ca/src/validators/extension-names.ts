/**
 * @module validators/extension-names — the names Anchor's `extensions` validator accepts for the
 * extensions a request may carry (OpenSSL's long names), besides dotted OIDs.
 */
const NAMES: Readonly<Record<string, string>> = {
  '2.5.29.14': 'subjectKeyIdentifier',
  '2.5.29.15': 'keyUsage',
  '2.5.29.17': 'subjectAltName',
  '2.5.29.19': 'basicConstraints',
  '2.5.29.30': 'nameConstraints',
  '2.5.29.35': 'authorityKeyIdentifier',
  '2.5.29.37': 'extendedKeyUsage',
  '1.3.6.1.5.5.7.1.1': 'authorityInfoAccess',
  '1.3.6.1.5.5.7.1.24': 'tlsFeature',
};

/** The extension's name, or its dotted OID when it has none we know. */
export function extensionName(oid: string): string {
  return NAMES[oid] ?? oid;
}
