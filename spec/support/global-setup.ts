import { ensureRedisInstalled } from './redis-server.js';

/** Runs once before all spec files: make sure redis-server exists (installs it on a fresh Debian machine). */
export default function setup(): void {
  ensureRedisInstalled();
}
