import { historyChart, summaryMarkdown, decisionRecord } from '../../src/report.js'
import type { Outcome } from '../../src/outcome.js'

const outcome = (overrides: Partial<Outcome> = {}): Outcome => ({
  registered: true,
  reason: 'better',
  why: 'Registered: 0.98 beats champion v2 0.9667 by 0.0133 (higher is better).',
  dryRun: false,
  modelName: 'iris-classifier',
  modelVersion: '3',
  modelId:
    '/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/models/iris-classifier/versions/3',
  modelUri: 'azureml:iris-classifier:3',
  artifactUri: 'azureml://jobs/pj3/outputs/artifacts/paths/model.pkl',
  metric: 'accuracy',
  metricValue: '0.98',
  higherIsBetter: true,
  championVersion: '2',
  championValue: '0.9667',
  improvement: '0.0133',
  metricPassed: true,
  guardrails: [],
  modelType: 'SVC',
  runId: 'pj3',
  metricSource: 'mlflow-metric',
  metricRunId: 'pj3_train',
  championNote: '',
  tagsSource: 'pj3_train',
  history: [
    { version: '2', value: '0.9667' },
    { version: '1', value: '0.9333' }
  ],
  links: {
    run: 'https://ml.azure.com/runs/pj3?wsid=x',
    model: 'https://ml.azure.com/model/iris-classifier:3/details?wsid=x'
  },
  rule: { minImprovement: '0', minRelativeImprovement: '0', threshold: '', compareTo: 'latest' },
  ...overrides
})

