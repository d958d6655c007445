export { readChildren } from './children.ts';
export { withDeadline } from './deadline.ts';
export {
  ACTIVE_WINDOW_MS,
  DiskShare,
  type DiskShareOptions,
  diskShareFromConfig,
  type SpaceGrant,
  volumeOf,
} from './disk-share.ts';
export { SHARE_RETRY_MS, shareDeferral } from './namespace-cap.ts';
export { type ReconcileResult, Reconciler, type ReconcilerOptions } from './reconciler.ts';
export { recordAttestation } from './record.ts';
export { MIN_CLAIM_WAIT_MS } from './run-claim.ts';
export {
  fairShareBytes,
  floorBytes,
  freeUnderFloor,
  judgeSpace,
  NAMESPACE_SHARE_REASON,
  type SpaceSettings,
  type SpaceVerdict,
  type VolumeReading,
} from './space-verdict.ts';
