import { Big } from 'big.js'
import { decide, type Rule } from '../../src/decision.js'
import { InputError } from '../../src/errors.js'
import {
  PROVENANCE_KEYS,
  provenanceProperties,
  readGitHubRun,
  rejectProvenanceKeys,
  ruleLine,
  runUrl
} from '../../src/provenance.js'

const ENV = {
  GITHUB_REPOSITORY: 'octo/repo',
  GITHUB_SHA: 'abc123',
  GITHUB_REF: 'refs/heads/main',
  GITHUB_WORKFLOW: 'Train and register',
  GITHUB_RUN_ID: '4242',
  GITHUB_RUN_ATTEMPT: '2',
  GITHUB_ACTOR: 'mona',
  GITHUB_EVENT_NAME: 'push',
  GITHUB_SERVER_URL: 'https://github.example'
}

const rule: Rule = {
  higherIsBetter: true,
  minImprovement: new Big('0.005'),
  minRelativeImprovement: new Big(0)
}

describe('provenance', () => {
  test('reads the workflow run from the variables the context reads', () => {
    expect(readGitHubRun(ENV)).toEqual({
      repository: 'octo/repo',
      sha: 'abc123',
      ref: 'refs/heads/main',
      workflow: 'Train and register',
      runId: 4242,
      runAttempt: 2,
      actor: 'mona',
      eventName: 'push',
      serverUrl: 'https://github.example'
    })
  })

  test('run URL names the attempt; empty outside a workflow run', () => {
    expect(runUrl(readGitHubRun(ENV))).toBe(
      'https://github.example/octo/repo/actions/runs/4242/attempts/2'
    )
    expect(runUrl(readGitHubRun({}))).toBe('')
  })

  test('rule on one line, listing only the parts that are set', () => {
    expect(ruleLine(rule)).toBe('higher-is-better; min-improvement 0.005')
    expect(
      ruleLine({
        higherIsBetter: false,
        minImprovement: new Big(0),
        minRelativeImprovement: new Big('0.01'),
        threshold: new Big('0.3')
      })
    ).toBe('lower-is-better; min-improvement 0; min-relative-improvement 0.01; threshold 0.3')
  })

  test('every key, as strings; champion empty for the first version', () => {
    const first = provenanceProperties(readGitHubRun(ENV), {
      decision: decide(new Big('0.9'), undefined, rule, false),
      metric: 'accuracy',
      rule
    })
    expect(Object.keys(first).sort()).toEqual([...PROVENANCE_KEYS].sort())
    expect(first).toMatchObject({
      'github.run_id': '4242',
      'github.run_attempt': '2',
      'github.run_url': 'https://github.example/octo/repo/actions/runs/4242/attempts/2',
      'gate.reason': 'first',
      'gate.metric': 'accuracy',
      'gate.rule': 'higher-is-better; min-improvement 0.005',
      'gate.champion_version': '',
      'gate.champion_value': ''
    })
    const champion = { version: '3', value: new Big('0.9'), rawValue: '0.900' }
    const better = provenanceProperties(readGitHubRun(ENV), {
      decision: decide(new Big('0.95'), champion, rule, false),
      metric: 'accuracy',
      rule,
      champion
    })
    expect(better).toMatchObject({
      'gate.reason': 'better',
      'gate.champion_version': '3',
      'gate.champion_value': '0.900'
    })
  })

  test('the properties input may not set a provenance key', () => {
    expect(() => rejectProvenanceKeys('properties', { team: 'ml' })).not.toThrow()
    for (const key of PROVENANCE_KEYS) {
      expect(() => rejectProvenanceKeys('properties', { team: 'ml', [key]: 'x' })).toThrow(
        InputError
      )
    }
    expect(() => rejectProvenanceKeys('properties', { 'github.sha': 'x' })).toThrow(
      /^Input 'properties': 'github\.sha' is recorded by the gate itself/
    )
  })
})
