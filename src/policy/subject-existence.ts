/**
 * Does a subject's image exist? Before anything is signed, each image subject's manifest is
 * HEADed by digest in its own repository, with the credentials credential-choice.ts allows for
 * the run. One request per subject; positive answers are cached (bounded, oldest dropped first)
 * per namespace, so a namespace never learns of an image through another namespace's answer.
 *
 * - 200 → `exists`;
 * - 404 → `not_found` (a definite answer: the subject is skipped);
 * - 401/403, or a token request refused → `unreadable` (skipped: with these credentials nobody
 *   could verify the claim);
 * - a timeout, a 5xx, 429 or a dropped connection is not an answer: the retryable ObserverError is
 *   thrown, the attempt fails and is retried with backoff, and no subject is ever dropped because
 *   its registry blinked.
 */
import { ObserverError, tenantMessage } from '../errors.ts';
import type { AttemptContext } from '../model/index.ts';
import { describeRun, type RunRef } from '../tekton/index.ts';

/** An image subject: `host/path` and `sha256:<hex>` (structurally storage's ImageRef). */
export interface SubjectImage {
  repository: string;
  digest: string;
}

/** What the check needs of a registry client (oci/RegistryClient has it). */
export interface ManifestHead {
  headManifest(
    repository: string,
    reference: string,
    context?: AttemptContext,
  ): Promise<200 | 401 | 403 | 404>;
}

export type SubjectExistence = { result: 'exists' } | { result: 'not_found' | 'unreadable'; detail: string };

export interface SubjectExistenceCheckOptions {
  /** the client for the image's registry with the credentials allowed for the run (point 2) */
  clientFor(
    run: RunRef,
    image: SubjectImage,
    context?: AttemptContext,
  ): Promise<{ client: ManifestHead; repository: string }>;
  /** positive answers kept; default 10,000 */
  cacheSize?: number;
}

export class SubjectExistenceCheck {
  readonly #o: SubjectExistenceCheckOptions;
  readonly #known = new Set<string>();
  readonly #cacheSize: number;

  constructor(options: SubjectExistenceCheckOptions) {
    this.#o = options;
    this.#cacheSize = options.cacheSize ?? 10_000;
  }

  /** `context`: the attempt asking (its deadline aborts the HEAD); default none. */
  async check(run: RunRef, image: SubjectImage, context?: AttemptContext): Promise<SubjectExistence> {
    const key = `${run.namespace}\n${image.repository}@${image.digest}`;
    if (this.#known.has(key)) return { result: 'exists' };
    const { client, repository } = await this.#o.clientFor(run, image, context);
    let status: 200 | 401 | 403 | 404;
    try {
      status = await client.headManifest(repository, image.digest, context);
    } catch (err) {
      // the detail reaches tenants (InputSkipped): the registry's tenant-safe text, never its answer
      if (err instanceof ObserverError && !err.retryable)
        return { result: 'unreadable', detail: `${image.repository}@${image.digest}: ${tenantMessage(err)}` };
      throw new ObserverError(
        `checking that ${image.repository}@${image.digest} exists for ${describeRun(run)}: ${(err as Error).message}`,
        { code: 'registry', retryable: true, cause: err },
      );
    }
    switch (status) {
      case 200:
        this.#remember(key);
        return { result: 'exists' };
      case 404:
        return {
          result: 'not_found',
          detail: `${image.repository}@${image.digest}: manifest not found (subject_not_found)`,
        };
      case 401:
      case 403:
        return {
          result: 'unreadable',
          detail: `${image.repository}@${image.digest}: read refused with the credentials allowed for namespace ${run.namespace} (subject_unreadable)`,
        };
    }
  }

  #remember(key: string): void {
    this.#known.add(key);
    if (this.#known.size > this.#cacheSize) this.#known.delete(this.#known.values().next().value as string);
  }
}
