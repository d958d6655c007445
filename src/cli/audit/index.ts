export { auditCommand } from './audit-command.ts';
