// The examples' and benches' flag parser (examples/shared/cli.ts): node:util parseArgs in strict mode.
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../examples/shared/cli';

const FLAGS = { quick: 'boolean', out: 'string', epochs: 'string', lr: 'string' } as const;
const HELP = 'demo [--quick] [--out <dir>] [--epochs <n>] [--lr <x>]';

describe('examples/shared/cli parseArgs', () => {
  it('reads declared flags, values and defaults', () => {
    const a = parseArgs(['--quick', '--out', 'dir', '--epochs=3', '--lr', '0.002'], FLAGS, HELP);
    expect([a.flag('quick'), a.string('out', 'x'), a.int('epochs', 1), a.number('lr', 1)]).toEqual([true, 'dir', 3, 0.002]);
    const d = parseArgs([], FLAGS, HELP);
    expect([d.flag('quick'), d.string('out', 'x'), d.optional('out'), d.int('epochs', 7)]).toEqual([false, 'x', undefined, 7]);
  });

  it('refuses a misspelt flag, a missing value and a stray argument, with the help text', () => {
    expect(() => parseArgs(['--quik'], FLAGS, HELP)).toThrow(/Unknown option '--quik'[\s\S]*demo \[--quick\]/);
    expect(() => parseArgs(['--out'], FLAGS, HELP)).toThrow(/--out <value>' argument missing|argument missing/);
    expect(() => parseArgs(['extra'], FLAGS, HELP)).toThrow(/Unexpected argument 'extra'/);
    expect(() => parseArgs(['--quick=yes'], FLAGS, HELP)).toThrow(/does not take an argument/);
  });

  it('checks numbers', () => {
    expect(() => parseArgs(['--epochs', '2.5'], FLAGS, HELP).int('epochs', 1)).toThrow('--epochs must be a positive integer, got 2.5');
    expect(() => parseArgs(['--lr', 'fast'], FLAGS, HELP).number('lr', 1)).toThrow('--lr must be a positive number, got fast');
  });
});
