/**
 * The one grammar every subject passes, whatever hint named it: an OCI reference in canonical form,
 * or an explicitly classified non-OCI URI. Nothing else reaches the subject policy, the existence
 * check or the signer (policy/subject-gate.ts).
 *
 * OCI references follow the distribution reference grammar
 * (https://github.com/distribution/reference/blob/main/reference.go), with go-containerregistry's
 * Docker Hub normalisation, because Chains names and pushes subjects with it:
 * - `domain/path[:tag][@digest]`; the first component is the registry only when it contains `.` or
 *   `:` or is `localhost`; otherwise the registry is Docker Hub (`index.docker.io`, which `docker.io`
 *   is rewritten to) and a one-component Docker Hub path gets `library/`;
 * - host: DNS labels (lower-cased) or `[IPv6]`, optional port 1-65535;
 * - path: components `[a-z0-9]+([._]|__|-+)[a-z0-9]+…` joined by single `/` — so no upper case, no
 *   `..`, `.`, empty or `//` segments, no whitespace, no userinfo (`@` before the host);
 * - a tag is checked and dropped (a subject is named by repository; its digest says which image);
 * - the whole name is at most 255 characters.
 * Digests: sha256 = 64 and sha512 = 128 lower-case hex for OCI; sha1/sha384 as well for URIs.
 */

/** Reason codes of a name or digest that is not a subject (also SkipCodes of artifacts/). */
export type SubjectRefCode =
  | 'image_ref_invalid'
  | 'uri_invalid'
  | 'digest_invalid'
  | 'digest_algorithm_unsupported';

export interface OciSubjectRef {
  kind: 'oci';
  /** `host[:port]`, lower case */
  registry: string;
  /** repository path inside the registry, e.g. `tenant-a/app` */
  path: string;
  /** `registry/path`: the subject name in the statement */
  repository: string;
  /** `<alg>:<hex>`, sha256 or sha512 */
  digest: string;
}

export interface UriSubjectRef {
  kind: 'uri';
  /** the URI's scheme (`pkg`, `https`, …), or '' for a bare name */
  scheme: string;
  uri: string;
  /** `<alg>:<hex>` */
  digest: string;
}

export type SubjectRef = OciSubjectRef | UriSubjectRef;

export type SubjectRefParse =
  | ({ ok: true } & SubjectRef)
  | { ok: false; code: SubjectRefCode; reason: string };

