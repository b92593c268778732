import { expect } from 'chai';
import type http from 'node:http';
import { createHttpHandler, HttpExternalTaskClient } from '../../lib/http/index.js';
import { listen, type RunningServer } from '../http/transports.js';
import { listDefects, tryParameter, type Transport } from './case-runner.js';
import { workerCases } from './worker-cases.js';

const silentLogger = { error: () => undefined, warn: () => undefined };

describe('bad input: the worker operations of HttpExternalTaskClient', () => {
  let running: RunningServer;
  /** The handler of the bed being tried: one server serves every bed in turn. */
  let current: http.RequestListener = (_request, response) => response.writeHead(503).end();
  let sent = 0;

  before(async () => {
    running = await listen((request, response) => current(request, response));
  });

  after(() => running.close());

  /** A client without a token of its own: the identity of each call is the only one it sends. */
  const overHttp: Transport = {
    connect(api) {
      current = createHttpHandler(api, { logger: silentLogger });
      sent = 0;
      const service = new HttpExternalTaskClient({
        baseUrl: `${running.origin}/api/external_task/v1`,
        fetch: (input, init) => {
          sent++;
          return fetch(input, init);
        },
      });
      return { service, requests: () => sent };
    },
  };

  for (const parameter of workerCases('HttpExternalTaskClient operations')) {
    it(`${parameter.label}: each hostile value refused naming it before a request, or accepted as documented`, async () => {
      const defects = await tryParameter(parameter, overHttp);
      expect(defects, listDefects(defects)).to.deep.equal([]);
    });
  }
});
