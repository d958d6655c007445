import type { RunRecord } from '../model/index.ts';
import type { DsseEnvelope } from '../signing/index.ts';
import type { RunKey, RunKind } from '../tekton/index.ts';
import type { AttestationSummary, Page } from './attestation-index.ts';

/** A namespace and run kind: the unit the lookup API grants access to. */
export interface RunScope {
  namespace: string;
  kind: RunKind;
}

/** The lookup API's read role: attestations by digest, by run, by id, and runs' states. */
export interface AttestationReader {
  /** States of every run (any uid) that had this kind, namespace and name, most recently updated first. */
  findRunRecords(run: RunKey): Promise<RunRecord[]>;
  /**
   * Attestations whose subjects include `digest`, newest first. With `scopes`, only attestations of
   * runs in one of those (namespace, kind) pairs: the listing, its `next` cursor and whether there
   * is a next page then depend on those rows alone, so a caller learns nothing of the others.
   * An empty `scopes` lists nothing; undefined lists all.
   */
  findByDigest(
    digest: string,
    page: { limit: number; cursor?: string; scopes?: readonly RunScope[] },
  ): Promise<Page<AttestationSummary>>;
  /** The distinct (namespace, kind) pairs of the runs whose attestations include `digest`. */
  digestScopes(digest: string): Promise<RunScope[]>;
  /** Attestations of one run (any uid that had this name), newest first. */
  findByRun(run: { namespace: string; kind: RunKind; name: string }): Promise<AttestationSummary[]>;
  getAttestation(id: string): Promise<AttestationSummary | undefined>;
  getEnvelope(id: string): Promise<DsseEnvelope | undefined>;
}
