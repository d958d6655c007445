export type { SkippedInput } from '../artifacts/index.ts';
export type { DigestSet, ResourceDescriptor, Statement } from '../intoto/index.ts';
export {
  INTOTO_PAYLOAD_TYPE,
  SLSA_PROVENANCE_V1,
  SLSA_PROVENANCE_V02,
  STATEMENT_V1,
  STATEMENT_V01,
} from '../intoto/index.ts';
export { canonicalJson, canonicalJsonBytes, goJson } from './canonical-json.ts';
export { type FormatName, parseFormatName } from './format-name.ts';
export {
  buildPolicyStatement,
  POLICY_STATEMENT_PREDICATE_TYPE,
  POLICY_STATEMENT_SUBJECT,
  type PolicyStatement,
  type PolicyStatementPredicate,
  policyVersion,
} from './policy-statement.ts';
export { buildProvenance, imagesToSign, subjectImages } from './provenance.ts';
export {
  BUILD_TYPE_SLSA,
  BUILD_TYPE_SLSA_TEKTON,
  type ChildRun,
  DEFAULT_BUILDER_ID,
  type Provenance,
  type ProvenanceInput,
  type ProvenanceOptions,
} from './provenance-types.ts';
export { EXECUTION_CHECK_FIELD, runIdentity } from './run-identity.ts';
export { SealedProvenance } from './sealed-provenance.ts';
export { simpleSigningPayload } from './simple-signing.ts';
export { utcTimestamp } from './timestamps.ts';
