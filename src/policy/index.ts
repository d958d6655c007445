export { type ChildOwnership, childOwnership, type OwnedObject } from './child-ownership.ts';
export {
  type CredentialChoice,
  type CredentialChoiceInput,
  type CredentialOwner,
  credentialChoice,
} from './credential-choice.ts';
export {
  type ContainerDifference,
  checkExecution,
  type ExecutionCheckMode,
  type ExecutionCheckOutcome,
  type PodView,
} from './execution-check.ts';
export { type LabelSelector, labelsMatch } from './label-selector.ts';
export { compileRepositoryPattern, NAMESPACE_VAR, type RepositoryPattern } from './repository-pattern.ts';
export {
  type ManifestHead,
  type SubjectExistence,
  SubjectExistenceCheck,
  type SubjectExistenceCheckOptions,
  type SubjectImage,
} from './subject-existence.ts';
export {
  parseSubjectPolicy,
  type SubjectDecision,
  type SubjectPolicy,
  UNSET_SUBJECT_POLICY,
} from './subject-policy.ts';
