/**
 * `redmux/otel` against the OpenTelemetry SDK's in-memory exporters: one
 * CLIENT span per command with the database semantic conventions, error
 * status, the operation duration histogram and the connection count.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it } from 'vitest';
import { instrument, type Instrumentation } from '../lib/otel.js';
import { useCluster } from './support/real-cluster.js';
import { useRealServer } from './support/real-server.js';

const env = useRealServer();

function setup() {
  const spans = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: spans })] });
  const metricsOut = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter: metricsOut, exportIntervalMillis: 60_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const instrumentation = instrument({ tracerProvider, meterProvider });
  active.push(instrumentation);
  const metric = async (name: string) => {
    await reader.forceFlush();
    const batches = metricsOut.getMetrics();
    const last = batches[batches.length - 1];
    return last?.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
  };
  return { spans, metric, instrumentation };
}

const active: Instrumentation[] = [];
afterEach(() => {
  for (const i of active.splice(0)) i.disable();
});

describe('redmux/otel', () => {
  it('one CLIENT span per command, with the database conventions and no values', async () => {
    const { spans } = setup();
    const redis = env.client();
    await redis.database(3).reply('SET', 'otel:key-secret', 'value-secret');
    await redis.database(3).reply('GET', 'otel:key-secret');
    const done = spans.getFinishedSpans();
    expect(done.map((s) => s.name)).toEqual(['SET', 'GET']);
    const span = done[0]!;
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.attributes).toEqual({
      'db.system.name': 'redis',
      'db.operation.name': 'SET',
      'db.namespace': '3',
      'server.address': '127.0.0.1',
      'server.port': env.server.port,
    });
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(JSON.stringify(done.map((s) => [s.attributes, s.events]))).not.toMatch(/secret/);
  });

  it('a failed command ends its span with ERROR status and error.type', async () => {
    const { spans } = setup();
    const redis = env.client();
    await redis.db.reply('SET', 'otel:str', 'x');
    await redis.db.reply('LPUSH', 'otel:str', 'y').catch(() => {});
    const failed = spans.getFinishedSpans().find((s) => s.name === 'LPUSH')!;
    expect(failed.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed.attributes['error.type']).toBe('WrongTypeError');
  });

  it('records the operation duration histogram and the open connection count', async () => {
    const { metric } = setup();
    const redis = env.client();
    await Promise.all(Array.from({ length: 10 }, () => redis.db.reply('PING')));
    const durations = await metric('db.client.operation.duration');
    expect(durations?.descriptor.unit).toBe('s');
    const point = durations!.dataPoints.find((p) => p.attributes['db.operation.name'] === 'PING')!;
    expect((point.value as { count: number }).count).toBe(10);
    expect(point.attributes).toMatchObject({ 'db.system.name': 'redis', 'server.port': env.server.port });
    const open = async () => (await metric('db.client.connection.count'))?.dataPoints.reduce((n, p) => n + (p.value as number), 0);
    expect(await open()).toBe(1);
    await redis.close();
    expect(await open()).toBe(0);
  });

  it('disable() stops it', async () => {
    const { spans, instrumentation } = setup();
    const redis = env.client();
    await redis.db.reply('PING');
    instrumentation.disable();
    await redis.db.reply('PING');
    expect(spans.getFinishedSpans()).toHaveLength(1);
  });

  it('loads from the CommonJS build too', async () => {
    const cjs = path.resolve(__dirname, '..', 'dist', 'cjs', 'otel.js');
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['-e', `const { instrument } = require(${JSON.stringify(cjs)}); instrument().disable(); console.log('ok')`], (err, stdout, stderr) =>
        err ? reject(new Error(stderr)) : resolve(stdout),
      ),
    );
    expect(out.trim()).toBe('ok');
  });
});

describe('redmux/otel in a cluster', () => {
  const { cluster, client } = useCluster();

  it("a split command is one span without a server; its parts are child spans with their node's; one duration point", async () => {
    const { spans, metric } = setup();
    const redis = client();
    await redis.db.reply('PING');
    spans.reset();
    const keys = Array.from({ length: 12 }, (_, i) => `otel:split:${i}`);
    await redis.db.reply('MGET', ...keys);
    const done = spans.getFinishedSpans();
    const caller = done.filter((s) => s.parentSpanContext === undefined);
    expect(caller).toHaveLength(1);
    expect(caller[0]!.attributes).toEqual({ 'db.system.name': 'redis', 'db.operation.name': 'MGET', 'db.namespace': '0' });
    const parts = done.filter((s) => s.parentSpanContext !== undefined);
    expect(parts.length).toBeGreaterThan(1);
    const ports = new Set(cluster.masters().map((m) => m.port));
    for (const part of parts) {
      expect(part.name).toBe('MGET');
      expect(part.parentSpanContext!.spanId).toBe(caller[0]!.spanContext().spanId);
      expect(part.attributes['server.address']).toBe('127.0.0.1');
      expect(ports.has(part.attributes['server.port'] as number)).toBe(true);
    }
    const points = (await metric('db.client.operation.duration'))!.dataPoints.filter((p) => p.attributes['db.operation.name'] === 'MGET');
    expect(points.reduce((n, p) => n + (p.value as { count: number }).count, 0)).toBe(1);
  });
});
