export { BoundedCache, type BoundedCacheOptions } from './bounded-cache.ts';
export {
  type BudgetReader,
  heapMemoryBudgetBytes,
  MemoryBudget,
  type MemoryBudgetOptions,
  processMemoryBudget,
  type Reservation,
  UNDECLARED_FIRST_BYTES,
} from './memory-budget.ts';
