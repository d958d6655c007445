// checkedSubject (the constructor) is deliberately not exported: only subject-gate.ts makes one
export { type CheckedImage, type CheckedSubject, type CheckedUri, subjectName } from './checked-subject.ts';
export {
  type ChildOwnership,
  childOwnership,
  type FirstSighting,
  type OwnedObject,
} from './child-ownership.ts';
export {
  type CredentialChoice,
  type CredentialChoiceInput,
  type CredentialOwner,
  credentialChoice,
} from './credential-choice.ts';
export {
  type ChildExecution,
  type ContainerDifference,
  checkEvidence,
  checkExecution,
  type ExecutionCheckMode,
  type ExecutionCheckOutcome,
  type PodView,
  pipelineExecution,
} from './execution-check.ts';
export { isMap, type LabelSelector, labelsMatch, parseLabelSelector } from './label-selector.ts';
export {
  type ContainerImage,
  MAX_CONTAINERS,
  type PodEvidence,
  parsePodEvidence,
  podEvidence,
} from './pod-evidence.ts';
export {
  compileRepositoryPattern,
  compileUriPattern,
  NAMESPACE_VAR,
  type RepositoryPattern,
} from './repository-pattern.ts';
export {
  EXISTENCE_TTL_MS,
  type ManifestHead,
  type SubjectExistence,
  SubjectExistenceCheck,
  type SubjectExistenceCheckOptions,
  type SubjectImage,
} from './subject-existence.ts';
export {
  adoptedImages,
  type ClaimedSubject,
  type GateResult,
  type GateSkip,
  type GateSkipCode,
  SubjectGate,
  type SubjectGateOptions,
} from './subject-gate.ts';
export {
  parseSubjectPolicy,
  type SubjectDecision,
  type SubjectPolicy,
  type SubjectPolicyRule,
  UNSET_SUBJECT_POLICY,
} from './subject-policy.ts';
