import type { ObserverConfig } from './schema.ts';

/**
 * The configuration in force, replaceable while the service runs (src/cli/config-reloader.ts).
 * `view` is an ObserverConfig whose every property read goes to the current config, so a part
 * that reads `config.taskrun.format` per run sees a change; a part that copied a value at
 * construction keeps it, which is why only keys read per use are marked `live` in keys.ts.
 */
export class LiveConfig {
  #current: ObserverConfig;
  readonly view: ObserverConfig;

  constructor(initial: ObserverConfig) {
    this.#current = initial;
    const at = (key: string | symbol): unknown => (this.#current as Record<string | symbol, unknown>)[key];
    this.view = new Proxy({} as ObserverConfig, {
      get: (_, key) => at(key),
      has: (_, key) => key in this.#current,
      ownKeys: () => Reflect.ownKeys(this.#current),
      getOwnPropertyDescriptor: (_, key) =>
        key in this.#current ? { value: at(key), enumerable: true, configurable: true } : undefined,
      set: () => false,
    });
  }

  current(): ObserverConfig {
    return this.#current;
  }

  replace(next: ObserverConfig): void {
    this.#current = next;
  }
}
