export { AdaptiveLimit } from './adaptive-limit.ts';
export { LatencyCap } from './latency-cap.ts';
export { type Lane, WorkQueue } from './work-queue.ts';
