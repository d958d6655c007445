export { createLogger, type Logger } from './logger.ts';
export { createMetrics, type Metrics, type ChainsErrorType } from './metrics.ts';
