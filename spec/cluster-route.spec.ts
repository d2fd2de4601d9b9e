/** Where a command goes in a cluster, from the command table alone (pure). */
import { describe, expect, it } from 'vitest';
import { commandInfo } from '../lib/commands/index.js';
import { keySlot } from '../lib/commands/slot.js';
import { CrossSlotError, InvalidArgumentError } from '../lib/index.js';
import { routeOf, singleSlot, TO_ALL_NODES, TO_ALL_SHARDS, TO_ANY, TO_SLOT, TO_SPLIT, TO_UNKNOWN } from '../lib/topology/cluster/route.js';

const route = (name: string, ...args: (string | number | Buffer)[]) => routeOf(commandInfo(name, args[0]), args);

describe('routeOf', () => {
  it('a single-key command goes to its key slot, hash tags included, whatever the key type', () => {
    expect(route('GET', 'user:1')).toEqual({ to: TO_SLOT, slot: keySlot('user:1') });
    expect(route('SET', '{user:1}:name', 'ada').slot).toBe(route('GET', '{user:1}:age').slot);
    expect(route('GET', Buffer.from('user:1')).slot).toBe(keySlot('user:1'));
    expect(route('HGET', 'h', 'f')).toEqual({ to: TO_SLOT, slot: keySlot('h') });
  });

  it('movable keys: EVAL numkeys, XREAD STREAMS, ZUNIONSTORE numkeys', () => {
    expect(route('EVAL', 'return 1', 2, '{a}1', '{a}2', 'arg')).toEqual({ to: TO_SLOT, slot: keySlot('{a}1') });
    expect(route('EVAL', 'return 1', 0, 'not-a-key').to).toBe(TO_ANY);
    expect(route('XREAD', 'COUNT', 1, 'STREAMS', '{s}a', '{s}b', '0', '0')).toEqual({ to: TO_SLOT, slot: keySlot('{s}a') });
    expect(route('ZUNIONSTORE', '{z}d', 2, '{z}a', '{z}b')).toEqual({ to: TO_SLOT, slot: keySlot('{z}d') });
  });

  it('keys in different slots: CrossSlotError unless the command can be split', () => {
    expect(() => route('EVAL', 'return 1', 2, 'a', 'b')).toThrow(CrossSlotError);
    expect(() => route('RENAME', 'a', 'b')).toThrow(CrossSlotError);
    expect(() => route('MSETNX', 'a', '1', 'b', '2')).toThrow(CrossSlotError); // all or nothing: never split
    expect(route('MGET', 'a', 'b').to).toBe(TO_SPLIT);
    expect(route('DEL', 'a', 'b', 'c').to).toBe(TO_SPLIT);
    expect(route('MSET', 'a', '1', 'b', '2').to).toBe(TO_SPLIT);
    expect(route('MGET', '{t}a', '{t}b')).toEqual({ to: TO_SLOT, slot: keySlot('{t}a') });
    // A CrossSlotError is an InvalidArgumentError: nothing was sent.
    expect(() => route('RENAME', 'a', 'b')).toThrow(InvalidArgumentError);
  });

  it('keyless commands: any master, or the command tips say every shard / node', () => {
    expect(route('PING').to).toBe(TO_ALL_SHARDS);
    expect(route('DBSIZE').to).toBe(TO_ALL_SHARDS);
    expect(route('KEYS', '*').to).toBe(TO_ALL_SHARDS);
    expect(route('SCRIPT', 'LOAD', 'return 1').to).toBe(TO_ALL_NODES);
    expect(route('ECHO', 'x').to).toBe(TO_ANY);
    expect(route('TIME').to).toBe(TO_ANY);
  });

  it('malformed key arguments are an InvalidArgumentError; unknown commands follow MOVED', () => {
    expect(() => route('EVAL', 'return 1', 5, 'a')).toThrow(InvalidArgumentError);
    expect(route('MYMODULE.CMD', 'k').to).toBe(TO_UNKNOWN);
  });

  it('singleSlot: one slot for a transaction or WATCH, else CrossSlotError', () => {
    expect(singleSlot('WATCH', ['{u}a', '{u}b'])).toBe(keySlot('{u}a'));
    expect(() => singleSlot('WATCH', ['a', 'b'])).toThrow(CrossSlotError);
  });
});
