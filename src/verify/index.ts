// The entry of the verify action (verify/action.yml runs dist/verify.js); tiny for the same
// reason as src/index.ts.
if (process.env.RUNNER_DEBUG === '1' || process.env.ACTIONS_STEP_DEBUG === 'true') {
  process.setSourceMapsEnabled(true)
}
const { run } = await import('./main.js')
await run()
