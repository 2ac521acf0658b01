// The one name registry behind registerLoss/createLoss and registerTarget/createTarget.
import { describe, expect, it } from 'vitest';
import { PiqConfigError } from '../../src/errors';
import { createRegistry } from '../../src/internal/registry';

const names = { register: 'registerThing', create: 'createThing', noun: 'thing', type: 'Thing' };

describe('createRegistry', () => {
  it('creates built-ins and registered factories by name with their JSON config', () => {
    const r = createRegistry<{ n: number }>(names, [['one', (c) => ({ n: (c.n as number) ?? 1 })]]);
    r.register('two', () => ({ n: 2 }));
    expect(r.create('one', { n: 5 })).toEqual({ n: 5 });
    expect(r.create('two')).toEqual({ n: 2 });
    expect(r.names()).toEqual(['one', 'two']);
  });

  it('lets a custom name be replaced but never a built-in', () => {
    const r = createRegistry<number>(names, [['one', () => 1]]);
    r.register('x', () => 2);
    r.register('x', () => 3);
    expect(r.create('x')).toBe(3);
    expect(() => r.register('one', () => 4)).toThrow("registerThing: 'name' must not be a built-in thing name, got 'one'. Choose another name.");
  });

  it('names the owner, the argument and the choices in every error', () => {
    const r = createRegistry<number>(names, [['one', () => 1]]);
    expect(() => r.register('', () => 1)).toThrow(PiqConfigError);
    expect(() => r.register('y', 3 as never)).toThrow("registerThing: 'factory' must be a function (config) => Thing, got 3.");
    expect(() => r.create('nope')).toThrow(`createThing: 'name' must be a registered thing ('one'), got "nope". Call registerThing first for custom things.`);
    expect(() => r.create('one', [] as never)).toThrow("createThing: 'config' must be a JSON object (what Thing.getConfig() returned), got an array of length 0.");
  });
});