export const DOCKER_HUB = 'index.docker.io';
const HEX: Readonly<Record<string, number>> = { sha1: 40, sha256: 64, sha384: 96, sha512: 128 };
const OCI_ALGORITHMS = ['sha256', 'sha512'];
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_LABEL = /^(?:[a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
/** a URI scheme (RFC 3986 without `.`, so `quay.io:/x` is a broken registry name, not a scheme) */
const SCHEME = /^([a-z][a-z0-9+-]*):(?!\d+(?:\/|$))/;

/**
 * A subject as an image hint names it (IMAGE_URL, IMAGES, `*_IMAGE_URL`): always an OCI reference,
 * Docker Hub short names included. `ref` is `name[:tag]@digest` or, with `digest`, `name[:tag]`.
 */
export function parseImageSubject(ref: string, digest?: string): SubjectRefParse {
  let name = ref;
  let d = digest;
  if (d === undefined) {
    const parts = ref.split('@');
    if (parts.length !== 2) return bad('image_ref_invalid', 'image reference must contain exactly one "@"');
    [name, d] = parts as [string, string];
  }
  const checked = checkDigest(d, OCI_ALGORITHMS);
  if (!checked.ok) return checked;
  const oci = parseOciName(name);
  return oci.ok ? { ok: true, kind: 'oci', ...oci.value, digest: checked.digest } : oci;
}

/**
 * A subject as a statement or an artifact hint names it (ARTIFACT_URI, `*ARTIFACT_OUTPUTS`, a
 * statement built from any hint): a URI with a scheme (`pkg:`, `https:`) is a URI; a name whose
 * first component is a registry is an OCI reference (and must be a valid one); any other name
 * (`app.tar.gz`, `dist/app`) is a bare-name URI.
 */
export function parseSubject(name: string, digest: string): SubjectRefParse {
  const scheme = SCHEME.exec(name);
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  if (!scheme && (first.includes('.') || first.includes(':') || first === 'localhost'))
    return parseImageSubject(name, digest);
  const uri = checkUri(name);
  if (!uri.ok) return uri;
  const checked = checkDigest(digest, Object.keys(HEX));
  if (!checked.ok) return checked;
  return { ok: true, kind: 'uri', scheme: scheme?.[1] ?? '', uri: name, digest: checked.digest };
}

/** The digest of a statement subject as `<alg>:<hex>`, or undefined unless it has exactly one. */
export function digestOfSet(set: Readonly<Record<string, string>> | undefined): string | undefined {
  const entries = Object.entries(set ?? {});
  return entries.length === 1 ? `${entries[0]?.[0]}:${entries[0]?.[1]}` : undefined;
}

function parseOciName(raw: string): { ok: true; value: Omit<OciSubjectRef, 'kind' | 'digest'> } | Bad {
  if (raw.length === 0 || raw.length > 255 || /[^!-~]/.test(raw))
    return bad('image_ref_invalid', 'image name is empty, too long or contains whitespace');
  let name = raw;
  const colon = name.lastIndexOf(':');
  if (colon >= 0 && !name.slice(colon + 1).includes('/')) {
    if (!TAG.test(name.slice(colon + 1))) return bad('image_ref_invalid', 'image tag is not valid');
    name = name.slice(0, colon);
  }
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  const hasDomain = first.includes('.') || first.includes(':') || first === 'localhost';
  let registry = hasDomain ? checkDomain(first) : DOCKER_HUB;
  if (registry === undefined)
    return bad('image_ref_invalid', `registry "${clip(first)}" is not a valid host[:port]`);
  let path = hasDomain ? name.slice(slash + 1) : name;
  if (!path.split('/').every((c) => PATH_COMPONENT.test(c)))
    return bad(
      'image_ref_invalid',
      'repository path must be lower-case components [a-z0-9._-] joined by single "/"',
    );
  if (registry === 'docker.io') registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && !path.includes('/')) path = `library/${path}`;
  const repository = `${registry}/${path}`;
  if (repository.length > 255) return bad('image_ref_invalid', 'image name is over 255 characters');
  return { ok: true, value: { registry, path, repository } };
}

/** `host[:port]` lower-cased, or undefined when it is not one (userinfo, bad port, bad label). */
function checkDomain(domain: string): string | undefined {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::([0-9]{1,5}))?$/.exec(domain);
  if (!m) return undefined;
  const host = (m[1] as string).toLowerCase();
  if (m[2] !== undefined && (Number(m[2]) < 1 || Number(m[2]) > 65535 || m[2].startsWith('0')))
    return undefined;
  if (!host.startsWith('[') && !host.split('.').every((l) => DOMAIN_LABEL.test(l))) return undefined;
  return m[2] === undefined ? host : `${host}:${m[2]}`;
}

/** A URI subject: only printable ASCII (no whitespace, control characters or `\`), no `.`/`..`/empty path segments, at most 4 KiB. */
function checkUri(uri: string): { ok: true } | Bad {
  if (uri.length === 0 || uri.length > 4096 || /[^!-~]|\\/.test(uri))
    return bad('uri_invalid', 'subject URI is empty, too long or contains whitespace');
  const path = uri.replace(/[?#].*$/, '').replace(/^[a-z][a-z0-9+.-]*:\/\//, '');
  if (path.split('/').some((s) => s === '' || s === '.' || s === '..'))
    return bad('uri_invalid', 'subject URI has a ".", ".." or empty path segment');
  if (/%2[ef]/i.test(path)) return bad('uri_invalid', 'subject URI has an encoded "." or "/"');
  return { ok: true };
}

function checkDigest(value: string, algorithms: readonly string[]): { ok: true; digest: string } | Bad {
  const colon = value.indexOf(':');
  const alg = colon < 0 ? '' : value.slice(0, colon);
  const hex = value.slice(colon + 1);
  if (!algorithms.includes(alg))
    return bad(
      'digest_algorithm_unsupported',
      `digest algorithm "${clip(alg)}" is not one of ${algorithms.join(', ')}`,
    );
  if (hex.length !== HEX[alg] || !/^[a-f0-9]+$/.test(hex))
    return bad('digest_invalid', `${alg} digest must be ${HEX[alg]} lower-case hex characters`);
  return { ok: true, digest: `${alg}:${hex}` };
}

type Bad = { ok: false; code: SubjectRefCode; reason: string };

function bad(code: SubjectRefCode, reason: string): Bad {
  return { ok: false, code, reason };
}

function clip(s: string): string {
  return s.length <= 80 ? s : `${s.slice(0, 80)}…`;
}
