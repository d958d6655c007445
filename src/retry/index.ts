export { Backoff, type BackoffOptions, delayFor } from './backoff.ts';
