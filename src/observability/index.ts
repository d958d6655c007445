export { createLogger, type Logger } from './logger.ts';
export { type ChainsErrorType, createMetrics, type Metrics, RECONCILER } from './metrics.ts';
