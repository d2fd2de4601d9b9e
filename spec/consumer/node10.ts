// A consumer on the old module resolution (`moduleResolution: node`, i.e. node10, CommonJS), which reads
// no `exports` map: the subpath's types come from `typesVersions`. Checked by spec/typed-consumer.spec.ts.
import { Redis, type RedisStats } from 'redmux';
import { instrument, type Instrumentation, type InstrumentOptions } from 'redmux/otel';

export function observe(options: InstrumentOptions = {}): { redis: Redis; instrumentation: Instrumentation; stats(): RedisStats } {
  const instrumentation = instrument(options);
  const redis = new Redis('redis://127.0.0.1:6379');
  return { redis, instrumentation, stats: () => redis.stats() };
}

// @ts-expect-error no such export: the subpath's real declarations are found, not an untyped module
export { nothingHere } from 'redmux/otel';
