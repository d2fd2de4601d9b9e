/** Splitting multi-key commands by slot and merging their replies in the caller's order (pure). */
import { describe, expect, it } from 'vitest';
import { mergeByKey, splitBySlot } from '../lib/topology/cluster/split.js';

// A stand-in slot function: the number after the colon.
const slotOf = (key: unknown) => Number(String(key).split(':')[1]);

describe('splitBySlot / mergeByKey', () => {
  it('MGET: parts per slot, replies merged back in key order', () => {
    const keys = ['a:1', 'b:2', 'c:1', 'd:3', 'e:2'];
    const parts = splitBySlot(keys, 0, 1, slotOf);
    expect(parts.map((p) => [p.slot, p.args])).toEqual([
      [1, ['a:1', 'c:1']],
      [2, ['b:2', 'e:2']],
      [3, ['d:3']],
    ]);
    const replies = parts.map((p) => p.args.map((k) => `value of ${String(k)}`));
    expect(mergeByKey(parts, replies, keys.length)).toEqual(keys.map((k) => `value of ${k}`));
  });

  it('MSET: keys travel with their values', () => {
    const parts = splitBySlot(['a:1', 'va', 'b:2', 'vb', 'c:1', 'vc'], 0, 2, slotOf);
    expect(parts.map((p) => p.args)).toEqual([
      ['a:1', 'va', 'c:1', 'vc'],
      ['b:2', 'vb'],
    ]);
    expect(parts.map((p) => p.keyOrdinals)).toEqual([[0, 2], [1]]);
  });

  it('one slot is one part with the arguments as given; Buffers are kept as they are', () => {
    const k = Buffer.from('x:7');
    const parts = splitBySlot([k, 'y:7'], 0, 1, slotOf);
    expect(parts).toHaveLength(1);
    expect(parts[0]!.args[0]).toBe(k);
  });

  it('arguments before the keys are not split', () => {
    const parts = splitBySlot(['OPTION', 'a:1', 'b:2'], 1, 1, slotOf);
    expect(parts.map((p) => p.args)).toEqual([['a:1'], ['b:2']]);
  });
});
