export { type AttemptContext, type Lane, NO_ATTEMPT } from './attempt-context.ts';
export * from './chains-annotations.ts';
export { type Fence, isSettled, type RunClaim, type RunRecord, type RunStatus } from './run-record.ts';
export type { AttestationOrigin, BackendName } from './storage-name.ts';
export {
  DOCKER_HUB,
  digestOfSet,
  type OciSubjectRef,
  parseImageSubject,
  parseSubject,
  type SubjectRef,
  type SubjectRefCode,
  type SubjectRefParse,
  type UriSubjectRef,
} from './subject-ref.ts';
