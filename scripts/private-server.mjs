// A private redis-server for the generators (gen-commands.mjs, gen-types.mjs):
// started on a free loopback port with no persistence, asked over a fresh
// connection per question (HELLO 3 first, so replies have their RESP3 shapes),
// and stopped with its directory removed.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Decoder } from '../dist/resp/decoder.js';
import { encodeCommand } from '../dist/resp/encoder.js';

async function freePort() {
  for (;;) {
    const srv = net.createServer();
    await new Promise((r) => srv.listen(0, '127.0.0.1', r));
    const { port } = srv.address();
    await new Promise((r) => srv.close(r));
    if (port !== 6379) return port;
  }
}

/** Send HELLO 3 and one command on a fresh connection; resolve with the command's reply. */
function command(port, parts) {
  const socket = net.connect(port, '127.0.0.1');
  return new Promise((resolve, reject) => {
    const replies = [];
    const decoder = new Decoder({
      replyFlags: () => 0,
      onPush() {},
      onReply(value) {
        replies.push(value);
        if (replies.length === 2) {
          socket.end();
          resolve(value);
        }
      },
    });
    socket.on('data', (chunk) => decoder.feed(chunk));
    socket.on('error', reject);
    socket.write(Buffer.concat([encodeCommand(['HELLO', '3']), encodeCommand(parts)]));
  });
}

/**
 * Run `use(ask)` against a private redis-server (from PATH); `ask(parts)`
 * resolves with the reply to one command. The server is stopped afterwards,
 * whatever happens.
 */
export async function withPrivateServer(use) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'redmux-gen-'));
  const port = await freePort();
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  try {
    // Wait for it to answer (up to 5 s).
    for (let i = 0; ; i++) {
      try {
        await command(port, ['PING']);
        break;
      } catch (err) {
        if (i >= 50) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    return await use((parts) => command(port, parts));
  } finally {
    server.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}
