// The observer as its own process lives with the test helpers (the crash and chaos tests use it too).
export { ObserverProcess } from '../../test/helpers/observer-process.ts';
