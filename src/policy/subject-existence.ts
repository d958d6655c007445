/**
 * Does an OCI subject exist? Before anything is signed, each OCI subject is HEADed by digest in
 * its own repository, as a manifest and, when there is none, as a blob (an artifact pushed as a
 * blob is a subject too), with the credentials credential-choice.ts allows for the run. The
 * request is built from the canonical reference (registry and path of model/subject-ref.ts), never
 * from the string a run wrote. Positive answers are cached per namespace (bounded, oldest dropped
 * first) for `ttlMs` (default 10 minutes), so a namespace never learns of an image through another
 * namespace's answer and an image deleted from its registry stops counting within the TTL.
 *
 * - 200 → `exists`;
 * - 404 (manifest and blob) → `not_found` (a definite answer: the subject is skipped);
 * - 401/403, or a token request refused → `unreadable` (skipped: with these credentials nobody
 *   could verify the claim);
 * - a timeout, a 5xx, 429 or a dropped connection is not an answer: the retryable ObserverError is
 *   thrown, the attempt fails and is retried with backoff, and no subject is ever dropped because
 *   its registry blinked.
 */
import { ObserverError, tenantMessage } from '../errors.ts';
import type { AttemptContext, OciSubjectRef } from '../model/index.ts';
import { describeRun, type RunRef } from '../tekton/index.ts';

/** An OCI subject: registry, path and `<alg>:<hex>` (the canonical form, model/subject-ref.ts). */
export type SubjectImage = Pick<OciSubjectRef, 'registry' | 'path' | 'repository' | 'digest'>;

type HeadStatus = 200 | 401 | 403 | 404;

/** What the check needs of a registry client (oci/RegistryClient has it). */
export interface ManifestHead {
  headManifest(repository: string, reference: string, context?: AttemptContext): Promise<HeadStatus>;
  headBlob(repository: string, digest: string, context?: AttemptContext): Promise<HeadStatus>;
}

export type SubjectExistence = { result: 'exists' } | { result: 'not_found' | 'unreadable'; detail: string };

export interface SubjectExistenceCheckOptions {
  /** the client for the image's registry with the credentials allowed for the run (point 2) */
  clientFor(run: RunRef, image: SubjectImage, context?: AttemptContext): Promise<ManifestHead>;
  /** positive answers kept; default 10,000 */
  cacheSize?: number;
  /** how long a positive answer counts; default 600,000 ms (10 minutes) */
  ttlMs?: number;
  /** the clock (ms); default Date.now */
  now?: () => number;
}

export const EXISTENCE_TTL_MS = 600_000;

export class SubjectExistenceCheck {
  readonly #o: SubjectExistenceCheckOptions;
  /** key → when the positive answer expires (Map keeps insertion order: oldest first) */
  readonly #known = new Map<string, number>();
  readonly #cacheSize: number;
  readonly #ttl: number;
  readonly #now: () => number;

  constructor(options: SubjectExistenceCheckOptions) {
    this.#o = options;
    this.#cacheSize = options.cacheSize ?? 10_000;
    this.#ttl = options.ttlMs ?? EXISTENCE_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  /** `context`: the attempt asking (its deadline aborts the HEAD); default none. */
  async check(run: RunRef, image: SubjectImage, context?: AttemptContext): Promise<SubjectExistence> {
    const key = `${run.namespace}\n${image.repository}@${image.digest}`;
    const until = this.#known.get(key);
    if (until !== undefined && until > this.#now()) return { result: 'exists' };
    this.#known.delete(key);
    const name = `${image.repository}@${image.digest}`;
    let status: HeadStatus;
    try {
      const client = await this.#o.clientFor(run, image, context);
      status = await client.headManifest(image.path, image.digest, context);
      if (status === 404) status = await client.headBlob(image.path, image.digest, context);
    } catch (err) {
      // the detail reaches tenants (InputSkipped): the registry's tenant-safe text, never its answer
      if (err instanceof ObserverError && !err.retryable)
        return { result: 'unreadable', detail: `${name}: ${tenantMessage(err)}` };
      throw new ObserverError(
        `checking that ${name} exists for ${describeRun(run)}: ${(err as Error).message}`,
        {
          code: 'registry',
          retryable: true,
          cause: err,
        },
      );
    }
    switch (status) {
      case 200:
        this.#remember(key);
        return { result: 'exists' };
      case 404:
        return {
          result: 'not_found',
          detail: `${name}: no manifest or blob with this digest (subject_not_found)`,
        };
      case 401:
      case 403:
        return {
          result: 'unreadable',
          detail: `${name}: read refused with the credentials allowed for namespace ${run.namespace} (subject_unreadable)`,
        };
    }
  }

  #remember(key: string): void {
    this.#known.set(key, this.#now() + this.#ttl);
    if (this.#known.size > this.#cacheSize) this.#known.delete(this.#known.keys().next().value as string);
  }
}
