// One candidate of the per-call table in a process of its own (bench/isolated.ts starts one per
// candidate): the call path runs with only that candidate's feedback, as in a service that uses one
// pool configuration, not with the type feedback of every other candidate of the table.
// Protocol (IPC): the child sends `{ ready: true }` after its warm-up; it answers `{ op: 'time' }` with
// `{ ns }` per call (timed after `warmupMs` ms of untimed calls), `{ op: 'alloc' }` with `{ bytes }` per
// call, and `{ op: 'close' }` by exiting.
import { allocated } from './allocations.js';
import { loop, warmFor } from './harness.js';
import { microCandidates } from './micro.js';

/** What the parent asks for. */
export type CandidateRequest = { readonly op: 'alloc'; readonly iterations: number } | { readonly op: 'time'; readonly iterations: number; readonly warmupMs: number } | { readonly op: 'close' };

/** What the child answers. */
export type CandidateReply = { readonly ready: true } | { readonly ns: number } | { readonly bytes: number } | { readonly error: string };

const [name, warmupArg] = process.argv.slice(2);
const send = (reply: CandidateReply): void => {
  process.send!(reply);
};

async function main(): Promise<void> {
  const all = microCandidates();
  const candidate = all.find((c) => c.name === name);
  // Every other candidate is closed before a call is made: no timers or registries of theirs run here.
  await Promise.all(all.filter((c) => c !== candidate).map((c) => c.close?.()));
  if (candidate === undefined) throw new Error(`no candidate named "${name}"`);
  await loop(candidate, Number(warmupArg));
  process.on('message', (request: CandidateRequest) => {
    void (async () => {
      if (request.op === 'close') {
        process.removeAllListeners('disconnect');
        await candidate.close?.();
        process.disconnect();
        return;
      }
      if (request.op === 'alloc') {
        send({ bytes: await allocated(candidate, request.iterations) });
        return;
      }
      // Untimed calls first: the process idled while the others were timed (IsolatedOptions.roundWarmupMs).
      await warmFor(candidate, request.warmupMs);
      const start = process.hrtime.bigint();
      await loop(candidate, request.iterations);
      send({ ns: Number(process.hrtime.bigint() - start) / request.iterations });
    })().catch((error: unknown) => send({ error: String(error) }));
  });
  // The parent went away (killed, or failed mid-run): nothing of this candidate may keep the process alive.
  process.on('disconnect', () => {
    void Promise.resolve(candidate.close?.()).finally(() => process.exit());
  });
  send({ ready: true });
}

main().catch((error: unknown) => {
  send({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exitCode = 1;
});
