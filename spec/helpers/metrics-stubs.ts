/**
 * Loopback stand-ins for metrics destinations: a CloudWatch HTTP endpoint that records every
 * PutMetricData call (as the SDK v3 client sends it: AWS JSON 1.0, gzip above 10 KiB), and a UDP
 * listener that records DogStatsD lines. Every test that starts one closes it.
 */
import dgram from 'node:dgram';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';

/** One datum as it arrived at the stub (JSON 1.0: Timestamp in epoch seconds). */
export interface ReceivedDatum {
  MetricName: string;
  Dimensions?: { Name: string; Value: string }[];
  StatisticValues?: { SampleCount: number; Sum: number; Minimum: number; Maximum: number };
  Unit?: string;
  Timestamp?: number;
}

/** One PutMetricData call as the stub received it. */
export interface PutMetricDataCall {
  readonly target: string;
  /** Bytes on the wire (compressed if the SDK compressed it). */
  readonly wireBytes: number;
  /** Bytes of the JSON body after decompression. */
  readonly bodyBytes: number;
  readonly contentEncoding: string | undefined;
  readonly Namespace: string;
  readonly MetricData: ReceivedDatum[];
}

/** How the stub answers: `ok`, an HTTP 500 `InternalServiceError`, or a socket reset. */
export type CloudWatchStubMode = 'ok' | 'error' | 'reset';

export interface CloudWatchStub {
  readonly url: string;
  /** Successful (answered 200) PutMetricData calls, in arrival order. */
  readonly calls: PutMetricDataCall[];
  /** Every request that arrived, answered or not. */
  readonly requests: () => number;
  setMode(mode: CloudWatchStubMode): void;
  /** A real SDK client pointed at the stub: fixed credentials, one attempt (no SDK retries). */
  client(): CloudWatchClient;
  close(): Promise<void>;
}

/** Starts the CloudWatch stub on 127.0.0.1 (a free port). */
export async function startCloudWatchStub(): Promise<CloudWatchStub> {
  const calls: PutMetricDataCall[] = [];
  let requests = 0;
  let mode: CloudWatchStubMode = 'ok';
  const sockets = new Set<Socket>();
  const clients: CloudWatchClient[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests++;
      if (mode === 'reset') {
        req.socket.destroy();
        return;
      }
      if (mode === 'error') {
        res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ __type: 'InternalServiceError', message: 'stub says no' }));
        return;
      }
      const wire = Buffer.concat(chunks);
      const encoding = req.headers['content-encoding'];
      const body = encoding === 'gzip' ? gunzipSync(wire) : wire;
      const input = JSON.parse(body.toString('utf8')) as { Namespace: string; MetricData: ReceivedDatum[] };
      calls.push({
        target: String(req.headers['x-amz-target']),
        wireBytes: wire.length,
        bodyBytes: body.length,
        contentEncoding: encoding,
        Namespace: input.Namespace,
        MetricData: input.MetricData,
      });
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      res.end('{}');
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    calls,
    requests: () => requests,
    setMode: (m) => {
      mode = m;
    },
    client: () => {
      const client = new CloudWatchClient({
        region: 'us-east-1',
        endpoint: url,
        credentials: { accessKeyId: 'AKIDLOCALSTUB', secretAccessKey: 'local' },
        maxAttempts: 1,
      });
      clients.push(client);
      return client;
    },
    close: async () => {
      for (const c of clients) c.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A UDP listener on 127.0.0.1 that keeps every StatsD line it receives. */
export interface StatsDListener {
  readonly port: number;
  readonly lines: string[];
  /** Resolves once `predicate(lines)` holds (checked on each packet), or rejects after `timeoutMs`. */
  waitFor(predicate: (lines: readonly string[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startStatsDListener(): Promise<StatsDListener> {
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg) => {
    for (const line of msg.toString('utf8').split('\n')) if (line.length > 0) lines.push(line);
    for (const w of [...waiters]) w();
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = socket.address().port;
  return {
    port,
    lines,
    waitFor: (predicate, timeoutMs = 3000) =>
      new Promise<void>((resolve, reject) => {
        if (predicate(lines)) return resolve();
        const check = (): void => {
          if (!predicate(lines)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`StatsD lines did not arrive within ${timeoutMs} ms; got ${lines.length}: ${lines.slice(0, 5).join(' | ')}`));
        }, timeoutMs);
        waiters.add(check);
      }),
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/** A UDP port on 127.0.0.1 with nothing listening (bound, then released). */
export async function deadUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = socket.address().port;
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}
