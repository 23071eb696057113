// Admission control: a deadline across every attempt of a call, a concurrency cap per client (a bulkhead)
// that queues calls for a slot and refuses them in time, priorities with low calls shed first, and a cap
// learned from latency. Run: npx tsx examples/admission.ts
import { ClientPool, hasErrorCode } from '../src/index.js';

interface Replica {
  readonly name: string;
  readonly latencyMs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// 1. A deadline: attempts of 100 ms at most, 250 ms for the whole call: the third attempt gets the 50 ms left.
{
  await using pool = new ClientPool<Replica>({ timeout: 100, retry: { attempts: 3, backoff: { initial: 0, max: 0, jitter: 'none' } } });
  pool.add({ name: 'slow-a', latencyMs: 10_000 }, { name: 'slow-a' });
  pool.add({ name: 'slow-b', latencyMs: 10_000 }, { name: 'slow-b' });
  let attempts = 0;
  const started = performance.now();
  const error = await pool
    .run(async (replica, call) => {
      attempts++;
      await new Promise((resolve) => setTimeout(resolve, replica.latencyMs).unref());
      return call.attempt;
    }, { deadline: 250 })
    .catch((e: unknown) => e);
  console.log(`deadline: ${hasErrorCode(error, 'ERR_DEADLINE_EXCEEDED') ? 'ERR_DEADLINE_EXCEEDED' : String(error)} after ${attempts} attempts in about ${Math.round((performance.now() - started) / 50) * 50} ms`);
}

// 2. maxInFlight: two replicas of 2 slots each. 6 calls at once: 4 run, 2 wait for a slot (within maxWait).
// 12 at once: the last ones cannot get a slot within maxWait and are refused.
{
  await using pool = new ClientPool<Replica>({ maxWait: 150 });
  pool.add({ name: 'replica-1', latencyMs: 100 }, { name: 'replica-1', maxInFlight: 2 });
  pool.add({ name: 'replica-2', latencyMs: 100 }, { name: 'replica-2', maxInFlight: 2 });
  const query = async (replica: Replica): Promise<string> => {
    await sleep(replica.latencyMs);
    return replica.name;
  };
  const first = Array.from({ length: 6 }, () => pool.run(query).then((name) => name, (e: unknown) => (e as { code: string }).code));
  await sleep(10);
  console.log('in flight:', pool.members().map((m) => `${m.name} ${m.inFlight}/${m.maxInFlight}`).join(', '));
  const outcomes = await Promise.all(first);
  console.log('6 calls:', outcomes.filter((o) => o.startsWith('replica')).length, 'served,', outcomes.filter((o) => o === 'ERR_CONCURRENCY_LIMITED').length, 'refused');
  const crowd = Array.from({ length: 12 }, () => pool.run(query).then(() => 'served', (e: unknown) => (e as { code: string }).code));
  const counts = (await Promise.all(crowd)).reduce<Record<string, number>>((acc, o) => ({ ...acc, [o]: (acc[o] ?? 0) + 1 }), {});
  console.log('12 calls at once:', counts);
}

// 3. Priority and shedding: one replica of 10 slots, a reserve of 0.2. A burst of 30 low-priority calls
// takes at most 8 slots and the rest are shed at once; the 2 high-priority calls behind it find a slot.
{
  await using pool = new ClientPool<Replica>({ maxWait: 1_000, reserve: 0.2 });
  pool.add({ name: 'replica', latencyMs: 50 }, { name: 'replica', maxInFlight: 10 });
  const query = (replica: Replica): Promise<void> => sleep(replica.latencyMs);
  const low = Array.from({ length: 30 }, () => pool.run(query, { priority: 'low' }).then(() => 'served', (e: unknown) => (e as { code: string }).code));
  const high = Array.from({ length: 2 }, () => pool.run(query, { priority: 'high' }).then(() => 'served', (e: unknown) => (e as { code: string }).code));
  const tally = (outcomes: string[]): Record<string, number> => outcomes.reduce<Record<string, number>>((acc, o) => ({ ...acc, [o]: (acc[o] ?? 0) + 1 }), {});
  console.log('priority: low', tally(await Promise.all(low)), 'high', tally(await Promise.all(high)));
}

// 4. An adaptive cap: a replica that slows down past 4 calls in flight. gradient2 learns a cap near the
// knee from the latency of its calls, and calls over it are refused at once (maxWait 0).
{
  await using pool = new ClientPool<Replica>({ maxWait: 0 });
  pool.add({ name: 'replica', latencyMs: 10 }, { name: 'replica', maxInFlight: { adaptive: 'gradient2', initial: 2, min: 1, max: 50, windowMs: 100 } });
  let inFlight = 0;
  const query = async (replica: Replica): Promise<void> => {
    inFlight++;
    await sleep(inFlight > 4 ? replica.latencyMs * 4 : replica.latencyMs);
    inFlight--;
  };
  let refused = 0;
  const until = performance.now() + 3_000;
  while (performance.now() < until) {
    for (let i = 0; i < 4; i++) void pool.run(query).catch(() => refused++);
    await sleep(5);
  }
  await sleep(200);
  console.log(`adaptive: cap ${pool.members()[0]!.maxInFlight} after 3 s at about 4x what 4 in flight serve; ${refused} calls refused at once`);
}
