import type { RunKey } from '../tekton/index.ts';

/** Kubernetes Events about a run, for people and for monitoring. */
export interface RunEvent {
  run: RunKey & { uid: string };
  type: 'Normal' | 'Warning';
  /** CamelCase, stable: Attested, AttestationFailed, AttestationRetrying, InputSkipped, AnnotationMismatch, … */
  reason: string;
  message: string;
}

export interface EventRecorder {
  /** Best effort: a failure to record is logged, never thrown. */
  record(event: RunEvent): Promise<void>;
}
