// Tests that call our modules in-process make @actions/core write workflow commands
// (`::add-mask::…`, `::notice::…`) to this process's stdout, where they would only clutter the
// test log. They are kept, not printed: `workflowCommands()` returns them for assertions.
// (The action's own runs are child processes: their stdout never reaches the log.)
import { afterAll, beforeEach } from '@jest/globals'

const COMMAND = /^::[a-z-]+( [^:]*)?::/

let captured: string[] = []
const original = process.stdout.write

process.stdout.write = function (chunk: unknown, ...rest: unknown[]): boolean {
  const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString() : ''
  if (COMMAND.test(text)) {
    captured.push(...text.split(/\r?\n/).filter(line => line !== ''))
    const callback = rest.find(arg => typeof arg === 'function') as (() => void) | undefined
    callback?.()
    return true
  }
  return (original as (...args: unknown[]) => boolean).call(process.stdout, chunk, ...rest)
} as typeof process.stdout.write

beforeEach(() => {
  captured = []
})

afterAll(() => {
  process.stdout.write = original
})

/** The workflow commands written since the current test started. */
export function workflowCommands(): string[] {
  return [...captured]
}
