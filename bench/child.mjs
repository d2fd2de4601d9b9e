// A measurement in a fresh process: run `node <argv>`, whose last line of
// output is one JSON object, and resolve with it; if the child fails, say
// why on stderr (`label failed: <its first error line>`) and resolve undefined,
// so that one failing client does not end a long run.
import { spawn } from 'node:child_process';

export function runJson(argv, label, env = process.env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => {
      if (code !== 0) {
        const why = err.split('\n').find((l) => /Error|error/.test(l)) ?? err.split('\n')[0];
        process.stderr.write(`  ${label} failed: ${why}\n`);
        resolve(undefined);
      } else resolve(JSON.parse(out.trim().split('\n').pop()));
    });
  });
}
