/**
 * Learning-rate schedules as functions of the epoch, for LearningRateScheduler: step decay (the Fashion-MNIST variants study halves the
 * rate every 5 epochs), exponential decay, cosine decay, each optionally after a linear warm-up.
 */
export type Schedule = (epoch: number) => number;

/** initial · factor^floor(epoch / every). */
export function stepDecay(initial: number, factor: number, every: number): Schedule {
  return (epoch) => initial * factor ** Math.floor(epoch / every);
}

/** initial · rate^epoch. */
export function exponentialDecay(initial: number, rate: number): Schedule {
  return (epoch) => initial * rate ** epoch;
}

/** From initial down to minimum along half a cosine over `epochs` epochs, then minimum. */
export function cosineDecay(initial: number, epochs: number, minimum = 0): Schedule {
  return (epoch) => minimum + ((initial - minimum) * (1 + Math.cos((Math.PI * Math.min(epoch, epochs)) / epochs))) / 2;
}

/** Linear warm-up: rate·(epoch + 1)/warmup for the first `warmup` epochs, then the schedule (shifted by warmup). */
export function withWarmup(schedule: Schedule, warmup: number): Schedule {
  if (warmup <= 0) return schedule;
  return (epoch) => (epoch < warmup ? (schedule(0) * (epoch + 1)) / warmup : schedule(epoch - warmup));
}
