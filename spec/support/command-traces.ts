/**
 * What redmux publishes on its `redmux:command` tracing channel while a
 * piece of a spec runs: every part (start, end, asyncStart, asyncEnd, error)
 * with a copy of its context, in order.
 */
import dc from 'node:diagnostics_channel';

export type TraceEvent = [string, Record<string, unknown>];

/** Subscribe to every part of redmux:command for the duration of `fn`; returns what was published. */
export async function traced(fn: () => Promise<unknown>): Promise<TraceEvent[]> {
  const events: TraceEvent[] = [];
  const record = (kind: string) => (ctx: unknown) => events.push([kind, { ...(ctx as Record<string, unknown>) }]);
  const handlers = { start: record('start'), end: record('end'), asyncStart: record('asyncStart'), asyncEnd: record('asyncEnd'), error: record('error') };
  const channel = dc.tracingChannel('redmux:command');
  channel.subscribe(handlers);
  try {
    await fn();
  } finally {
    channel.unsubscribe(handlers);
  }
  return events;
}
