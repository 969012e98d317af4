// The entry GitHub runs. It stays tiny so that it can decide, before the rest loads, whether
// stack traces should name src/ lines: reading the source maps costs start-up time, and only
// a debug run prints a stack.
if (process.env.RUNNER_DEBUG === '1' || process.env.ACTIONS_STEP_DEBUG === 'true') {
  process.setSourceMapsEnabled(true)
}
const { run } = await import('./main.js')
await run()
