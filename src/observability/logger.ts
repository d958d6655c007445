import { type Logger, pino } from 'pino';

/**
 * The service logger (pino, JSON lines). Anything that could carry secret material is redacted by
 * path as a second line of defence; the first is never passing key bytes to a logger at all.
 */
export type { Logger };

export function createLogger(options: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'provenance-observer' },
      redact: {
        paths: [
          '*.privateKey',
          '*.password',
          '*.token',
          '*.authorization',
          '*.headers.authorization',
          'req.headers.authorization',
        ],
        censor: '[redacted]',
      },
    },
    options.destination,
  );
}
