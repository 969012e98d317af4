import { selectTrainingStep, type RunInfo } from '../../src/azureml/runs.js'
import { UserError } from '../../src/errors.js'

const run = (
  id: string,
  tags: Record<string, string> = {},
  displayName?: string,
  name?: string
): RunInfo => ({
  id,
  name: name ?? id,
  displayName,
  status: 'Completed',
  experimentName: 'iris',
  tags
})

const parent = run('pj1')
const prep = run('c1', {}, 'prep_step', 'prep')
const train = run('c2', { accuracy: '0.98', best_model: 'SVC' }, 'train_step', 'train_model')
const evaluate = run('c3', { accuracy: '0.5' }, 'eval_step', 'evaluate')

describe('selectTrainingStep', () => {
  test('by display name', () => {
    expect(selectTrainingStep(parent, [prep, train, evaluate], 'accuracy', 'train_step').id).toBe(
      'c2'
    )
  })
  test('by name when no display name matches', () => {
    expect(selectTrainingStep(parent, [prep, train, evaluate], 'accuracy', 'evaluate').id).toBe(
      'c3'
    )
  })
  test('the only step with the tag, without a step name', () => {
    expect(selectTrainingStep(parent, [prep, train], 'accuracy', undefined).id).toBe('c2')
  })
  test('several tagged steps ask for training-step-name', () => {
    expect(() =>
      selectTrainingStep(parent, [prep, train, evaluate], 'accuracy', undefined)
    ).toThrow(/Several steps.*train_step.*eval_step.*training-step-name/)
  })
  test('unknown step name lists the steps', () => {
    expect(() => selectTrainingStep(parent, [prep, train], 'accuracy', 'nope')).toThrow(
      /No step named 'nope'.*prep_step/
    )
  })
  test('missing tag names the tag and the runs searched', () => {
    const error = (() => {
      try {
        selectTrainingStep(parent, [prep], 'accuracy', undefined)
      } catch (e) {
        return e
      }
      return undefined
    })()
    expect(error).toBeInstanceOf(UserError)
    expect((error as Error).message).toMatch(
      /Tag 'accuracy' was not found on pipeline run pj1, prep_step \(c1\)/
    )
  })
  test('named step without the tag', () => {
    expect(() => selectTrainingStep(parent, [prep, train], 'accuracy', 'prep_step')).toThrow(
      /nor on its step prep_step/
    )
  })
})
