import { connect, type Socket } from 'node:net';

/**
 * A load generator's HTTP/1.1 client: one keep-alive TCP connection, one
 * request in flight at a time, the request's bytes built once. It parses
 * only what it must (status line, Content-Length, the body), the way wrk or
 * autocannon do, so the client costs a small part of the CPU the server
 * under test needs on the same cores: node:http's client costs about as
 * much per request as the server it measures.
 */
export class KeepAliveConnection {
  readonly #host: string;
  readonly #port: number;
  readonly #request: Buffer;
  #socket: Socket | null = null;
  #buffer: Buffer = Buffer.alloc(0);
  #pending: { resolve: (r: HttpAnswer) => void; reject: (e: Error) => void } | null = null;

  constructor(url: string, method: string, body: string, headers: Record<string, string> = {}) {
    const u = new URL(url);
    this.#host = u.hostname;
    this.#port = Number(u.port);
    const payload = Buffer.from(body, 'utf8');
    const lines = [`${method} ${u.pathname}${u.search} HTTP/1.1`, `Host: ${u.host}`, 'Connection: keep-alive', `Content-Length: ${payload.length}`];
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    this.#request = Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), payload]);
  }

  /** Sends the request once and resolves with the status and body; a refused or closed connection rejects. */
  send(): Promise<HttpAnswer> {
    if (this.#pending) return Promise.reject(new Error('one request at a time per connection'));
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject };
      this.#connected().write(this.#request);
    });
  }

  close(): void {
    this.#socket?.destroy();
    this.#socket = null;
  }

  #connected(): Socket {
    if (this.#socket) return this.#socket;
    const s = connect({ host: this.#host, port: this.#port, noDelay: true });
    s.on('data', (chunk: Buffer) => this.#data(chunk));
    const fail = (e: Error) => {
      if (this.#socket === s) this.#socket = null;
      this.#buffer = Buffer.alloc(0);
      const p = this.#pending;
      this.#pending = null;
      p?.reject(e);
    };
    s.on('error', fail);
    s.on('close', () => fail(new Error(`${this.#host}:${this.#port} closed the connection`)));
    this.#socket = s;
    return s;
  }

  #data(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const end = this.#buffer.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = this.#buffer.subarray(0, end).toString('latin1');
    const status = Number(head.slice(9, 12));
    const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (!m) {
      // Both servers measured answer with a Content-Length; anything else is not what this client reads.
      this.#pending?.reject(new Error(`an answer without Content-Length: ${head.slice(0, 300)}`));
      this.#pending = null;
      this.close();
      return;
    }
    const length = Number(m[1]);
    if (this.#buffer.length < end + 4 + length) return;
    const body = this.#buffer.subarray(end + 4, end + 4 + length);
    this.#buffer = this.#buffer.subarray(end + 4 + length);
    const p = this.#pending;
    this.#pending = null;
    p?.resolve({ status, body });
    // A server that says it closes is reconnected to on the next send.
    if (/\r\nconnection:\s*close/i.test(head)) this.close();
  }
}

export interface HttpAnswer {
  readonly status: number;
  readonly body: Buffer;
}
