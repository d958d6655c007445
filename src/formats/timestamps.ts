/**
 * Kubernetes timestamps → RFC 3339 in UTC ending in `Z`, fractional seconds only if non-zero
 * (trailing zeros dropped), as Go's time.Time marshals a UTC time. Pure: no clock.
 * Returns undefined for absent or unparsable input (the caller decides what that means).
 */
const RFC3339 = /^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

export function utcTimestamp(value: string | undefined): string | undefined {
  const m = value === undefined ? null : RFC3339.exec(value.trim());
  if (!m) return undefined;
  const [, date, time, fraction = '', zone] = m;
  const whole = Date.parse(`${date}T${time}${zone.toUpperCase()}`);
  if (Number.isNaN(whole)) return undefined;
  const seconds = new Date(whole).toISOString().slice(0, 19);
  const digits = fraction.slice(1).replace(/0+$/, '');
  return `${seconds}${digits ? `.${digits}` : ''}Z`;
}
