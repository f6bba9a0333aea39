import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { burstClock, RECORDS_PER_READ } from '../../../lib/operators/internal/clock';

describe('burstClock', () => {
  afterEach(() => jest.restoreAllMocks());

  it('reads a virtual clock on every call (time moves inside one synchronous flush)', () => {
    const scheduler = new TestScheduler(() => undefined);
    const now = burstClock(scheduler);
    const seen: number[] = [];
    scheduler.schedule(() => seen.push(now()), 5);
    scheduler.schedule(() => seen.push(now()), 7);
    scheduler.flush();
    expect(seen).toEqual([5, 7]);
  });

  it("reads rxjs's clock on every call inside TestScheduler.run (virtual time behind asyncScheduler)", () => {
    new TestScheduler(() => undefined).run(({ flush }) => {
      const now = burstClock(asyncScheduler);
      const seen: number[] = [];
      asyncScheduler.schedule(() => seen.push(now()), 5);
      asyncScheduler.schedule(() => seen.push(now()), 7);
      flush();
      expect(seen).toEqual([5, 7]);
    });
  });

  it('reads any other clock on every call', () => {
    let t = 1_700_000_000_000;
    const scheduler = { now: () => t++, schedule: asyncScheduler.schedule.bind(asyncScheduler) } as SchedulerLike;
    const now = burstClock(scheduler);
    expect([now(), now()]).toEqual([1_700_000_000_000, 1_700_000_000_001]);
  });

  it('shares one real-time reading among at most RECORDS_PER_READ calls of one task, then reads again', async () => {
    let t = 1_700_000_000_000;
    const dateNow = jest.spyOn(Date, 'now').mockImplementation(() => t); // rxjs's real clock reads Date.now()
    const now = burstClock(asyncScheduler);
    const first: number[] = [];
    for (let i = 0; i < RECORDS_PER_READ; i++) {
      first.push(now());
      t++;
    }
    expect(new Set(first)).toEqual(new Set([1_700_000_000_000]));
    expect(now()).toBe(1_700_000_000_000 + RECORDS_PER_READ); // the 33rd call reads again
    t += 5;
    expect(now()).toBe(1_700_000_000_000 + RECORDS_PER_READ); // same task: the reading is shared
    await Promise.resolve(); // the task ends: the next call reads again
    expect(now()).toBe(1_700_000_000_000 + RECORDS_PER_READ + 5);
    expect(dateNow).toHaveBeenCalledTimes(3);
  });
});
