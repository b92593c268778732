import express from 'express';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  ExternalTaskApi,
  InMemoryExternalTaskRepository,
  type AccessPolicy,
  type ExternalTaskService,
  type Logger,
} from '../../lib/index.js';
import {
  createHttpHandler,
  HttpExternalTaskClient,
  type HttpHandlerOptions,
  type HttpRequestListener,
} from '../../lib/http/index.js';
import { silentLogger } from '../worker/worker-fixtures.js';

/** One stack under test: the service a worker talks to, and the engine's side of it. */
export interface TransportBed {
  /** What the worker calls: the api itself, or a client of it over HTTP. */
  readonly service: ExternalTaskService;
  readonly api: ExternalTaskApi;
  readonly repository: InMemoryExternalTaskRepository;
  /** Closes the server (if any), its connections and the api. */
  close(): Promise<void>;
}

/** What a stack is built from. */
export interface TransportOptions {
  readonly accessPolicy?: AccessPolicy;
  readonly handler?: HttpHandlerOptions;
  /** The logger of the store, the api and the handler (default: one that keeps quiet). */
  readonly logger?: Logger;
}

/** A way for a worker to reach the api. */
export interface Transport {
  readonly name: string;
  start(options?: TransportOptions): Promise<TransportBed>;
}

function engine(options: TransportOptions): {
  api: ExternalTaskApi;
  repository: InMemoryExternalTaskRepository;
} {
  const logger: Logger = options.logger ?? silentLogger();
  const repository = new InMemoryExternalTaskRepository({ logger });
  const api = new ExternalTaskApi({
    repository,
    logger,
    ...(options.accessPolicy && { accessPolicy: options.accessPolicy }),
  });
  return { api, repository };
}

/** A server on 127.0.0.1 at a random port, serving `listener`. */
export interface RunningServer {
  readonly server: http.Server;
  readonly origin: string;
  /** Every connection the server accepted so far. */
  readonly connections: Socket[];
  close(): Promise<void>;
}

/** Starts `listener` on 127.0.0.1 at a random port. */
export async function listen(listener: http.RequestListener): Promise<RunningServer> {
  const server = http.createServer(listener);
  const connections: Socket[] = [];
  server.on('connection', (socket) => connections.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    origin: `http://127.0.0.1:${port}`,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function overHttp(name: string, mount: (handler: HttpRequestListener) => http.RequestListener): Transport {
  return {
    name,
    async start(options = {}) {
      const { api, repository } = engine(options);
      const running = await listen(
        mount(
          createHttpHandler(api, {
            logger: options.logger ?? silentLogger(),
            allowAnyToken: true,
            ...options.handler,
          }),
        ),
      );
      const service = new HttpExternalTaskClient({ baseUrl: `${running.origin}/api/external_task/v1` });
      return {
        service,
        api,
        repository,
        close: async () => {
          await running.close();
          await api.close();
        },
      };
    },
  };
}

/** The worker calls the api in its own process. */
export const inProcess: Transport = {
  name: 'in process',
  start(options = {}) {
    const { api, repository } = engine(options);
    return Promise.resolve({ service: api, api, repository, close: () => api.close() });
  },
};

/** The worker calls an {@link HttpExternalTaskClient} of a node:http server mounting the handler. */
export const overNodeHttp = overHttp('over HTTP (node:http)', (handler) => handler);

/** The same, with the handler mounted in an Express app behind a route of the app's own. */
export const overExpress = overHttp('over HTTP (Express)', (handler) => {
  const app = express();
  app.get('/health', (_req, res) => {
    res.json({ ok: true });
  });
  app.use(handler);
  return app;
});

/**
 * Posts to `url`, with `headers` beside its JSON content type, a chunked body that `write` starts and
 * never finishes; answers what the server said (and then drops the request).
 */
export function rawRequest(
  url: string,
  write: (request: http.ClientRequest) => void,
  headers: Readonly<Record<string, string>> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: unknown }> {
  const { port, pathname } = new URL(url);
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: pathname,
        headers: { 'content-type': 'application/json', ...headers },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          request.destroy();
          resolve({
            status: response.statusCode!,
            headers: response.headers,
            body: text === '' ? undefined : JSON.parse(text),
          });
        });
      },
    );
    request.on('error', reject);
    write(request);
  });
}
