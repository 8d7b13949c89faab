// Calls made in the same turn of the event loop, run as one: the receipts of a coalesced print finish
// together, so their loads (and their stores) become one statement instead of one each.

interface Waiting<In, Out> {
  input: In;
  resolve: (value: Out) => void;
  reject: (error: unknown) => void;
}

/** `run` gets every input queued since the last flush and returns one result (or Error) per input, in order. */
export class Batcher<In, Out> {
  private queue: Waiting<In, Out>[] = [];

  constructor(private readonly run: (inputs: In[]) => Promise<Array<Out | Error>>) {}

  call(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      if (this.queue.length === 1) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue.splice(0);
    try {
      const results = await this.run(batch.map((w) => w.input));
      batch.forEach((w, i) => {
        const result = results[i];
        if (result instanceof Error) w.reject(result);
        else if (result === undefined) w.reject(new Error('no result for a batched call'));
        else w.resolve(result);
      });
    } catch (error) {
      for (const w of batch) w.reject(error); // the statement failed (database down): each caller retries
    }
  }
}
