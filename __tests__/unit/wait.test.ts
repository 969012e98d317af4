import { waitForCompletion, type RunInfo } from '../../src/azureml/runs.js'
import type { Workspace } from '../../src/azureml/workspace.js'

/** A run that completes `completesAtMs` after the start, on a clock that only sleeps move. */
function fakeRun(completesAtMs: number) {
  const clock = { now: 0, polls: [] as number[] }
  const ws = {
    ref: { resourceGroup: 'rg', workspaceName: 'ws' },
    arm: {
      jobs: {
        get: async (_rg: string, _ws: string, name: string) => {
          clock.polls.push(clock.now)
          return {
            name,
            properties: {
              status: clock.now >= completesAtMs ? 'Completed' : 'Running',
              experimentName: 'e',
              tags: {}
            }
          }
        }
      }
    }
  } as unknown as Workspace
  const run: RunInfo = {
    id: 'pj',
    name: 'pj',
    status: 'Running',
    experimentName: 'e',
    tags: {}
  }
  const sleep = async (ms: number) => {
    clock.now += ms
  }
  return { clock, ws, run, sleep, now: () => clock.now }
}

describe('waitForCompletion', () => {
  test('a run completing at 50 s with wait-minutes 1 is found: one last look at the deadline', async () => {
    const { clock, ws, run, sleep, now } = fakeRun(50_000)
    const done = await waitForCompletion(ws, run, 1, () => undefined, sleep, now)
    expect(done.status).toBe('Completed')
    expect(clock.now).toBeLessThanOrEqual(60_000)
  })

  test('the last look is at the deadline, not before it', async () => {
    const { clock, ws, run, sleep, now } = fakeRun(Infinity)
    await expect(waitForCompletion(ws, run, 1, () => undefined, sleep, now)).rejects.toThrow(
      /is Running, not Completed; it did not complete within wait-minutes \(1\)/
    )
    expect(clock.polls.at(-1)).toBe(60_000)
  })

  test('a run completing at 59.9 s is found', async () => {
    const { ws, run, sleep, now } = fakeRun(59_900)
    expect((await waitForCompletion(ws, run, 1, () => undefined, sleep, now)).status).toBe(
      'Completed'
    )
  })

  test('wait-minutes 0 does not wait', async () => {
    const { clock, ws, run, sleep, now } = fakeRun(0)
    await expect(waitForCompletion(ws, run, 0, () => undefined, sleep, now)).rejects.toThrow(
      /set wait-minutes/
    )
    expect(clock.polls).toEqual([])
  })
})
