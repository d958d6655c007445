import type { ChildRun } from '../formats/index.ts';
import { isSettled, type RunRecord, SIGNED } from '../model/index.ts';
import type { RunView } from '../tekton/index.ts';

/** Everything one reconcile decides on, read before deciding. */
export interface ReconcileFacts {
  /** the run as it is now, or its captured copy when it is gone; undefined when neither exists */
  run: RunView | undefined;
  /** `run` is the copy the index captured: the run itself is gone (no mark can be restored on it) */
  fromCapture?: boolean;
  /** the run's record in the index of record (its retry spacing included) */
  state: RunRecord | undefined;
  signerLoaded: boolean;
  /** a PipelineRun's children, once read (undefined: not read yet) */
  children: readonly ChildRun[] | undefined;
  now: number;
  childWaitSeconds: number;
  /** attempts a round may start (`attestation.max-attempts`) */
  maxAttempts: number;
  /** this replica's claim on the run (undefined: not asked for yet) */
  claim?: ClaimFact;
  /**
   * Migrating from Tekton Chains with a cut-over (`adoption.*`): a run completed before `cutOver`
   * is Chains' to sign; an unsigned one is waited for up to `waitMs` after it completed (then
   * Chains' signature is adopted when it comes, or the observer attests the run itself)
   */
  chainsTurn?: { cutOver: number; waitMs: number };
}

/** Whether this replica holds the run's claim, or how long until another's lease runs out. */
export type ClaimFact = { held: true } | { held: false; retryInMs: number };

/** How long to wait before looking again while no signing key is loaded. */
export const KEY_WAIT_MS = 30_000;
/** The longest wait before re-reading unfinished children. */
export const CHILD_POLL_MS = 10_000;
/** The longest wait before looking again whether Chains signed a run from before the cut-over. */
export const CHAINS_POLL_MS = 10_000;

/**
 * What to do with a run. `signedWithoutRecord`: the run says signed=true but the index has no
 * record of it (a tenant wrote it, or the index was lost); reported, never trusted.
 */
export type Decision =
  | { action: 'skip'; reason: 'gone' | 'not-done' | 'attested' | 'failed' }
  | { action: 'restore-mark'; run: RunView; found: string | undefined }
  | { action: 'give-up-unfinished'; run: RunView; attempts: number }
  | { action: 'wait-for-retry'; run: RunView; requeueAfterMs: number }
  | { action: 'wait-for-key'; run: RunView; requeueAfterMs: number; signedWithoutRecord: boolean }
  /** a run from before the Chains cut-over that Chains has not signed yet: Chains' turn */
  | { action: 'wait-for-chains'; run: RunView; requeueAfterMs: number }
  | { action: 'read-children'; run: PipelineRunView }
  | {
      action: 'wait-for-children';
      run: RunView;
      waiting: string[];
      requeueAfterMs: number;
      signedWithoutRecord: boolean;
    }
  | { action: 'attest'; run: RunView; children: readonly ChildRun[]; signedWithoutRecord: boolean }
  /** `forMark`: the write would be to the run's mark (restore-mark), so the run is read again once claimed */
  | { action: 'claim'; run: RunView; forMark: boolean }
  | { action: 'wait-for-claim'; run: RunView; requeueAfterMs: number };

type PipelineRunView = Extract<RunView, { kind: 'PipelineRun' }>;

/**
 * The reconcile decision, a pure function of the facts. The index decides, not the annotations:
 * an attested run only gets its mark restored; a run that failed for good stays failed while it
 * says so (removing the `failed` mark asks for a fresh try); a run known only from its captured
 * copy (deleted since) is attested from the copy like a live one, but a settled one is left alone
 * (there is no run left to mark or to ask for a fresh try); anything else is attested once a key
 * is loaded and, for a PipelineRun, once its children finished or the wait for them ran out.
 * A pending run whose round already started `maxAttempts` attempts (each is counted before it
 * runs, so these never reported back: the process died mid-attempt) is given up on rather than
 * tried again; one whose next attempt is not due yet (retry backoff, kept in the index so it
 * survives a restart) waits for it.
 *
 * Every decision that writes (attest, give up, restore the mark) is taken only under the run's
 * claim (`claim`): replicas share every run, and the one holding the claim re-reads the facts
 * after taking it (another may have settled the run meanwhile) and decides again. A run another
 * replica holds waits until that replica's lease runs out; no attempt is made or counted.
 */
export function decide(f: ReconcileFacts): Decision {
  const decision = decideWork(f);
  switch (decision.action) {
    case 'restore-mark':
    case 'give-up-unfinished':
    case 'attest':
      if (!f.claim)
        return { action: 'claim', run: decision.run, forMark: decision.action === 'restore-mark' };
      if (!f.claim.held)
        return { action: 'wait-for-claim', run: decision.run, requeueAfterMs: f.claim.retryInMs };
      return decision;
    default:
      return decision;
  }
}

/** What the run needs, were this replica the only one. */
function decideWork(f: ReconcileFacts): Decision {
  const { run, state } = f;
  if (!run) return { action: 'skip', reason: 'gone' };
  if (!run.done) return { action: 'skip', reason: 'not-done' };
  const signed = run.annotations[SIGNED];
  if (state && isSettled(state, run.annotations, f.fromCapture === true))
    return { action: 'skip', reason: state.status === 'attested' ? 'attested' : 'failed' };
  if (state?.status === 'attested') return { action: 'restore-mark', run, found: signed };
  if (state?.status === 'pending') {
    if (state.attempts >= f.maxAttempts)
      return { action: 'give-up-unfinished', run, attempts: state.attempts };
    const due = state.nextAttemptAt?.getTime() ?? 0;
    if (due > f.now) return { action: 'wait-for-retry', run, requeueAfterMs: due - f.now };
  }
  const signedWithoutRecord = signed === 'true';
  const chains = chainsTurnLeft(f, run, state, signed);
  if (chains > 0) return { action: 'wait-for-chains', run, requeueAfterMs: Math.min(CHAINS_POLL_MS, chains) };
  if (!f.signerLoaded)
    return { action: 'wait-for-key', run, requeueAfterMs: KEY_WAIT_MS, signedWithoutRecord };
  if (run.kind === 'TaskRun') return { action: 'attest', run, children: [], signedWithoutRecord };
  if (!f.children) return { action: 'read-children', run };
  const waiting = f.children.filter((c) => c.state === 'unfinished').map((c) => c.name);
  const deadline = (run.completedAt ?? 0) + f.childWaitSeconds * 1000;
  if (waiting.length > 0 && f.now < deadline)
    return {
      action: 'wait-for-children',
      run,
      waiting,
      requeueAfterMs: Math.min(CHILD_POLL_MS, deadline - f.now),
      signedWithoutRecord,
    };
  return { action: 'attest', run, children: f.children, signedWithoutRecord };
}

/**
 * How long Chains still has to sign the run (ms; 0: not Chains' turn): a run completed before
 * the cut-over, that no observer attempted and Chains has not marked (`signed` absent), while less
 * than `waitMs` passed since it completed. Both controllers run side by side until the cut-over
 * without both signing a run.
 */
function chainsTurnLeft(
  f: ReconcileFacts,
  run: RunView,
  state: RunRecord | undefined,
  signed: string | undefined,
): number {
  const turn = f.chainsTurn;
  const completed = run.completedAt;
  if (!turn || state || signed !== undefined || completed === undefined || completed > turn.cutOver) return 0;
  return Math.max(0, completed + turn.waitMs - f.now);
}
