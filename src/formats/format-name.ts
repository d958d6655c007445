import { ObserverError } from '../errors.ts';

/** The two statement formats we emit. */
export type FormatName = 'slsa/v1.0' | 'slsa/v0.2';

/**
 * Our names and Chains' `artifacts.*.format` values: `in-toto` and `slsa/v1` are Chains' SLSA v0.2
 * formats; `slsa/v2alpha3` and `slsa/v2alpha4` its SLSA v1.0 ones (we emit what v2alpha4 emits).
 */
const ALIASES: Readonly<Record<string, FormatName>> = {
  'slsa/v1.0': 'slsa/v1.0',
  'slsa/v0.2': 'slsa/v0.2',
  'in-toto': 'slsa/v0.2',
  'slsa/v1': 'slsa/v0.2',
  'slsa/v2alpha3': 'slsa/v1.0',
  'slsa/v2alpha4': 'slsa/v1.0',
};

/** Fails with `config_invalid` naming the allowed values. */
export function parseFormatName(name: string): FormatName {
  const format = Object.hasOwn(ALIASES, name) ? ALIASES[name] : undefined;
  if (format === undefined) {
    throw new ObserverError(`format "${name}" is not one of ${Object.keys(ALIASES).join(', ')}`, {
      code: 'config_invalid',
      retryable: false,
    });
  }
  return format;
}
