export {
  AttestationChecks,
  type AttestationChecksOptions,
  describeOutcome,
} from './attestation-checks.ts';
export { type AttestOutcome, Attestor, type AttestorOptions } from './attestor.ts';
export {
  type AttestationLookup,
  ChainsAdopter,
  type ChainsAdopterOptions,
  type ChainsVerdict,
} from './chains-adopter.ts';
export {
  type ChainsAdopted,
  type ChainsAdoption,
  type ChainsRefusal,
  type ChainsTrust,
  verifyChainsAnnotations,
} from './chains-adoption.ts';
export { signPolicyStatement, signProvenance } from './sign-artifacts.ts';
export { sealOffline } from './sign-run.ts';
export type { Stored } from './store-signed.ts';
