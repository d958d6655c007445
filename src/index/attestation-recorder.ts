import type { NewAttestation, RunState } from './attestation-index.ts';

/** The controller's write role: records what it attested. */
export interface AttestationRecorder {
  /** Records an attestation; returns its id. */
  addAttestation(attestation: NewAttestation): Promise<string>;
}

/** The controller's run states: each run's signing state by uid, which decides whether work is due. */
export interface RunStateStore {
  /** Sets a run's state (upsert by uid). */
  setRunState(state: RunState): Promise<void>;
  getRunState(uid: string): Promise<RunState | undefined>;
}
