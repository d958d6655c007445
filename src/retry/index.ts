export { Backoff, type BackoffOptions, delayFor, RETRY_MAX_MS } from './backoff.ts';
