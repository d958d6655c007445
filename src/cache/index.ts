export { BoundedCache, type BoundedCacheOptions } from './bounded-cache.ts';
export {
  type BudgetReader,
  heapMemoryBudgetBytes,
  MemoryBudget,
  type MemoryBudgetOptions,
  processMemoryBudget,
  type Reservation,
} from './memory-budget.ts';
