// Reduce-on-plateau learning-rate schedule, with two counting rules:
// - 'keras' (the default): a value better than the best by more than 1e-9 is an improvement; the
//   rate is reduced on the `patience`-th epoch in a row without one (tf.keras ReduceLROnPlateau).
// - 'speechbrain': SpeechBrain's `ReduceLROnPlateau.__call__` (speechbrain/nnet/schedulers.py
//   @ 9c826ef3 L981-1003), the reference PIQ recipe's schedule: up to epoch `minEpochsBeforeReduce`
//   (1-based) the anchor is overwritten with every epoch's value; afterwards a value at least as good
//   as the anchor (equality counts) becomes the anchor and resets the counter, and the rate is reduced
//   on the (patience + 1)-th non-improving epoch in a row (the counter is reset, the anchor is not);
//   the rate is then clamped to at least `minLearningRate`.
// The state (best / anchor and counter) is a PlateauState, saved in checkpoints.
import { Plateau, type PlateauState } from './plateau';

/** The resolved options of a reduce-on-plateau schedule. */
export interface ResolvedPlateauSchedule {
  monitor: 'inputFidelity' | 'loss';
  factor: number;
  patience: number;
  minLearningRate: number;
  rule: 'keras' | 'speechbrain';
  minEpochsBeforeReduce: number;
}

export class PlateauSchedule {
  private readonly plateau: Plateau;
  private readonly higherIsBetter: boolean;

  constructor(private readonly o: ResolvedPlateauSchedule) {
    this.higherIsBetter = o.monitor === 'inputFidelity';
    this.plateau = new Plateau(this.higherIsBetter);
  }

  getState(): PlateauState {
    return this.plateau.getState();
  }

  setState(s: PlateauState | null): void {
    this.plateau.setState(s);
  }

  /** Epochs in a row without improvement (the reference's `patience_counter`). */
  get wait(): number {
    return this.plateau.wait;
  }

  /** Records the monitored value of 1-based `epoch` and returns the learning rate for the next epoch. */
  next(epoch: number, value: number, learningRate: number): number {
    const o = this.o;
    if (o.rule === 'keras') {
      this.plateau.update(value);
      if (epoch <= o.minEpochsBeforeReduce) {
        this.plateau.wait = 0;
        return learningRate;
      }
      if (this.plateau.wait < o.patience) return learningRate;
      this.plateau.wait = 0;
      return Math.max(o.minLearningRate, learningRate * o.factor);
    }
    const { best: anchor, wait } = this.plateau.getState();
    let lr = learningRate;
    if (epoch <= o.minEpochsBeforeReduce || anchor === null) {
      this.plateau.setState({ best: value, wait: 0 });
    } else if (this.higherIsBetter ? value >= anchor : value <= anchor) {
      this.plateau.setState({ best: value, wait: 0 });
    } else if (wait < o.patience) {
      this.plateau.setState({ best: anchor, wait: wait + 1 });
    } else {
      lr = learningRate * o.factor;
      this.plateau.setState({ best: anchor, wait: 0 });
    }
    return Math.max(lr, o.minLearningRate);
  }
}
