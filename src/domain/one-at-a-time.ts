/**
 * A task that runs one at a time: asked while it runs, it runs once more when it is done, however
 * often it was asked meanwhile. For work that reads the current state each time it runs (queue
 * what is settled, send what is due), where a second run at once would only repeat the first.
 */
export class OneAtATime {
  readonly #task: () => Promise<void>;
  #running: Promise<void> | null = null;
  #again = false;

  constructor(task: () => Promise<void>) {
    this.#task = task;
  }

  /** The run in progress, if any. */
  get running(): Promise<void> | null {
    return this.#running;
  }

  run(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#task().finally(() => {
      this.#running = null;
      if (this.#again) {
        this.#again = false;
        this.run();
      }
    });
  }

  /** For a run that loops: whether it was asked again since it last looked (and forget it). */
  askedAgain(): boolean {
    const again = this.#again;
    this.#again = false;
    return again;
  }
}