describe('summaryMarkdown', () => {
  test('headline, table, rule, links and record', () => {
    const md = summaryMarkdown(outcome())
    expect(md).toMatch(/^## ✅ iris-classifier v3 registered/)
    expect(md).toContain('| **Candidate** | v3 | **0.98** | mlflow-metric of [pj3_train](')
    expect(md).toContain('| Champion | v2 | 0.9667 |')
    expect(md).toContain('| Improvement | | +0.0133 | |')
    expect(md).toContain(
      '[Model iris-classifier v3](https://ml.azure.com/model/iris-classifier:3/details?wsid=x)'
    )
    expect(md).toContain('<details><summary>Decision record</summary>')
    expect(md).toContain('"reason": "better"')
  })

  test('not registered, no champion', () => {
    const md = summaryMarkdown(
      outcome({
        registered: false,
        reason: 'below-threshold',
        modelVersion: '',
        championVersion: '',
        championValue: '',
        improvement: '',
        history: []
      })
    )
    expect(md).toMatch(/^## ⏸️ iris-classifier: not registered \(below-threshold\)/)
    expect(md).toContain('| Champion | none |')
    expect(md).not.toContain('xychart-beta')
  })

  test('dry run says so', () => {
    expect(summaryMarkdown(outcome({ registered: false, dryRun: true, modelVersion: '' }))).toMatch(
      /^## 🧪 Dry run/
    )
  })
})

describe('guardrails in the summary and the record', () => {
  const guardrails = [
    {
      name: 'latency_ms',
      op: '<=' as const,
      bound: 'champion * 1.10',
      limit: '110',
      candidate: '130',
      champion: '100',
      passed: false
    },
    {
      name: 'recall',
      op: '>=' as const,
      bound: '0.8',
      limit: '0.8',
      candidate: '0.85',
      champion: '',
      passed: true
    },
    {
      name: 'auc',
      op: '>=' as const,
      bound: 'champion - 0.01',
      limit: '',
      candidate: '0.9',
      champion: '',
      passed: true
    }
  ]
  const refused = outcome({
    registered: false,
    reason: 'guardrail-failed',
    why: 'Not registered: guardrail latency_ms 130 is not <= 110 (champion * 1.10), although 0.98 beats champion v2 0.9667 by 0.0133.',
    modelVersion: '',
    guardrails
  })

  test('one row per metric, the score first, with candidate, champion, bound and a mark', () => {
    const md = summaryMarkdown(refused)
    expect(md).toContain('latency_ms 130 is not \u003c= 110')
    const table = md.slice(md.indexOf('| Metric |'))
    const rows = table.slice(0, table.indexOf('\n\n')).split('\n')
    expect(rows).toEqual([
      '| Metric | Candidate | Champion v2 | Bound | |',
      '|---|---|---|---|---|',
      '| **accuracy** (higher is better) | **0.98** | 0.9667 | \\> 0.9667 | ✅ |',
      '| latency_ms | 130 | 100 | \\<= 110 (champion * 1.10) | ❌ |',
      '| recall | 0.85 |  | \\>= 0.8 | ✅ |',
      '| auc | 0.9 |  | \\>= champion - 0.01: no champion value, not compared | ✅ |'
    ])
  })

  test("the score's bound follows the rule: minimum improvements, lower is better, threshold", () => {
    const md = summaryMarkdown(
      outcome({
        higherIsBetter: false,
        metric: 'rmse',
        metricValue: '0.2',
        championValue: '0.25',
        metricPassed: true,
        rule: {
          minImprovement: '0.01',
          minRelativeImprovement: '0.1',
          threshold: '0.3',
          compareTo: 'latest'
        },
        guardrails
      })
    )
    // 10 % of 0.25 is 0.025, more than 0.01: the bar is 0.25 - 0.025
    expect(md).toContain(
      '| **rmse** (lower is better) | **0.2** | 0.25 | \\<= 0.225 and \\<= 0.3 (threshold) | ✅ |'
    )
    const failed = summaryMarkdown(outcome({ metricPassed: false, reason: 'forced', guardrails }))
    expect(failed).toContain(
      '| **accuracy** (higher is better) | **0.98** | 0.9667 | \\> 0.9667 | ❌ |'
    )
  })

  test('no table without guardrails', () => {
    expect(summaryMarkdown(outcome())).not.toContain('| Metric |')
  })

  test('the record and the guardrails output hold every guardrail', () => {
    expect(decisionRecord(refused).guardrails).toEqual(guardrails)
  })
})

describe('historyChart', () => {
  test('oldest to newest, then the candidate', () => {
    const chart = historyChart(outcome({ registered: false, modelVersion: '' }))!
    expect(chart).toContain('x-axis ["v1", "v2", "candidate"]')
    expect(chart).toContain('bar [0.9333, 0.9667, 0.98]')
    expect(chart).toMatch(/y-axis "accuracy" [\d.]+ --> [\d.]+/)
  })
  test('a registered candidate is labelled with its version, marked as the candidate', () => {
    expect(historyChart(outcome())).toContain('x-axis ["v1", "v2", "candidate v3"]')
    // A re-run: the version holding this run's model is already in the history.
    const rerun = outcome({
      reason: 'already-registered',
      modelVersion: '2',
      history: [
        { version: '2', value: '0.98' },
        { version: '1', value: '0.9333' }
      ]
    })
    expect(historyChart(rerun)).toContain('x-axis ["v1", "candidate v2"]')
  })
  test('says in the chart when the value axis does not start at 0', () => {
    const chart = historyChart(outcome())!
    const [, low] = /y-axis "accuracy" ([\d.-]+) --> [\d.]+/.exec(chart)!
    expect(Number(low)).toBeGreaterThan(0.9)
    expect(chart).toContain(`title "accuracy by version (value axis from ${low}, not 0)"`)
  })
  test('starts the axis at 0 rather than below it for scores that are not negative', () => {
    const chart = historyChart(
      outcome({
        metricValue: '0.5',
        history: [
          { version: '2', value: '0.02' },
          { version: '1', value: '0.4' }
        ]
      })
    )!
    expect(chart).toMatch(/y-axis "accuracy" 0 --> [\d.]+/)
    expect(chart).toContain('title "accuracy by version"')
  })
  test.each([
    ['a candidate of 1e400', { metricValue: '1e400' }],
    ['a champion of 1e309', { history: [{ version: '2', value: '1e309' }] }],
    ['a score of 1e-1000', { metricValue: '1e-1000' }]
  ])('%s: no chart but a line saying why, and no exception', (_label, overrides) => {
    const md = summaryMarkdown(outcome(overrides as Partial<Outcome>))
    expect(md).not.toContain('xychart-beta')
    expect(md).toMatch(/No chart: scores beyond/)
  })
  test('plots exact scores rounded to what a chart can show', () => {
    const chart = historyChart(outcome({ metricValue: '0.123456789012345678901234567890123' }))!
    expect(chart).toContain('bar [0.9333, 0.9667, 0.12345679]')
  })
})

describe('decisionRecord', () => {
  test('holds every output', () => {
    const record = decisionRecord(outcome())
    for (const key of [
      'registered',
      'reason',
      'modelVersion',
      'modelUri',
      'artifactUri',
      'metricValue',
      'championVersion',
      'championValue',
      'modelType',
      'runId',
      'metricSource',
      'metricRunId',
      'tagsSource'
    ]) {
      expect(record).toHaveProperty(key)
    }
  })
})
