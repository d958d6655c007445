export { Backoff, delayFor } from './backoff.ts';
