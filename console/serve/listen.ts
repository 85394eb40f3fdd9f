import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Where a server listens, and its URL (an IPv6 address in brackets). */
export interface Listening {
  readonly host: string;
  readonly port: number;
  readonly url: string;
}

/** Starts `server` on `port` and `host` (0 for a free port); rejects if it cannot bind. The query API and the prediction port both start this way. */
export function listenOn(server: Server, port: number, host: string): Promise<Listening> {
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const a = server.address() as AddressInfo;
      const shown = a.family === 'IPv6' ? `[${a.address}]` : a.address;
      resolvePromise({ host: a.address, port: a.port, url: `http://${shown}:${a.port}` });
    });
  });
}
