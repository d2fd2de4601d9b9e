#!/usr/bin/env node
// Codec microbenchmarks: encode and decode throughput for typical traffic, so a
// hot-path change can be judged without a server. Run after a build:
//   npm run build && node bench/codec.mjs
import { performance } from 'node:perf_hooks';
import { Decoder } from '../dist/resp/decoder.js';
import { Encoder } from '../dist/resp/encoder.js';

function time(label, ops, fn) {
  fn(); // warm up
  const t0 = performance.now();
  fn();
  const ms = performance.now() - t0;
  console.log(`${label.padEnd(44)} ${(ops / (ms / 1000) / 1e6).toFixed(2).padStart(7)} M ops/s  ${((ms * 1e6) / ops).toFixed(0).padStart(5)} ns/op`);
}

const N = 500_000;
const enc = new Encoder();
time('encode GET key:12345', N, () => {
  for (let i = 0; i < N; i++) {
    enc.encode('GET', ['key:12345']);
    if ((i & 1023) === 0) enc.take();
  }
  enc.take();
});
const v100 = 'x'.repeat(100);
time('encode SET key:12345 <100 B string>', N, () => {
  for (let i = 0; i < N; i++) {
    enc.encode('SET', ['key:12345', v100]);
    if ((i & 1023) === 0) enc.take();
  }
  enc.take();
});
time('encode HSET k f 12345 (number)', N, () => {
  for (let i = 0; i < N; i++) {
    enc.encode('HSET', ['k', 'f', i]);
    if ((i & 1023) === 0) enc.take();
  }
  enc.take();
});

function decodeBench(label, frame, count) {
  const one = Buffer.from(frame);
  const chunk = Buffer.concat(Array.from({ length: 1000 }, () => one));
  let n = 0;
  const d = new Decoder({ replyFlags: () => 0, onReply: () => n++, onPush() {} });
  time(label, count, () => {
    for (let i = 0; i < count / 1000; i++) d.feed(chunk);
  });
  if (n === 0) throw new Error('decoded nothing');
}
decodeBench('decode +OK', '+OK\r\n', N);
decodeBench('decode $16 bulk string', '$16\r\n0123456789abcdef\r\n', N);
decodeBench('decode :integer', ':1234567\r\n', N);
decodeBench('decode *3 array of bulk strings', '*3\r\n$3\r\nfoo\r\n$3\r\nbar\r\n$3\r\nbaz\r\n', N);
decodeBench('decode %2 map (HGETALL-like)', '%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n', N);
