/**
 * The Kinesis client rxkpl recommends: HTTP/1.1 with keep-alive, a hard request timeout, and no SDK
 * retries. It replaces the KPL's own libcurl/AWS-SDK-C++ HTTP client setup (kpl.md §1:
 * `MaxConnections` 24, `RequestTimeout` 6000, `ConnectTimeout` 6000).
 *
 * Why HTTP/1.1: the SDK v3 default (`NodeHttp2Handler`) fails against kinesalite on every call and
 * against kinesis-local intermittently (node-testing.md §1, "The SDK v3 HTTP/2 problem").
 * Why `maxAttempts: 1`: the library's Retrier (`retryClassify`) owns retries; SDK retries would
 * hide failures from it and multiply the load during throttling (kpl.md §8).
 * Why `throwOnRequestTimeout: true`: without it @smithy/node-http-handler 4.x only logs a warning
 * when `requestTimeout` passes and the request hangs on (checked in its `setRequestTimeout`).
 */
import http from 'node:http';
import https from 'node:https';
import { KinesisClient, type KinesisClientConfig } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { ValidationError } from '../config';

/** Options of {@link createKinesisClient}. All optional. */
export interface KinesisClientOptions {
  /** AWS region. Default: `AWS_REGION`, else `AWS_DEFAULT_REGION`, else `'us-east-1'`. */
  region?: string;
  /** Endpoint URL, e.g. `'http://127.0.0.1:4567'` for a local Kinesis. Default: the region's AWS endpoint. */
  endpoint?: string;
  /** Credentials or a credential provider, as the SDK takes them. Default: the SDK's default chain. */
  credentials?: KinesisClientConfig['credentials'];
  /** Sockets per origin (the KPL's `MaxConnections`). Default 64, 1 … 65536. */
  maxSockets?: number;
  /** A request fails with `TimeoutError` after this many ms without a full answer. Default 6000, 1 … 3600000. */
  requestTimeoutMs?: number;
  /** A connection attempt fails after this many ms. Default 6000, 1 … 3600000. */
  connectTimeoutMs?: number;
}

/** The defaults {@link createKinesisClient} fills in (region aside, which comes from the environment). */
export const KINESIS_CLIENT_DEFAULTS = Object.freeze({
  maxSockets: 64,
  requestTimeoutMs: 6000,
  connectTimeoutMs: 6000,
});

const KNOWN_FIELDS: readonly string[] = [
  'region',
  'endpoint',
  'credentials',
  'maxSockets',
  'requestTimeoutMs',
  'connectTimeoutMs',
];

function checkInteger(field: string, value: unknown, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(field, value, `an integer ${min} … ${max}`);
  }
  return value;
}

function checkEndpoint(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const allowed = 'an http:// or https:// URL';
  if (typeof value !== 'string') throw new ValidationError('endpoint', value, allowed);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ValidationError('endpoint', value, allowed);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ValidationError('endpoint', value, allowed);
  return value;
}

function defaultRegion(): string {
  const fromEnv = process.env['AWS_REGION'] || process.env['AWS_DEFAULT_REGION'];
  return fromEnv && fromEnv.length > 0 ? fromEnv : 'us-east-1';
}

/**
 * Creates a `KinesisClient` that speaks HTTP/1.1 over a keep-alive agent, fails a request after
 * `requestTimeoutMs`, and never retries by itself (`maxAttempts: 1`).
 *
 * ```text
 * client.send(PutRecords) ──► answer within requestTimeoutMs ──► resolves
 *                        └──► no answer by requestTimeoutMs ──► rejects (name 'TimeoutError'), socket destroyed
 * ```
 *
 * - The client holds sockets: call `client.destroy()` when done, or the process keeps running
 *   until the keep-alive sockets time out.
 * - Pass your own `KinesisClient` to the producer instead if you need other settings; this one is
 *   only a good default.
 *
 * @example
 * const client = createKinesisClient({ endpoint: 'http://127.0.0.1:4567', region: 'us-east-1' });
 *
 * @param options - region, endpoint, credentials and connection limits; see {@link KinesisClientOptions}.
 * @returns a new `KinesisClient`.
 * @throws ValidationError naming the first bad option, its value and what is allowed.
 */
export function createKinesisClient(options: KinesisClientOptions = {}): KinesisClient {
  if (typeof options !== 'object' || options === null) throw new ValidationError('options', options, 'an object');
  for (const key of Object.keys(options)) {
    if (!KNOWN_FIELDS.includes(key)) throw new ValidationError(key, (options as Record<string, unknown>)[key], `one of the options ${KNOWN_FIELDS.join(', ')}`);
  }
  if (options.region !== undefined && (typeof options.region !== 'string' || options.region.length === 0)) {
    throw new ValidationError('region', options.region, 'a non-empty string');
  }
  const endpoint = checkEndpoint(options.endpoint);
  if (options.credentials !== undefined && (typeof options.credentials !== 'object' || options.credentials === null) && typeof options.credentials !== 'function') {
    throw new ValidationError('credentials', options.credentials, 'an object { accessKeyId, secretAccessKey } or a credential provider function');
  }
  const maxSockets = checkInteger('maxSockets', options.maxSockets, 1, 65536) ?? KINESIS_CLIENT_DEFAULTS.maxSockets;
  const requestTimeout = checkInteger('requestTimeoutMs', options.requestTimeoutMs, 1, 3600000) ?? KINESIS_CLIENT_DEFAULTS.requestTimeoutMs;
  const connectionTimeout = checkInteger('connectTimeoutMs', options.connectTimeoutMs, 1, 3600000) ?? KINESIS_CLIENT_DEFAULTS.connectTimeoutMs;

  const requestHandler = new NodeHttpHandler({
    httpAgent: new http.Agent({ keepAlive: true, maxSockets }),
    httpsAgent: new https.Agent({ keepAlive: true, maxSockets }),
    requestTimeout,
    connectionTimeout,
    throwOnRequestTimeout: true,
  });

  const config: KinesisClientConfig = {
    region: options.region ?? defaultRegion(),
    requestHandler,
    maxAttempts: 1,
  };
  if (endpoint !== undefined) config.endpoint = endpoint;
  if (options.credentials !== undefined) config.credentials = options.credentials;
  return new KinesisClient(config);
}
