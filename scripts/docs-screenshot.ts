// `npm run docs:screenshot`: renders the job summary of a sample outcome to docs/summary.png,
// the picture the README shows. Needs a Chromium (CHROMIUM_PATH, or /usr/bin/chromium).
import { mkdirSync } from 'node:fs'
import { summaryMarkdown } from '../src/report.js'
import { SummaryRenderer, findChromium, sampleOutcome } from './summary-page.js'

const out = process.argv[2] ?? 'docs/summary.png'
const browser = findChromium()
if (!browser) {
  console.error(
    'No Chromium found: install it (apt-get install chromium) or set CHROMIUM_PATH to a Chrome.'
  )
  process.exit(1)
}
mkdirSync('docs', { recursive: true })
const renderer = await SummaryRenderer.launch(browser)
try {
  const result = await renderer.render(summaryMarkdown(sampleOutcome()), out)
  if (
    result.mermaid.errors.length > 0 ||
    result.mermaid.rendered !== result.mermaid.sources.length
  ) {
    console.error(`mermaid could not draw the chart:\n${result.mermaid.errors.join('\n')}`)
    process.exitCode = 1
  }
  console.log(`Wrote ${out} (${result.png.length} bytes)`)
} finally {
  await renderer.close()
}
