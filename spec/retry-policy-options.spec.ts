/**
 * RetryPolicy's options are an options object like any other (DESIGN.md, "Options
 * objects are checked"): a misspelt key (`attempt`) or a wrong value is an
 * InvalidArgumentError naming the closest valid option, instead of a policy that
 * silently takes its defaults, or one that never gives up (`attempts: NaN` made
 * `attempt >= attempts` false forever) or that throws inside the connection's
 * machinery when it is asked (`retryOn` not an array).
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, RetryPolicy, ServerError } from '../lib/index.js';
import { thrown } from './support/thrown.js';

describe('RetryPolicy checks its options', () => {
  it('a misspelt option names the closest valid one, for every way to make a policy', () => {
    const cases: [() => unknown, RegExp][] = [
      [() => RetryPolicy.exponential({ attempt: 5 } as never), /RetryPolicy\.exponential\(\): unknown option attempt; did you mean attempts\?/],
      [() => new RetryPolicy({ maxDelays: 5 } as never), /new RetryPolicy\(\): unknown option maxDelays; did you mean maxDelay\?/],
      [() => RetryPolicy.constant({ delays: 5 } as never), /RetryPolicy\.constant\(\): unknown option delays; did you mean delay\?/],
      [() => RetryPolicy.constant({ baseDelay: 5 } as never), /RetryPolicy\.constant\(\): unknown option baseDelay; did you mean delay\?/],
      [() => RetryPolicy.exponential({ retryon: [ServerError] } as never), /did you mean retryOn\?/],
    ];
    for (const [make, message] of cases) {
      const err = thrown(make);
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect(err.message).toMatch(message);
    }
  });

  it('a wrong value is refused, never clamped into a policy that retries forever or throws later', () => {
    const cases: [() => unknown, RegExp][] = [
      [() => RetryPolicy.exponential({ attempts: Number.NaN }), /option attempts must be/],
      [() => RetryPolicy.exponential({ attempts: 0 }), /option attempts must be/],
      [() => RetryPolicy.exponential({ attempts: '5' as never }), /option attempts must be/],
      [() => RetryPolicy.exponential({ baseDelay: -1 }), /option baseDelay must be/],
      [() => RetryPolicy.exponential({ maxDelay: Number.NaN }), /option maxDelay must be/],
      [() => RetryPolicy.exponential({ factor: 0.5 }), /option factor must be/],
      [() => RetryPolicy.exponential({ jitter: 'yes' as never }), /option jitter must be a boolean/],
      [() => RetryPolicy.exponential({ retryOn: ServerError as never }), /option retryOn must be an array of error classes/],
      [() => RetryPolicy.exponential({ retryOn: ['ServerError'] as never }), /option retryOn must be an array of error classes/],
      [() => RetryPolicy.constant({ delay: Number.POSITIVE_INFINITY }), /option delay must be/],
      [() => new RetryPolicy(null as never), /expected an options object/],
    ];
    for (const [make, message] of cases) {
      const err = thrown(make);
      expect(err, message.source).toBeInstanceOf(InvalidArgumentError);
      expect(err.message).toMatch(message);
    }
  });

  it('valid policies are made as before', () => {
    expect(RetryPolicy.exponential({ attempts: 5, baseDelay: 10, maxDelay: 100, jitter: false, retryOn: [ServerError] })).toMatchObject({ attempts: 5, baseDelay: 10, maxDelay: 100, factor: 2, jitter: false });
    expect(RetryPolicy.constant({ attempts: 3, delay: 20 })).toMatchObject({ attempts: 3, baseDelay: 20, maxDelay: 20, factor: 1, jitter: false });
    expect(RetryPolicy.exponential({ attempts: Number.POSITIVE_INFINITY }).attempts).toBe(Number.POSITIVE_INFINITY);
    expect(RetryPolicy.none().attempts).toBe(1);
    expect(new RetryPolicy().attempts).toBe(3);
    expect(RetryPolicy.exponential({ attempts: undefined }).attempts).toBe(3);
  });
});
