/**
 * in-toto attestation types, written by hand from in-toto/attestation spec/v1 (no npm package
 * exists). https://github.com/in-toto/attestation/tree/main/spec/v1
 */

/** Algorithm name → lowercase hex, e.g. `{ sha256: "…" }`. */
export type DigestSet = Record<string, string>;

/** At least one of uri, digest or content is set. */
export interface ResourceDescriptor {
  name?: string;
  uri?: string;
  digest?: DigestSet;
  /** base64 (standard alphabet) */
  content?: string;
  downloadLocation?: string;
  mediaType?: string;
  annotations?: Record<string, unknown>;
}

export const STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
export const STATEMENT_V01 = 'https://in-toto.io/Statement/v0.1';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
export const SLSA_PROVENANCE_V02 = 'https://slsa.dev/provenance/v0.2';
export const INTOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export interface Statement<P = unknown> {
  _type: typeof STATEMENT_V1 | typeof STATEMENT_V01;
  /** Subjects MUST carry a digest. */
  subject: ResourceDescriptor[];
  predicateType: string;
  predicate: P;
}
