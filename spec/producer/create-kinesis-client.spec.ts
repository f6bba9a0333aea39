import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import { ValidationError } from '../../lib/config';
import { createKinesisClient } from '../../lib/producer/create-kinesis-client';

const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' };

describe('createKinesisClient', () => {
  describe('validation', () => {
    it.each([
      ['maxSockets', 0],
      ['maxSockets', 1.5],
      ['requestTimeoutMs', -1],
      ['requestTimeoutMs', 'fast'],
      ['connectTimeoutMs', Number.NaN],
      ['region', ''],
      ['endpoint', 'localhost:4567'],
      ['endpoint', 'ftp://127.0.0.1'],
      ['credentials', 'secret'],
      ['retries', 3],
    ])('throws a ValidationError naming %s when it is %p', (field, value) => {
      let caught: unknown;
      try {
        createKinesisClient({ [field]: value } as never);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(ValidationError);
      expect((caught as ValidationError).field).toBe(field);
      expect((caught as ValidationError).value).toBe(value);
      expect((caught as ValidationError).allowed.length).toBeGreaterThan(0);
    });
  });

  describe('configuration', () => {
    const saved = { AWS_REGION: process.env.AWS_REGION, AWS_DEFAULT_REGION: process.env.AWS_DEFAULT_REGION };
    afterEach(() => {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    });

    it('takes the region from AWS_REGION, then AWS_DEFAULT_REGION, else us-east-1', async () => {
      delete process.env.AWS_REGION;
      delete process.env.AWS_DEFAULT_REGION;
      const plain = createKinesisClient({ credentials });
      expect(await plain.config.region()).toBe('us-east-1');
      plain.destroy();
      process.env.AWS_DEFAULT_REGION = 'eu-west-3';
      const fromDefault = createKinesisClient({ credentials });
      expect(await fromDefault.config.region()).toBe('eu-west-3');
      fromDefault.destroy();
      process.env.AWS_REGION = 'ap-south-1';
      const fromRegion = createKinesisClient({ credentials });
      expect(await fromRegion.config.region()).toBe('ap-south-1');
      fromRegion.destroy();
      const explicit = createKinesisClient({ credentials, region: 'sa-east-1' });
      expect(await explicit.config.region()).toBe('sa-east-1');
      explicit.destroy();
    });

    it('turns SDK retries off (maxAttempts 1)', async () => {
      const client = createKinesisClient({ credentials, region: 'us-east-1' });
      expect(await client.config.maxAttempts()).toBe(1);
      client.destroy();
    });

    it('speaks HTTP/1.1', () => {
      const client = createKinesisClient({ credentials, region: 'us-east-1' });
      expect(client.config.requestHandler.metadata?.handlerProtocol).toBe('http/1.1');
      client.destroy();
    });
  });

  describe('request timeout', () => {
    let server: http.Server;
    let endpoint: string;
    let seen = 0;

    beforeAll(async () => {
      // Accepts the connection and reads the request, but never answers.
      server = http.createServer(() => {
        seen++;
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });

    afterAll(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    });

    it('rejects with a TimeoutError after about requestTimeoutMs when the server never answers', async () => {
      const client = createKinesisClient({ endpoint, credentials, region: 'us-east-1', requestTimeoutMs: 300 });
      const started = performance.now();
      let caught: unknown;
      try {
        await client.send(new DescribeStreamSummaryCommand({ StreamName: 's' }));
      } catch (err) {
        caught = err;
      }
      const elapsed = performance.now() - started;
      client.destroy();
      expect(caught).toBeInstanceOf(Error);
      expect((caught as Error).name).toBe('TimeoutError');
      expect(seen).toBe(1); // one attempt only: no SDK retries
      expect(elapsed).toBeGreaterThanOrEqual(250);
      expect(elapsed).toBeLessThan(5000);
    });
  });
});
