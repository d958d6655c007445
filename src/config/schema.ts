/**
 * The typed configuration, derived from the rows of keys.ts: each row's `at` path holds what its
 * parser returns (optional when the parser may return undefined). Nothing here is written by hand
 * except the one value that does not come from a key: the observer's namespace (`POD_NAMESPACE`).
 */
import { CONFIG_ROWS, type ConfigRow } from './keys.ts';
import type { SignerKind } from './parsers.ts';

export type { BackendChoice, OciEncoding, SignerKind, TransparencyMode } from './parsers.ts';

type Row = (typeof CONFIG_ROWS)[number];
export type ConfigKey = Row['key'];

type Leaf<P extends string, V> = P extends `${infer H}.${infer R}`
  ? { [K in H]: Leaf<R, V> }
  : undefined extends V
    ? { [K in P]?: Exclude<V, undefined> }
    : { [K in P]: V };
type RowLeaf<R> = R extends ConfigRow<string, infer A, infer T> ? Leaf<A, T> : never;
type Intersect<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;
type Expand<T> = T extends readonly unknown[] | ((...args: never[]) => unknown)
  ? T
  : T extends object
    ? { [K in keyof T]: Expand<T[K]> }
    : T;

/** Not configuration keys: taken from the environment by loadConfig. */
interface FromEnvironment {
  /** the observer's own namespace, where the signing Secret is read */
  signingSecret: { namespace: string };
}

/** The validated, frozen configuration (parseConfig). */
export type ObserverConfig = Expand<Intersect<RowLeaf<Row>> & FromEnvironment>;

/** One artifact type's settings: format, storage backends (empty = disabled) and signer. */
export type ArtifactConfig = Pick<ObserverConfig['taskrun'], 'format' | 'storage' | 'signer'>;

/** Each key's default as a string ("" = unset), e.g. for CLI flags that mirror a key. */
export const DEFAULTS = Object.freeze(
  Object.fromEntries(CONFIG_ROWS.map((r) => [r.key, r.default])) as Record<ConfigKey, string>,
);

/** Whether an artifact type produces anything: Chains' Artifact.Enabled(). */
export const artifactEnabled = (a: { storage: readonly string[]; signer: SignerKind }): boolean =>
  a.signer !== 'none' && a.storage.length > 0;
