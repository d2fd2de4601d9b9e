/** Combining the replies of a fanned-out command, per its response policy (pure). */
import { describe, expect, it } from 'vitest';
import { ServerError } from '../lib/index.js';
import * as T from '../lib/commands/tips.js';
import { combineReplies, type NodeReply } from '../lib/topology/cluster/response-policy.js';

const ok = (node: string, value: unknown): NodeReply => ({ node, value: value as NodeReply['value'] });
const failed = (node: string, message = 'ERR boom'): NodeReply => ({ node, error: new ServerError(message, 'ERR') });

describe('response policies', () => {
  it('agg_sum adds (DBSIZE), exactly past 2^53 too', () => {
    expect(combineReplies(T.RESPONSE_AGG_SUM, [ok('a', 3), ok('b', 4), ok('c', 0)])).toBe(7);
    expect(combineReplies(T.RESPONSE_AGG_SUM, [ok('a', Number.MAX_SAFE_INTEGER), ok('b', 2)])).toBe(BigInt(Number.MAX_SAFE_INTEGER) + 2n);
    expect(combineReplies(T.RESPONSE_AGG_SUM, [ok('a', 2n ** 60n), ok('b', -(2n ** 60n))])).toBe(0);
  });

  it('agg_min / agg_max pick the least / greatest (WAIT)', () => {
    expect(combineReplies(T.RESPONSE_AGG_MIN, [ok('a', 2), ok('b', 1), ok('c', 3)])).toBe(1);
    expect(combineReplies(T.RESPONSE_AGG_MAX, [ok('a', 2), ok('b', 5n), ok('c', 3)])).toBe(5n);
  });

  it('agg_logical_and / or work element by element on arrays (SCRIPT EXISTS)', () => {
    expect(combineReplies(T.RESPONSE_AGG_LOGICAL_AND, [ok('a', [1, 1, 0]), ok('b', [1, 0, 0])])).toEqual([1, 0, 0]);
    expect(combineReplies(T.RESPONSE_AGG_LOGICAL_OR, [ok('a', [1, 0, 0]), ok('b', [0, 0, 1])])).toEqual([1, 0, 1]);
    expect(combineReplies(T.RESPONSE_AGG_LOGICAL_AND, [ok('a', 1), ok('b', true)])).toBe(1);
  });

  it('aggregating policies fail the call when one node fails (no partial sums)', () => {
    for (const policy of [T.RESPONSE_AGG_SUM, T.RESPONSE_AGG_MIN, T.RESPONSE_AGG_LOGICAL_AND, T.RESPONSE_ALL_SUCCEEDED, T.RESPONSE_DEFAULT]) {
      expect(() => combineReplies(policy, [ok('a', 1), failed('b')])).toThrow(ServerError);
    }
  });

  it('one_succeeded takes the first success; all failing is the first error', () => {
    expect(combineReplies(T.RESPONSE_ONE_SUCCEEDED, [failed('a', 'NOTBUSY'), ok('b', 'OK')])).toBe('OK');
    expect(() => combineReplies(T.RESPONSE_ONE_SUCCEEDED, [failed('a', 'ERR first'), failed('b', 'ERR second')])).toThrow('ERR first');
  });

  it('all_succeeded answers with the first reply', () => {
    expect(combineReplies(T.RESPONSE_ALL_SUCCEEDED, [ok('a', 'OK'), ok('b', 'OK')])).toBe('OK');
  });

  it('without a policy: arrays concatenate (KEYS), maps merge, sets unite, equal scalars stand, others by node', () => {
    expect(combineReplies(T.RESPONSE_DEFAULT, [ok('a', ['k1', 'k2']), ok('b', ['k3'])])).toEqual(['k1', 'k2', 'k3']);
    const m1 = Object.assign(Object.create(null), { x: 1 });
    const m2 = Object.assign(Object.create(null), { y: 2 });
    expect({ ...(combineReplies(T.RESPONSE_DEFAULT, [ok('a', m1), ok('b', m2)]) as object) }).toEqual({ x: 1, y: 2 });
    expect(combineReplies(T.RESPONSE_DEFAULT, [ok('a', new Set(['p'])), ok('b', new Set(['p', 'q']))])).toEqual(new Set(['p', 'q']));
    expect(combineReplies(T.RESPONSE_DEFAULT, [ok('a', 'PONG'), ok('b', 'PONG')])).toBe('PONG');
    expect({ ...(combineReplies(T.RESPONSE_SPECIAL, [ok('a:1', 'info a'), ok('b:2', 'info b')]) as object) }).toEqual({ 'a:1': 'info a', 'b:2': 'info b' });
  });
});
