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
