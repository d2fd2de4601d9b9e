/**
 * `redmux/otel`: OpenTelemetry spans and metrics from redmux's
 * diagnostics channels (connection/diagnostics.ts), following the database
 * client semantic conventions.
 *
 * ```js
 * import { instrument } from 'redmux/otel';
 * const instrumentation = instrument();   // global tracer and meter providers
 * instrumentation.disable();               // unsubscribe
 * ```
 *
 * `@opentelemetry/api` is an optional peer dependency: only this entry point
 * loads it, so `redmux` itself never needs it. Nothing is published, and no
 * span is made, unless this (or another subscriber) listens.
 *
 * Spans: one CLIENT span per command (`MULTI` for a whole transaction),
 * named after the command, with `db.system.name` = 'redis',
 * `db.operation.name`, `db.namespace` (the database index), `server.address`
 * and `server.port` (the node it was routed to, when it is one node), and on
 * failure `error.type` (the error class) and an ERROR status. Never an
 * argument or a reply. A command a cluster splits or fans out has no server
 * attributes; each of its parts is a child span with its node's.
 *
 * Metrics: `db.client.operation.duration` (histogram, seconds, same
 * attributes as the spans; one per command the caller issued, not per part)
 * and `db.client.connection.count` (up-down counter of open connections, by
 * `server.address` / `server.port`).
 */
import {
  context,
  diag,
  metrics,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Histogram,
  type MeterProvider,
  type Span,
  type TracerProvider,
  type UpDownCounter,
} from '@opentelemetry/api';
import {
  closeChannel,
  commandChannel,
  connectionLostChannel,
  readyChannel,
  type CommandTraceContext,
  type ConnectionEvent,
} from './connection/diagnostics.js';
import { InvalidArgumentError } from './errors.js';
import { checkObject, schema, type Validator } from './option-check.js';

export interface InstrumentOptions {
  /** Where spans go (default: the global tracer provider). */
  tracerProvider?: TracerProvider;
  /** Where metrics go (default: the global meter provider). */
  meterProvider?: MeterProvider;
}

export interface Instrumentation {
  /** Stop making spans and metrics (unsubscribes from every channel). */
  disable(): void;
}

const SCOPE = 'redmux';

/** A provider: an object with the method that hands out its tracer or meter. */
function provider(method: string): Validator {
  return (v, name) => {
    if (typeof v !== 'object' || v === null || typeof (v as Record<string, unknown>)[method] !== 'function') {
      throw new InvalidArgumentError(`option ${name} must be an object with a ${method}() method`);
    }
  };
}

const INSTRUMENT_OPTIONS = schema({ tracerProvider: provider('getTracer'), meterProvider: provider('getMeter') });

/**
 * `handler`, made safe to run as a diagnostics_channel subscriber. Node turns
 * a subscriber's throw into an uncaught exception (a crash, for most
 * applications), in the middle of the user's command; a tracer, span
 * processor or meter that throws (a bug of theirs, an exporter's) must never
 * cost the application that. Its error goes to OpenTelemetry's diag logger,
 * where instrumentations report their own failures.
 */
function guarded<A extends unknown[]>(what: string, handler: (...args: A) => void): (...args: A) => void {
  return (...args) => {
    try {
      handler(...args);
    } catch (err) {
      diag.error(`redmux/otel: ${what} failed`, err);
    }
  };
}

/** A span the tracer handed out (a broken tracer may hand out anything). */
function isSpan(span: unknown): span is Span {
  const s = span as Partial<Span> | null | undefined;
  return typeof s === 'object' && s !== null && typeof s.end === 'function' && typeof s.setAttributes === 'function' && typeof s.setStatus === 'function';
}

/** `host:port` -> address and port; a socket path is an address without a port. */
function serverAttributes(node: string | undefined, into: Attributes): void {
  if (node === undefined) return;
  const colon = node.lastIndexOf(':');
  const port = colon > 0 ? Number(node.slice(colon + 1)) : NaN;
  if (Number.isInteger(port)) {
    // An IPv6 host is written [::1]:6379 by some and ::1:6379 by others: strip brackets either way.
    into['server.address'] = node.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
    into['server.port'] = port;
  } else into['server.address'] = node;
}

