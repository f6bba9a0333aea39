/**
 * The baselines' sender: `PutRecordsCommand` batches with at most `concurrency` in flight; `submit`
 * waits only when every slot is taken. Each entry's user records (their `seq`s) are settled with the
 * answer: success when the entry has a SequenceNumber.
 */
import { PutRecordsCommand, type KinesisClient, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import type { Latencies } from '../common';

export interface Entry {
  readonly request: PutRecordsRequestEntry;
  /** The user records inside (one for a raw record). */
  readonly seqs: number[];
}

export class Sender {
  private inFlight = 0;
  private readonly slotWaiters: (() => void)[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  requests = 0;
  errors = 0;

  constructor(
    private readonly client: KinesisClient,
    private readonly streamName: string,
    private readonly concurrency: number,
    private readonly latencies: Latencies,
  ) {}

  async submit(batch: Entry[]): Promise<void> {
    while (this.inFlight >= this.concurrency) await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
    this.inFlight++;
    this.requests++;
    void this.send(batch);
  }

  private async send(batch: Entry[]): Promise<void> {
    try {
      const answer = await this.client.send(new PutRecordsCommand({ StreamName: this.streamName, Records: batch.map((e) => e.request) }));
      const now = performance.now();
      const entries = answer.Records ?? [];
      for (let i = 0; i < batch.length; i++) {
        const ok = entries[i]?.SequenceNumber !== undefined;
        for (const seq of batch[i].seqs) this.latencies.done(seq, now, ok);
      }
    } catch {
      // A baseline gives up on a failed request (no retries): its records count as failed.
      this.errors++;
      const now = performance.now();
      for (const e of batch) for (const seq of e.seqs) this.latencies.done(seq, now, false);
    } finally {
      this.inFlight--;
      this.slotWaiters.shift()?.();
      if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  async idle(): Promise<void> {
    while (this.inFlight > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }
}

/** Collects entries into PutRecords batches (≤ 500 entries, ≤ 5 MiB of partition keys + data). */
export class Batcher {
  private batch: Entry[] = [];
  private size = 0;

  constructor(private readonly sender: Sender) {}

  async add(entry: Entry): Promise<void> {
    const size = entry.request.PartitionKey!.length + entry.request.Data!.length;
    if (this.batch.length > 0 && this.size + size > 5242880) await this.flush();
    this.batch.push(entry);
    this.size += size;
    if (this.batch.length === 500) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.batch.length === 0) return;
    const batch = this.batch;
    this.batch = [];
    this.size = 0;
    await this.sender.submit(batch);
  }
}
