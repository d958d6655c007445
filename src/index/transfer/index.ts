export {
  type DumpEnd,
  type DumpHeader,
  exportIndex,
  importIndex,
  type TransferSummary,
} from './index-transfer.ts';
export { openTableAccess } from './open-table-access.ts';
export type { Row, TableAccess, TableShape } from './table-access.ts';
