export { type EnvelopeVerdict, verifyEnvelope, verifySignature } from './envelope.ts';
export { type Check, type ImageVerification, type VerifyImageOptions, verifyImage } from './image.ts';
export { publishedKeyVerifier } from './published-keys.ts';
