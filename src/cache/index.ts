export { BoundedCache, type BoundedCacheOptions } from './bounded-cache.ts';
