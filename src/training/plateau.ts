// Tracks the best value of a monitored validation quantity and the epochs since it improved:
// the state behind reduce-on-plateau and early stopping (saved in checkpoints).

/** The saved form of a {@link Plateau}: `best` is null before the first validation. */
export interface PlateauState {
  best: number | null;
  wait: number;
}

/** Best value so far and epochs without improvement (improvement: by more than 1e-9). */
export class Plateau {
  private best: number | undefined;
  wait = 0;

  constructor(private readonly higherIsBetter: boolean) {}

  getState(): PlateauState {
    return { best: this.best ?? null, wait: this.wait };
  }

  setState(s: PlateauState | null): void {
    this.best = s?.best ?? undefined;
    this.wait = s?.wait ?? 0;
  }

  /** Records a new value; returns whether it improved on the best. */
  update(v: number): boolean {
    const better = this.best === undefined || (this.higherIsBetter ? v > this.best + 1e-9 : v < this.best - 1e-9);
    if (better) {
      this.best = v;
      this.wait = 0;
    } else this.wait++;
    return better;
  }
}
