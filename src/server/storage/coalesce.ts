/**
 * `load()`, unless a load under `key` is already in flight in `inFlight`: then that one's result. The
 * caller chooses keys such that any load in flight under one is as current as a new one would be.
 */
export function loadOnce<K, V>(inFlight: Map<K, Promise<V>>, key: K, load: () => Promise<V>): Promise<V> {
  let loading = inFlight.get(key);
  if (!loading) {
    loading = load().finally(() => inFlight.delete(key));
    inFlight.set(key, loading);
  }
  return loading;
}

/** How many batches a Coalescer keeps in flight at once, unless told otherwise. */
export const BATCHES_IN_FLIGHT = 2;

/**
 * Group commit for the statements every request runs on PostgreSQL (the replay-memory insert, a kept
 * page's counter read): the calls made while the event loop serves one batch of readable sockets go to the
 * database as one statement over arrays, so a node under load pays one round trip, one driver call and one
 * transaction for several requests. Nothing waits for a timer: a call issued when the line is free leaves at
 * the end of the current turn (setImmediate); calls made while `maxInFlight` batches are out wait for the
 * first of them to come back, and leave together.
 *
 * Each caller still gets its own answer only after the statement holding its item has completed, so
 * nothing is acknowledged earlier than without batching; and a batch is sent no earlier than its first
 * item was submitted, so it sees every write acknowledged before that.
 */
export class Coalescer<I, O> {
  #queue: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  #inFlight = 0;
  #scheduled = false;

  /**
   * `run` answers one output per input, in order (it may throw: every caller of the batch gets the error).
   */
  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly maxInFlight = BATCHES_IN_FLIGHT,
    private readonly maxBatch = 256,
  ) {}

  /** `item`'s answer, from the next batch that leaves. */
  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight >= this.maxInFlight) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    while (this.#queue.length > 0 && this.#inFlight < this.maxInFlight) {
      const batch = this.#queue.splice(0, this.maxBatch);
      this.#inFlight++;
      let settled: Promise<O[]>;
      try {
        settled = this.run(batch.map((b) => b.item));
      } catch (e) {
        settled = Promise.reject(e);
      }
      settled
        .then(
          (outs) => {
            for (let i = 0; i < batch.length; i++) batch[i]!.resolve(outs[i]!);
          },
          (e: unknown) => {
            for (const b of batch) b.reject(e);
          },
        )
        .finally(() => {
          this.#inFlight--;
          if (this.#queue.length > 0) this.#schedule();
        });
    }
  }
}
