import type { RunInfo } from '../../src/azureml/runs.js'
import { describeStep, findNamedStep, type StepLevels } from '../../src/azureml/steps.js'
import { LATE_METRICS_MS, patiently, sourcesFor } from '../../src/scores/candidate.js'
import { decimalText } from '../../src/scores/mlflow.js'
import { propertySource } from '../../src/scores/properties.js'
import { ScoreNotFound, findScore, type Steps } from '../../src/scores/resolve.js'
import type { ScoreSource } from '../../src/scores/source.js'
import { tagSource } from '../../src/scores/tags.js'
import type { MlflowClient } from '../../src/azureml/mlflow.js'

const run = (
  id: string,
  options: Partial<RunInfo> & { children?: RunInfo[] } = {}
): RunInfo & { children?: RunInfo[] } => ({
  id,
  name: options.name ?? id,
  status: 'Completed',
  experimentName: 'iris',
  tags: {},
  properties: {},
  ...options
})

/** An in-memory step tree: each run's `children` are its steps. */
function tree(pipeline: RunInfo & { children?: RunInfo[] }): StepLevels & Steps {
  const kids = (r: RunInfo & { children?: RunInfo[] }) =>
    (r.children ?? []).map(c => ({
      ...c,
      path: r.path ? `${r.path}/${c.displayName}` : c.displayName
    }))
  const all = async (): Promise<RunInfo[]> => {
    const walk = (runs: RunInfo[]): RunInfo[] => runs.flatMap(r => [r, ...walk(kids(r))])
    return walk(kids(pipeline))
  }
  const levels: StepLevels & Steps = {
    pipeline,
    top: async () => kids(pipeline),
    all,
    childrenOf: async r => kids(r),
    named: name => findNamedStep(levels, name),
    describe: describeStep
  }
  return levels
}

/** An MLflow-like source over a table of run id → metric values. */
const metricSource = (values: Record<string, string>): ScoreSource => ({
  kind: 'mlflow-metric',
  read: async r => values[r.id]
})

const auto = (metrics: Record<string, string> = {}) => [
  tagSource,
  metricSource(metrics),
  propertySource
]

describe('findScore: auto order on the pipeline run, then on the training step', () => {
  const steps = [
    run('s1', { displayName: 'prep', tags: {} }),
    run('s2', { displayName: 'train', tags: { accuracy: '0.5' }, properties: { accuracy: '0.6' } })
  ]
  test('a pipeline tag wins over a pipeline MLflow metric and property', async () => {
    const p = run('p', {
      tags: { accuracy: '0.9' },
      properties: { accuracy: '0.8' },
      children: steps
    })
    const found = await findScore(tree(p), auto({ p: '0.7' }), 'accuracy', undefined)
    expect([found.run.id, found.source.kind, found.text]).toEqual(['p', 'tag', '0.9'])
  })
  test('a pipeline MLflow metric wins over a pipeline property and any step', async () => {
    const p = run('p', { properties: { accuracy: '0.8' }, children: steps })
    const found = await findScore(tree(p), auto({ p: '0.7' }), 'accuracy', undefined)
    expect([found.run.id, found.source.kind, found.text]).toEqual(['p', 'mlflow-metric', '0.7'])
  })
  test('a pipeline property wins over a step tag', async () => {
    const p = run('p', { properties: { accuracy: '0.8' }, children: steps })
    const found = await findScore(tree(p), auto(), 'accuracy', undefined)
    expect([found.run.id, found.source.kind]).toEqual(['p', 'property'])
  })
  test('then the step: tag before MLflow metric before property', async () => {
    const p = run('p', { children: steps })
    const found = await findScore(tree(p), auto({ s2: '0.55' }), 'accuracy', undefined)
    expect([found.run.id, found.source.kind, found.text]).toEqual(['s2', 'tag', '0.5'])
  })
  test('a step MLflow metric when no step has a tag', async () => {
    const p = run('p', {
      children: [run('s1', { displayName: 'prep' }), run('s2', { displayName: 'train' })]
    })
    const found = await findScore(tree(p), auto({ s2: '0.9867' }), 'accuracy', undefined)
    expect([found.run.id, found.source.kind, found.text]).toEqual(['s2', 'mlflow-metric', '0.9867'])
  })
  test('several steps with the metric: an error listing them', async () => {
    const p = run('p', {
      children: [run('s1', { displayName: 'a' }), run('s2', { displayName: 'b' })]
    })
    await expect(
      findScore(tree(p), auto({ s1: '0.1', s2: '0.2' }), 'accuracy', undefined)
    ).rejects.toThrow(
      /Several steps of run p have the MLflow metric 'accuracy': a \(s1\) = 0.1, b \(s2\) = 0.2; set training-step-name/
    )
  })
  test('nothing anywhere: ScoreNotFound naming the sources and runs searched', async () => {
    const p = run('p', { children: [run('s1', { displayName: 'prep' })] })
    const error = await findScore(tree(p), auto(), 'accuracy', undefined).catch(e => e)
    expect(error).toBeInstanceOf(ScoreNotFound)
    expect(error.message).toMatch(
      /^Tag, MLflow metric or property 'accuracy' was not found on pipeline run p, prep \(s1\);/
    )
  })
  test('one source only: metric-source mlflow-metric ignores tags', async () => {
    const p = run('p', { tags: { accuracy: '0.9' }, children: [run('s1', { displayName: 't' })] })
    const found = await findScore(tree(p), [metricSource({ s1: '0.3' })], 'accuracy', undefined)
    expect([found.run.id, found.text]).toEqual(['s1', '0.3'])
  })
  test('a step inside a sub-pipeline is found when no top-level step has it', async () => {
    const inner = run('n2', { displayName: 'train_step' })
    const p = run('p', {
      children: [
        run('s1', { displayName: 'prep' }),
        run('sub', {
          displayName: 'training',
          children: [run('n1', { displayName: 'feat' }), inner]
        })
      ]
    })
    const found = await findScore(tree(p), auto({ n2: '0.97' }), 'accuracy', undefined)
    expect([found.run.id, found.text]).toEqual(['n2', '0.97'])
  })
})

