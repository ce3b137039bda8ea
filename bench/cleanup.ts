/**
 * The benchmark's teardown: steps registered as resources are made, run last-first, each even if
 * an earlier one failed, and only once however many paths (normal end, error, Ctrl-C) ask for it.
 */
export class Cleanup {
  private readonly steps: { name: string; run: () => Promise<unknown> | unknown }[] = [];
  private running: Promise<void> | undefined;

  /** Registers a step; steps run in reverse order of registration. */
  add(name: string, run: () => Promise<unknown> | unknown): void {
    this.steps.push({ name, run });
  }

  /** Runs every step once; a failing step is reported on stderr and the rest still run. */
  run(): Promise<void> {
    this.running ??= (async () => {
      for (const step of this.steps.toReversed()) {
        try {
          await step.run();
        } catch (error) {
          process.stderr.write(`bench: cleanup step "${step.name}" failed: ${(error as Error).message}\n`);
        }
      }
    })();
    return this.running;
  }
}
