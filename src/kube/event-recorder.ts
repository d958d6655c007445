import type { AttemptContext } from '../model/index.ts';
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
  /** Best effort: a failure to record is logged, never thrown. `context`: the attempt it reports on. */
  record(event: RunEvent, context?: AttemptContext): Promise<void>;
}
