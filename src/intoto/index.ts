export {
  type DigestSet,
  INTOTO_PAYLOAD_TYPE,
  type ResourceDescriptor,
  SLSA_PROVENANCE_V1,
  SLSA_PROVENANCE_V02,
  STATEMENT_V1,
  STATEMENT_V01,
  type Statement,
} from './statement.ts';
