/**
 * @module public-suffix — the Public Suffix List (ICANN and private sections, from `tldts`) as the
 * predicate path validation takes (`PathValidatorOptions.publicSuffix`). A subpath of its own: the
 * list is ~130 KB, and a validator that does not ask for it does not load it.
 */
import { parse } from 'tldts';

/**
 * Whether `name` is itself a listed public suffix: `co.uk` and `github.io` are; `example.co.uk`,
 * `localhost` and `internal` are not (a name under no listed rule is not a public suffix here, so
 * wildcards under private top-level names keep working).
 *
 * @example
 * import { createPathValidator } from '@certified/core/chain';
 * import { isPublicSuffix } from '@certified/core/public-suffix';
 * const validator = createPathValidator({ anchors, profile: 'webpki', publicSuffix: isPublicSuffix });
 */
export function isPublicSuffix(name: string): boolean {
  if (typeof name !== 'string' || name === '') return false;
  const host = name.endsWith('.') ? name.slice(0, -1) : name;
  const r = parse(host, {
    allowPrivateDomains: true,
    extractHostname: false,
    validateHostname: false,
  });
  return (r.isIcann === true || r.isPrivate === true) && r.publicSuffix === host.toLowerCase();
}
