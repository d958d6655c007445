import { type ParseArgsConfig, parseArgs } from 'node:util';
import { ObserverError } from '../errors.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs with our error type: a bad flag is a usage error naming the flag. */
export function parseFlags<O extends Options>(args: string[], options: O, usage: string) {
  try {
    return parseArgs({
      args,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: false,
      strict: true,
    });
  } catch (err) {
    throw new ObserverError(`${(err as Error).message}\n${usage}`, {
      code: 'config_invalid',
      retryable: false,
    });
  }
}

export function required(value: string | undefined, flag: string, usage: string): string {
  if (!value)
    throw new ObserverError(`missing --${flag}\n${usage}`, { code: 'config_invalid', retryable: false });
  return value;
}

/** `--set key=value` flags as a map (a flag without `=` sets the key to ""). */
export function parseSets(sets: string[] | undefined): Record<string, string> {
  return Object.fromEntries(
    (sets ?? []).map((kv) => {
      const at = kv.indexOf('=');
      return at < 0 ? [kv, ''] : [kv.slice(0, at), kv.slice(at + 1)];
    }),
  );
}