describe('findNamedStep: training-step-name', () => {
  test('two steps with the same display name are an error listing both (not the first)', async () => {
    const p = run('p', {
      children: [
        run('s1', { displayName: 'train_step', tags: { accuracy: '0.50' } }),
        run('s2', { displayName: 'train_step', tags: { accuracy: '0.99' } })
      ]
    })
    await expect(findNamedStep(tree(p), 'train_step')).rejects.toThrow(
      /Several steps of run p are named 'train_step': train_step \(s1\), train_step \(s2\)/
    )
  })
  test('a path through a sub-pipeline', async () => {
    const p = run('p', {
      children: [
        run('s1', { displayName: 'train_step' }),
        run('sub', {
          displayName: 'training',
          children: [run('n1', { displayName: 'train_step' })]
        })
      ]
    })
    expect((await findNamedStep(tree(p), 'training/train_step')).id).toBe('n1')
    // The top level answers first: the nested namesake is not consulted.
    expect((await findNamedStep(tree(p), 'train_step')).id).toBe('s1')
  })
  test('a name only inside a sub-pipeline is found depth-first', async () => {
    const p = run('p', {
      children: [
        run('sub', { displayName: 'training', children: [run('n1', { displayName: 'fit' })] })
      ]
    })
    expect((await findNamedStep(tree(p), 'fit')).id).toBe('n1')
  })
  test('an unknown name lists every step, nested ones with their path', async () => {
    const p = run('p', {
      children: [
        run('sub', { displayName: 'training', children: [run('n1', { displayName: 'fit' })] })
      ]
    })
    await expect(findNamedStep(tree(p), 'nope')).rejects.toThrow(
      /No step named 'nope' in run p; its steps are: training \(sub\), training\/fit \(n1\)/
    )
  })
})

describe('MLflow metric values as exact decimal text', () => {
  test('the shortest text that reads back as the same double', () => {
    expect(decimalText(0.9667)).toBe('0.9667')
    expect(decimalText(0.98)).toBe('0.98')
    expect(decimalText(0.1 + 0.2)).toBe('0.30000000000000004')
    expect(decimalText(1e-7)).toBe('1e-7')
    expect(Number(decimalText(2 / 3))).toBe(2 / 3)
  })
  test('auto is tag, mlflow-metric, property; a named source is alone', () => {
    const client = {} as MlflowClient
    const settings = { metric: 'accuracy', metricAggregation: 'last' as const, modelTypeTag: 'm' }
    expect(sourcesFor({ ...settings, metricSource: 'auto' }, client).map(s => s.kind)).toEqual([
      'tag',
      'mlflow-metric',
      'property'
    ])
    expect(sourcesFor({ ...settings, metricSource: 'property' }, client).map(s => s.kind)).toEqual([
      'property'
    ])
  })
})

describe('late metrics: look again with backoff for up to 2 minutes', () => {
  function fakeClock(start: number) {
    const clock = { t: start, sleeps: [] as number[] }
    return {
      clock,
      io: {
        now: () => clock.t,
        sleep: async (ms: number) => {
          clock.sleeps.push(ms)
          clock.t += ms
        }
      }
    }
  }
  const notYet = () => Promise.reject(new ScoreNotFound('not yet'))

  test('found on a later look when the run completed moments ago', async () => {
    const { clock, io } = fakeClock(1_000_000)
    let calls = 0
    let forgotten = 0
    const value = await patiently(
      () => (++calls < 3 ? notYet() : Promise.resolve('0.97')),
      async () => 1_000_000 - 10_000,
      () => forgotten++,
      () => undefined,
      io
    )
    expect(value).toBe('0.97')
    expect(clock.sleeps).toEqual([5_000, 10_000])
    expect(forgotten).toBe(2)
  })
  test('gives up after 2 minutes, having looked once more at the deadline', async () => {
    const start = 5_000_000
    const { clock, io } = fakeClock(start)
    let calls = 0
    const error = await patiently(
      () => (calls++, notYet()),
      async () => start - 1_000,
      () => undefined,
      () => undefined,
      io
    ).catch(e => e)
    expect(error).toBeInstanceOf(ScoreNotFound)
    expect(clock.t).toBe(start + LATE_METRICS_MS)
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBe(LATE_METRICS_MS)
    expect(calls).toBe(clock.sleeps.length + 1)
    expect(Math.max(...clock.sleeps)).toBeLessThanOrEqual(30_000)
  })
  test('no waiting when the run completed 2 minutes ago or more, or has no end time', async () => {
    for (const ended of [1_000_000 - LATE_METRICS_MS, undefined]) {
      const { clock, io } = fakeClock(1_000_000)
      await expect(
        patiently(
          notYet,
          async () => ended,
          () => undefined,
          () => undefined,
          io
        )
      ).rejects.toBeInstanceOf(ScoreNotFound)
      expect(clock.sleeps).toEqual([])
    }
  })
  test('other errors are not retried', async () => {
    const { clock, io } = fakeClock(0)
    await expect(
      patiently(
        () => Promise.reject(new Error('boom')),
        async () => 0,
        () => undefined,
        () => undefined,
        io
      )
    ).rejects.toThrow('boom')
    expect(clock.sleeps).toEqual([])
  })
})
