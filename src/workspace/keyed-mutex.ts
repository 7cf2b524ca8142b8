/**
 * One async lock per key, in this process only. git guards a repository with lock files
 * (`packed-refs.lock`, `config.lock`, `shallow.lock`…) and makes the second writer *fail*
 * rather than wait, so operations on one mirror have to take turns. Two agent processes
 * must not share a workdir: this lock does not reach across processes.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => current);
    this.tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      // The last holder forgets the key, so the map does not grow with every repo ever seen.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
