export { createLogger, type Logger } from './logger.ts';
export { type ChainsErrorType, createMetrics, type Metrics } from './metrics.ts';
