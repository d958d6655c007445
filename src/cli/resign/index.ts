export { resignCommand } from './resign-command.ts';
export { type ResignOptions, type ResignSelection, resignJobId, runResignJob } from './resign-job.ts';
