import { commentBody, findOwnComment, markerFor, wantsComment } from '../../src/pullrequest.js'
import type { Outcome } from '../../src/outcome.js'

const OUTCOME: Outcome = {
  registered: false,
  reason: 'better',
  why: 'Dry run, nothing written. Would register: 0.95 beats champion v1 0.9 by 0.05 (higher is better).',
  dryRun: true,
  modelName: 'iris',
  modelVersion: '',
  modelId: '',
  modelUri: '',
  artifactUri: '',
  metric: 'accuracy',
  metricValue: '0.95',
  higherIsBetter: true,
  championVersion: '1',
  championValue: '0.9',
  improvement: '0.05',
  metricPassed: true,
  guardrails: [],
  modelType: 'RF',
  runId: 'run-1',
  metricSource: 'tag',
  metricRunId: 'run-1',
  championNote: '',
  tagsSource: 'run-1',
  history: [
    { version: '1', value: '0.9' },
    { version: '0', value: '0.8' }
  ],
  links: { run: 'https://ml.azure.com/runs/run-1?wsid=x', model: '' },
  rule: { minImprovement: '0', minRelativeImprovement: '0', threshold: '', compareTo: 'latest' }
}

describe('pull request comment', () => {
  test('comments on pull request events, or when a number is given', () => {
    expect(wantsComment(undefined, 'pull_request')).toBe(true)
    expect(wantsComment(undefined, 'pull_request_target')).toBe(true)
    expect(wantsComment(undefined, 'push')).toBe(false)
    expect(wantsComment(undefined, '')).toBe(false)
    expect(wantsComment(7, 'workflow_dispatch')).toBe(true)
  })

  test('the body: marker first, decision and table, no chart, the run it came from', () => {
    const body = commentBody(OUTCOME, 'https://github.com/o/r/actions/runs/1/attempts/1')
    const lines = body.split('\n')
    expect(lines[0]).toBe(markerFor('iris'))
    expect(body).toContain('Dry run for iris: better')
    expect(body).toContain('| **Candidate** | not registered (dry run) | **0.95** |')
    expect(body).toContain('| Champion | v1 | 0.9 |')
    expect(body).toContain('[this workflow run](https://github.com/o/r/actions/runs/1/attempts/1)')
    expect(body).not.toContain('xychart-beta')
    expect(commentBody(OUTCOME, '')).toContain('from a workflow run')
  })

  test("finds this model's comment only", () => {
    const comments = [
      { id: 1, body: 'LGTM' },
      { id: 2, body: `${markerFor('iris-v2')}\nother model` },
      { id: 3, body: `${markerFor('iris')}\nold decision` },
      { id: 4, body: null }
    ]
    expect(findOwnComment(comments, 'iris')?.id).toBe(3)
    expect(findOwnComment(comments, 'wine')).toBeUndefined()
  })
})
