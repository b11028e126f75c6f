import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One scripted answer. Without `status` the answer is 200. */
export interface ScriptStep {
  status?: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string is sent as is. */
  body?: unknown;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Never answer (the socket stays open until the client gives up or the server closes). */
  hang?: boolean;
  /** Send the headers, then hang without sending the body. */
  hangBody?: boolean;
  /** Destroy the socket without answering (the client sees a reset). */
  destroy?: boolean;
  /** Announce the full Content-Length, send only this many bytes of the body, then destroy the socket. */
  truncateAt?: number;
}

export interface RecordedRequest {
  method: string;
  url: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export type Responder = (req: RecordedRequest, index: number) => ScriptStep | undefined;

export interface ScriptedServerOptions {
  /** Answers consumed one per request, in order (requests that a route answered do not consume). */
  steps?: ScriptStep[];
  /** Fixed answers by `METHOD /path` (path without query), used for every matching request. */
  routes?: Record<string, ScriptStep | Responder>;
  /** Answers requests no route matched once the queue is empty. */
  fallback?: Responder;
}

export interface ScriptedServer {
  url: string;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** Adds answers to the end of the queue. */
  push(...steps: ScriptStep[]): void;
  close(): Promise<void>;
}

function send(res: ServerResponse, step: ScriptStep): void {
  const payload = step.body === undefined ? '' : typeof step.body === 'string' ? step.body : JSON.stringify(step.body);
  const headers: Record<string, string> = {
    ...(typeof step.body === 'object' && step.body !== null ? { 'content-type': 'application/json' } : {}),
    'content-length': String(Buffer.byteLength(payload)),
    ...step.headers,
  };
  res.writeHead(step.status ?? 200, headers);
  if (step.hangBody) {
    res.flushHeaders();
    return;
  }
  if (step.truncateAt !== undefined) {
    res.write(Buffer.from(payload).subarray(0, step.truncateAt), () => res.socket?.destroy());
    return;
  }
  res.end(payload);
}

/**
 * A node:http server on port 0 that answers from a script: status sequences, Retry-After headers,
 * delays, hangs, dropped sockets and broken bodies, for the cases a real server will not produce
 * on demand. Unscripted requests get a 599 so a test sees the gap.
 */
export async function startScriptedServer(options: ScriptedServerOptions = {}): Promise<ScriptedServer> {
  const queue = [...(options.steps ?? [])];
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '/';
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        url,
        path: url.split('?')[0] ?? url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      const index = requests.push(recorded) - 1;
      const route = options.routes?.[`${recorded.method} ${recorded.path}`];
      const step = (typeof route === 'function' ? route(recorded, index) : route) ??
        queue.shift() ??
        options.fallback?.(recorded, index) ?? { status: 599, body: { detail: 'script exhausted' } };
      if (step.destroy) {
        req.socket.destroy();
        return;
      }
      if (step.hang) return;
      if (step.delayMs) setTimeout(() => send(res, step), step.delayMs);
      else send(res, step);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    push: (...steps) => queue.push(...steps),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
