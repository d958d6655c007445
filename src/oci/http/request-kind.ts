/**
 * The kind of an OCI distribution request, from its path, for counting requests by what they do
 * (registry_requests_total's `kind`): `manifest`, `blob`, `upload` (blob uploads), `tags`,
 * `referrers`, and `token` for anything outside `/v2/` (a token realm). A handful of values, so a
 * tenant's repository or tag names never become label values.
 */
export type RegistryRequestKind = 'manifest' | 'blob' | 'upload' | 'tags' | 'referrers' | 'token' | 'other';

export function registryRequestKind(pathname: string): RegistryRequestKind {
  if (!pathname.startsWith('/v2/')) return 'token';
  if (pathname.includes('/blobs/uploads/')) return 'upload';
  if (pathname.includes('/manifests/')) return 'manifest';
  if (pathname.includes('/blobs/')) return 'blob';
  if (pathname.endsWith('/tags/list')) return 'tags';
  if (pathname.includes('/referrers/')) return 'referrers';
  return 'other';
}
