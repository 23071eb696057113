import { describe, expect, it } from 'vitest';
import { ClientPool, type RunOptions } from '../../../src/index.js';

type Client = { name: string };

function pool1(): ClientPool<Client> {
  const pool = new ClientPool<Client>({});
  pool.add({ name: 'a' }, { name: 'a' });
  return pool;
}

// A call's own plan was moved out of CallPlanner.plan into #ownPlan, "behaviour identical". Before the
// move, a call with several bad options was refused for the first in this order: deadline, timeout,
// strategy, cost, priority; after it, cost and priority are checked before timeout and strategy.
describe('a call with several bad options of its own is refused for the first in the order deadline, timeout, strategy, cost, priority', () => {
  const cases: [object, string][] = [
    [{ timeout: -1, cost: 5 }, 'timeout'],
    [{ strategy: 'nope', cost: 5 }, 'strategy'],
    [{ strategy: 'nope', priority: 'urgent' }, 'strategy'],
    [{ timeout: -1, priority: 'urgent' }, 'timeout'],
    [{ deadline: -1, cost: 5 }, 'deadline'],
  ];
  for (const [options, first] of cases) {
    it(`${JSON.stringify(options)} is refused naming ${first}`, async () => {
      const pool = pool1();
      const error = await pool.run(() => 1, options as never).then(
        () => undefined,
        (e: unknown) => e as Error & { code: string },
      );
      expect(error?.code).toBe('ERR_INVALID_OPTION');
      expect(error?.message.startsWith(`${first} must`)).toBe(true);
      await pool.close();
    });
  }

  it('reads a call\'s own options with timeout and strategy before cost and priority', async () => {
    const pool = pool1();
    const reads: string[] = [];
    const options = {
      get timeout(): undefined {
        reads.push('timeout');
        return undefined;
      },
      get strategy(): undefined {
        reads.push('strategy');
        return undefined;
      },
      get cost(): { requests: number } {
        reads.push('cost');
        return { requests: 1 };
      },
      get priority(): undefined {
        reads.push('priority');
        return undefined;
      },
      get deadline(): undefined {
        reads.push('deadline');
        return undefined;
      },
      get maxWait(): undefined {
        reads.push('maxWait');
        return undefined;
      },
    };
    await pool.run(() => 1, options as unknown as RunOptions<Client>);
    // Before the move: maxWait,timeout,strategy,maxWait,deadline,cost,deadline,maxWait,timeout,strategy,cost,cost,priority.
    // Since run options are read once (readRunOptions), each is read one time, in the order they are checked.
    expect(reads).toEqual(['deadline', 'maxWait', 'timeout', 'strategy', 'cost', 'priority']);
    await pool.close();
  });
});
