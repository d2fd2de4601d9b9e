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
    start(ctx: CommandTraceContext) {
      const attributes: Attributes = {
        'db.system.name': 'redis',
        'db.operation.name': ctx.command,
        'db.namespace': String(ctx.database),
      };
      // A part of a split or fanned-out command is a child of its caller's command's span.
      const parent = ctx.parent === undefined ? undefined : spans.get(ctx.parent);
      const active = parent === undefined ? context.active() : trace.setSpan(context.active(), parent.span);
      const span = tracer.startSpan(ctx.command, { kind: SpanKind.CLIENT, attributes }, active);
      spans.set(ctx, { span, start: performance.now() });
    },
    asyncEnd(ctx: CommandTraceContext) {
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
      if (error !== undefined) {
        attributes['error.type'] = error.name;
        span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
      }
      span.setAttributes(attributes);
      span.end();
      // The operation is the caller's command: its parts would count it again.
      if (ctx.parent === undefined) duration.record((performance.now() - entry.start) / 1000, attributes);
    },
  };
  commandChannel.subscribe(handlers as never);

  // Connection counts: a connection counts from its handshake until it is lost or closed.
  const open = new Set<number>();
  const attributesOf = (event: ConnectionEvent): Attributes => {
    const attributes: Attributes = { 'db.system.name': 'redis' };
    serverAttributes(event.node, attributes);
    return attributes;
  };
  const onReady = (message: unknown) => {
    const event = message as ConnectionEvent;
    if (open.has(event.connection)) return;
    open.add(event.connection);
    connections.add(1, attributesOf(event));
  };
  const onGone = (message: unknown) => {
    const event = message as ConnectionEvent;
    if (!open.delete(event.connection)) return;
    connections.add(-1, attributesOf(event));
  };
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
