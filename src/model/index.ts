export { type AttemptContext, type Lane, NO_ATTEMPT } from './attempt-context.ts';