/** Subscribe to redmux's channels and turn them into spans and metrics. */
export function instrument(options: InstrumentOptions = {}): Instrumentation {
  checkObject(options, INSTRUMENT_OPTIONS, '', { where: 'instrument()' });
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE);
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE);
  const duration: Histogram = meter.createHistogram('db.client.operation.duration', {
    description: 'Duration of Redis commands, from issue to reply',
    unit: 's',
    advice: { explicitBucketBoundaries: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10] },
  });
  const connections: UpDownCounter = meter.createUpDownCounter('db.client.connection.count', {
    description: 'Open connections to Redis servers',
    unit: '{connection}',
  });

  const spans = new WeakMap<CommandTraceContext, { span: Span; start: number }>();
  const handlers = {
    start: guarded('starting a span', (ctx: CommandTraceContext) => {
      const attributes: Attributes = {
        'db.system.name': 'redis',
        'db.operation.name': ctx.command,
        'db.namespace': String(ctx.database),
      };
      // A part of a split or fanned-out command is a child of its caller's command's span.
      const parent = ctx.parent === undefined ? undefined : spans.get(ctx.parent);
      const active = parent === undefined ? context.active() : trace.setSpan(context.active(), parent.span);
      const span: unknown = tracer.startSpan(ctx.command, { kind: SpanKind.CLIENT, attributes }, active);
      if (!isSpan(span)) throw new TypeError('the tracer returned no span');
      spans.set(ctx, { span, start: performance.now() });
    }),
    asyncEnd: guarded('ending a span', (ctx: CommandTraceContext) => {
      const entry = spans.get(ctx);
      if (entry === undefined) return; // started before we subscribed
      spans.delete(ctx);
      const attributes: Attributes = {
        'db.system.name': 'redis',
        'db.operation.name': ctx.command,
        'db.namespace': String(ctx.database),
      };
      serverAttributes(ctx.node, attributes);
      const { span } = entry;
      const error = ctx.error;
      if (error !== undefined) attributes['error.type'] = error.name;
      // The operation is the caller's command: its parts would count it again. Recorded first: a span that throws
      // must not cost the metric (nor the metric the span: endSpan below runs whatever record did).
      if (ctx.parent === undefined) recordDuration((performance.now() - entry.start) / 1000, attributes);
      endSpan(span, attributes, error);
    }),
  };
  const recordDuration = guarded('recording a duration', (seconds: number, attributes: Attributes) => duration.record(seconds, attributes));
  const endSpan = (span: Span, attributes: Attributes, error: Error | undefined) => {
    try {
      if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
      span.setAttributes(attributes);
    } finally {
      span.end(); // even when the attributes were refused: a span never ended is a leak in the SDK's processors
    }
  };
  commandChannel.subscribe(handlers as never);

  // Connection counts: a connection counts from its handshake until it is lost or closed.
  const open = new Set<number>();
  const attributesOf = (event: ConnectionEvent): Attributes => {
    const attributes: Attributes = { 'db.system.name': 'redis' };
    serverAttributes(event.node, attributes);
    return attributes;
  };
  const onReady = guarded('counting a connection', (message: unknown) => {
    const event = message as ConnectionEvent;
    if (open.has(event.connection)) return;
    connections.add(1, attributesOf(event));
    open.add(event.connection); // once counted: an add(1) that threw is not counted out at its close
  });
  const onGone = guarded('counting a connection', (message: unknown) => {
    const event = message as ConnectionEvent;
    if (!open.delete(event.connection)) return;
    connections.add(-1, attributesOf(event));
  });
  readyChannel.subscribe(onReady);
  connectionLostChannel.subscribe(onGone);
  closeChannel.subscribe(onGone);

  let enabled = true;
  return {
    disable() {
      if (!enabled) return;
      enabled = false;
      commandChannel.unsubscribe(handlers as never);
      readyChannel.unsubscribe(onReady);
      connectionLostChannel.unsubscribe(onGone);
      closeChannel.unsubscribe(onGone);
    },
  };
}
