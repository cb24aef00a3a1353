import { median } from './measure.ts'

/** A run of one mode in one repetition (counted from 1: repetition 0 is the warm-up). */
export type Repeated<M extends string, R> = R & { mode: M; repetition: number }

/**
 * Runs every mode once per repetition, each repetition starting one mode later (a, b, c; b, c, a;
 * …), so the machine's drift falls on each mode alike: a multiple of the modes' count puts each
 * mode in each place equally often. Repetition 0 runs each mode once to warm the code up and is
 * not returned.
 */
export async function interleaved<M extends string, R extends object>(
  modes: readonly M[],
  repetitions: number,
  run: (mode: M, repetition: number) => Promise<R>,
): Promise<Repeated<M, R>[]> {
  const runs: Repeated<M, R>[] = []
  for (let repetition = 0; repetition <= repetitions; repetition++) {
    for (let i = 0; i < modes.length; i++) {
      const mode = modes[(i + repetition) % modes.length]!
      const result = await run(mode, repetition)
      if (repetition > 0) runs.push({ ...result, mode, repetition })
    }
  }
  return runs
}

/** One figure of one mode over the repetitions, against the baseline mode's. */
export interface Compared {
  median: number
  /** Lowest and highest over the repetitions. */
  range: [number, number]
  /** This mode's median over the baseline's median. */
  ratio: number
  /**
   * Ratios to the baseline's run of the same repetition (the runs next to each other), median and
   * lowest to highest: less moved by the machine's drift than the ratio of medians.
   */
  paired: { median: number; range: [number, number] }
}

export function compared<M extends string, R extends object>(
  runs: Repeated<M, R>[],
  mode: M,
  baseline: M,
  figure: (run: Repeated<M, R>) => number,
): Compared {
  const these = runs.filter((r) => r.mode === mode)
  const base = runs.filter((r) => r.mode === baseline)
  const values = these.map(figure)
  const ratios = these.flatMap((r) => {
    const beside = base.find((b) => b.repetition === r.repetition)
    return beside ? [figure(r) / figure(beside)] : []
  })
  return {
    median: median(values),
    range: range(values),
    ratio: median(values) / median(base.map(figure)),
    paired: { median: median(ratios), range: range(ratios) },
  }
}

function range(values: number[]): [number, number] {
  return [Math.min(...values), Math.max(...values)]
}
