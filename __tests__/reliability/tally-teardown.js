// Jest globalTeardown: the reliability suite's summary line, when any of its files ran.
import { readFileSync, rmSync } from 'node:fs'
import path from 'node:path'

export default function teardown() {
  const file = process.env.GATE_RELIABILITY_TALLY
  if (!file) return
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean)
  rmSync(path.dirname(file), { recursive: true, force: true })
  if (lines.length === 0) return
  const t = lines
    .map(line => JSON.parse(line))
    .reduce((sum, one) => {
      for (const [key, value] of Object.entries(one)) sum[key] = (sum[key] ?? 0) + value
      return sum
    }, {})
  const survived = t.survivedByRetry + t.survivedByRerun
  process.stdout.write(
    `\nreliability: faults injected ${t.faultsInjected}, survived ${survived}, ` +
      `bad inputs tried ${t.badInputs}, writes lost or duplicated ${t.lost + t.duplicated}\n` +
      `  (${t.survivedByRetry} survived within the step by retrying; ${t.survivedByRerun} failed ` +
      `the step loudly and a re-run completed the job)\n`
  )
}
