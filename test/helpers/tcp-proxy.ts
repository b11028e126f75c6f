import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpProxy {
  /** `http://127.0.0.1:<port>`: the same server as the target, reached through another address. */
  url: string;
  close(): Promise<void>;
}

/**
 * A byte-for-byte TCP forwarder to `targetUrl` on a free port: the simulator seen at a second
 * address, as a second Concur data center (knob relocateTo). A function as target is asked on
 * each connection: the proxy's address can then be known (and trusted) before the target runs.
 */
export async function startTcpProxy(targetUrl: string | (() => string)): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    const target = new URL(typeof targetUrl === 'string' ? targetUrl : targetUrl());
    const outbound = connect(Number(target.port), target.hostname);
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
      s.on('error', () => {
        inbound.destroy();
        outbound.destroy();
      });
    }
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
