import { isSha256Digest } from './digest.ts';

/** An image, by repository (`host/repo`, no tag) and manifest digest `sha256:<hex>`. */
export interface ImageRef {
  repository: string;
  digest: string;
}

/** A parsed image reference `host[:port]/repo[:tag][@sha256:…]`. */
export interface ImageReference {
  /** registry host[:port] */
  registry: string;
  /** repository path inside the registry, e.g. `tenant-a/app` */
  repository: string;
  tag?: string;
  digest?: string;
}

/**
 * Parses a fully qualified reference. The first path component must be a registry (it contains a
 * `.` or `:` or is `localhost`): Docker Hub short names are not expanded, because the observer only
 * writes where a run's results say, and those always name their registry.
 */
export function parseImageReference(ref: string): ImageReference {
  let rest = ref.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isSha256Digest(digest))
      throw new TypeError(`image reference ${ref}: digest must be sha256:<64 hex>`);
  }
  const slash = rest.indexOf('/');
  if (slash <= 0) throw new TypeError(`image reference ${ref}: no registry host`);
  const registry = rest.slice(0, slash);
  if (!/[.:]/.test(registry) && registry !== 'localhost') {
    throw new TypeError(`image reference ${ref}: first component "${registry}" is not a registry host`);
  }
  let repository = rest.slice(slash + 1);
  let tag: string | undefined;
  const colon = repository.lastIndexOf(':');
  if (colon >= 0) {
    tag = repository.slice(colon + 1);
    repository = repository.slice(0, colon);
  }
  if (
    !/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(repository)
  ) {
    throw new TypeError(`image reference ${ref}: invalid repository "${repository}"`);
  }
  if (tag !== undefined && !/^[\w][\w.-]{0,127}$/.test(tag))
    throw new TypeError(`image reference ${ref}: invalid tag`);
  return {
    registry,
    repository,
    ...(tag === undefined ? {} : { tag }),
    ...(digest === undefined ? {} : { digest }),
  };
}

/** Splits `host/repo` (as in ImageRef.repository) into registry and repository path. */
export function splitRepository(hostAndRepo: string): { registry: string; repository: string } {
  const { registry, repository, tag, digest } = parseImageReference(hostAndRepo);
  if (tag !== undefined || digest !== undefined)
    throw new TypeError(`${hostAndRepo}: expected a repository without tag or digest`);
  return { registry, repository };
}
