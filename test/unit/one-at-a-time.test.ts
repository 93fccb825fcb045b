/** A task run one at a time, once more when asked while it runs. */
import { describe, expect, it } from 'vitest';
import { OneAtATime } from '../../src/domain/one-at-a-time.ts';

describe('OneAtATime', () => {
  it('runs once more after the run in progress, however often it was asked meanwhile, and never twice at once', async () => {
    let runs = 0;
    let concurrent = 0;
    let most = 0;
    let release: () => void = () => {};
    const task = new OneAtATime(async () => {
      runs++;
      concurrent++;
      most = Math.max(most, concurrent);
      await new Promise<void>((resolve) => (release = resolve));
      concurrent--;
    });
    task.run();
    task.run();
    task.run();
    expect(runs).toBe(1);
    release();
    await task.running;
    // the second run started as the first ended
    expect(runs).toBe(2);
    release();
    await task.running;
    expect(task.running).toBeNull();
    expect(runs).toBe(2);
    expect(most).toBe(1);
  });

  it('tells a looping run whether it was asked again since it last looked', async () => {
    const seen: boolean[] = [];
    let step: () => void = () => {};
    const task = new OneAtATime(async () => {
      seen.push(task.askedAgain());
      await new Promise<void>((resolve) => (step = resolve));
      seen.push(task.askedAgain());
    });
    task.run();
    task.run();
    step();
    await task.running;
    // asked while running, and the run took note: no second run follows
    expect(seen).toEqual([false, true]);
    expect(task.running).toBeNull();
  });
});
