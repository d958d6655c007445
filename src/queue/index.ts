export { AdaptiveLimit } from './adaptive-limit.ts';
export { HeadroomLimit } from './headroom-limit.ts';
export { LaneQueue, laneOf } from './lane-queue.ts';
export { LatencyCap } from './latency-cap.ts';
export { type Lane, WorkQueue } from './work-queue.ts';
