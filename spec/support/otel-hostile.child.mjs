// Run by spec/otel-hostile-providers.spec.ts in a process of its own, so that an
// uncaught exception (what a throwing diagnostics_channel subscriber becomes)
// is counted here instead of failing the test runner. redmux/otel is given
// providers that misbehave the ways real ones do: a span processor that
// throws, a tracer that returns no span, spans whose methods throw, a
// histogram that throws. Prints a JSON summary.
import { createRequire } from 'node:module';
import { Redis } from '../../dist/index.js';
import { instrument } from '../../dist/otel.js';

const require = createRequire(import.meta.url);
const { diag, DiagLogLevel } = require('@opentelemetry/api');
const { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } = require('@opentelemetry/sdk-trace');

const uncaught = [];
process.on('uncaughtException', (err) => uncaught.push(String(err && err.message)));
const reported = [];
diag.setLogger({ error: (...a) => reported.push(a.map(String).join(' ')), warn() {}, info() {}, debug() {}, verbose() {} }, DiagLogLevel.ERROR);

const boom = (where) => () => {
  throw new Error(`provider bug (${where})`);
};
const exporter = new InMemorySpanExporter();
const healthy = new SimpleSpanProcessor({ exporter });
const processor = (onStart, onEnd) => ({ onStart, onEnd, forceFlush: async () => {}, shutdown: async () => {} });
const noMeter = { getMeter: () => ({ createHistogram: () => ({ record() {} }), createUpDownCounter: () => ({ add() {} }) }) };
const cases = {
  'onEnd throws': { tracerProvider: new TracerProvider({ spanProcessors: [healthy, processor(() => {}, boom('onEnd'))] }) },
  'onStart throws': { tracerProvider: new TracerProvider({ spanProcessors: [processor(boom('onStart'), () => {})] }) },
  'startSpan returns undefined': { tracerProvider: { getTracer: () => ({ startSpan: () => undefined }) } },
  'startSpan throws': { tracerProvider: { getTracer: () => ({ startSpan: boom('startSpan') }) } },
  'span methods throw': {
    tracerProvider: { getTracer: () => ({ startSpan: () => ({ setAttributes: boom('setAttributes'), setStatus: boom('setStatus'), end: boom('end') }) }) },
  },
  'record and add throw': {
    tracerProvider: new TracerProvider({ spanProcessors: [healthy] }),
    meterProvider: { getMeter: () => ({ createHistogram: () => ({ record: boom('record') }), createUpDownCounter: () => ({ add: boom('add') }) }) },
  },
};

const url = process.argv[2];
const results = {};
for (const [name, providers] of Object.entries(cases)) {
  const instrumentation = instrument({ meterProvider: noMeter, ...providers });
  const redis = new Redis(url);
  const settle = (p) => p.then((v) => v, (e) => e.name);
  const replies = [];
  replies.push(await settle(redis.db.reply('SET', 'otel:hostile', 'v')));
  replies.push(await settle(redis.db.reply('GET', 'otel:hostile')));
  replies.push(await settle(redis.db.reply('LPUSH', 'otel:hostile', 'x')));
  await redis.close();
  instrumentation.disable();
  await new Promise((r) => setImmediate(r)); // a subscriber's throw surfaces on the next tick
  results[name] = replies;
}
await new Promise((r) => setTimeout(r, 20));
console.log(JSON.stringify({ uncaught, reported: reported.length, results, healthySpans: exporter.getFinishedSpans().map((s) => s.name) }));
