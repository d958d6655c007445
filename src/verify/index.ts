export { type EnvelopeVerdict, verifyEnvelope } from './envelope.ts';
export { type Check, type ImageVerification, type VerifyImageOptions, verifyImage } from './image.ts';
