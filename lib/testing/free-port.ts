/** Loopback port helpers for starting servers that cannot report the port they bound. */
import net from 'node:net';

/**
 * A TCP port that was free a moment ago on every interface (bind port 0, read it, release it).
 * Another process may take it in between; callers that spawn a server retry on failure.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once `host:port` accepts a TCP connection; rejects after `timeoutMs` or when `abort()` is true. */
export async function waitForPort(host: string, port: number, timeoutMs: number, abort: () => string | undefined): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const reason = abort();
    if (reason !== undefined) throw new Error(reason);
    const connected = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (connected) return;
    if (performance.now() > deadline) throw new Error(`nothing accepted connections on ${host}:${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
