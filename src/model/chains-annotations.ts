/**
 * Tekton Chains' annotation contract on runs (pkg/chains/annotations, storage/tekton), kept
 * name for name so tools that read Chains' annotations keep working.
 */
export const CHAINS_PREFIX = 'chains.tekton.dev/';
export const SIGNED = `${CHAINS_PREFIX}signed`;
export const RETRIES = `${CHAINS_PREFIX}retries`;
export const TRANSPARENCY = `${CHAINS_PREFIX}transparency`;
export const TRANSPARENCY_UPLOAD = `${CHAINS_PREFIX}transparency-upload`;

export const payloadAnnotation = (key: string) => `${CHAINS_PREFIX}payload-${key}`;
export const signatureAnnotation = (key: string) => `${CHAINS_PREFIX}signature-${key}`;
export const certAnnotation = (key: string) => `${CHAINS_PREFIX}cert-${key}`;
export const chainAnnotation = (key: string) => `${CHAINS_PREFIX}chain-${key}`;
/** Ours: set instead of payload/signature when they would not fit in the object's annotations. */
export const storedElsewhereAnnotation = (key: string) => `${CHAINS_PREFIX}stored-elsewhere-${key}`;
