// The one name registry behind the loss and target registries: factories by name, so a saved
// artifact can store a name plus JSON options and recreate the object at load time.
import { PiqConfigError } from '../errors';
import { describe } from './checks';

/** How the registry names itself in messages: `registerLoss` / `createLoss`, "loss" / `Loss`. */
export interface RegistryNames {
  /** The registering function, e.g. `'registerLoss'`. */
  register: string;
  /** The creating function, e.g. `'createLoss'`. */
  create: string;
  /** What is registered, in words: `'loss'`, `'target'`. */
  noun: string;
  /** The interface a factory returns: `'Loss'`, `'Target'`. */
  type: string;
}

/** Factories by name; the built-ins given at creation cannot be replaced. */
export interface NameRegistry<T> {
  /** Registers (or replaces) a custom factory. */
  register(name: string, factory: (config: Record<string, unknown>) => T): void;
  /** Instantiates a registered factory with JSON options. */
  create(name: string, config?: Record<string, unknown>): T;
  /** Registered names, built-ins first. */
  names(): string[];
}

/** Creates a registry holding `builtins`, with messages naming `names`. */
export function createRegistry<T>(
  names: RegistryNames,
  builtins: ReadonlyArray<readonly [string, (config: Record<string, unknown>) => T]>,
): NameRegistry<T> {
  const factories = new Map<string, (config: Record<string, unknown>) => T>(builtins);
  const builtinNames = new Set(factories.keys());
  const list = () => [...factories.keys()];
  return {
    register(name, factory) {
      if (typeof name !== 'string' || name.length === 0) {
        throw new PiqConfigError(`${names.register}: 'name' must be a non-empty string, got ${describe(name)}.`);
      }
      if (typeof factory !== 'function') {
        throw new PiqConfigError(`${names.register}: 'factory' must be a function (config) => ${names.type}, got ${describe(factory)}.`);
      }
      if (builtinNames.has(name)) {
        throw new PiqConfigError(`${names.register}: 'name' must not be a built-in ${names.noun} name, got '${name}'. Choose another name.`);
      }
      factories.set(name, factory);
    },
    create(name, config = {}) {
      const factory = typeof name === 'string' ? factories.get(name) : undefined;
      if (!factory) {
        throw new PiqConfigError(
          `${names.create}: 'name' must be a registered ${names.noun} (${list().map((n) => `'${n}'`).join(', ')}), got ${describe(name)}. Call ${names.register} first for custom ${names.noun}s.`,
        );
      }
      if (typeof config !== 'object' || config === null || Array.isArray(config)) {
        throw new PiqConfigError(`${names.create}: 'config' must be a JSON object (what ${names.type}.getConfig() returned), got ${describe(config)}.`);
      }
      return factory(config);
    },
    names: list,
  };
}
