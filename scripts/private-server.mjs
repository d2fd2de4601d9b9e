// A private redis-server for the generators (gen-commands.mjs, gen-types.mjs):
// the benchmark's (bench/server.mjs: a free loopback port, no persistence,
// stopped with its directory removed), asked over a fresh connection per
// question (HELLO 3 first, so replies have their RESP3 shapes).
import net from 'node:net';
import { startServer } from '../bench/server.mjs';
import { Decoder } from '../dist/resp/decoder.js';
import { encodeCommand } from '../dist/resp/encoder.js';

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
  const server = await startServer(); // returns once it accepts connections
  try {
    return await use((parts) => command(server.port, parts));
  } finally {
    server.stop();
  }
}
