export { type EnvelopeVerdict, verifyEnvelope, verifySignature } from './envelope.ts';
export { type Check, type ImageVerification, type VerifyImageOptions, verifyImage } from './image.ts';
export { checkLogInclusion, type LogProofFile } from './log-inclusion.ts';
export { checkPolicyStatement, type PolicyStatementCheckInput } from './policy-statement-check.ts';
export { publishedKeyVerifier, type ScopedVerifier, scopedKeyVerifier } from './published-keys.ts';
