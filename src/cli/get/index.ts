export { getCommand } from './get-command.ts';
