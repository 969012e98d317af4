// Renders the job summary the way a person sees it: markdown → HTML (marked), mermaid blocks drawn
// by the mermaid package from node_modules, in headless Chromium, with every network request
// refused. Used by __tests__/summary and by `npm run docs:screenshot` (docs/summary.png).
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Marked } from 'marked'
import { chromium, type BrowserContext } from 'playwright-core'
import type { Outcome } from '../src/outcome.js'

const require = createRequire(import.meta.url)

/** Where to look for a browser: $CHROMIUM_PATH, then Debian's chromium, then Google Chrome. */
const BROWSERS = [
  '/usr/bin/chromium',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/usr/bin/chromium-browser'
]

export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.CHROMIUM_PATH) return existsSync(env.CHROMIUM_PATH) ? env.CHROMIUM_PATH : undefined
  return BROWSERS.find(path => existsSync(path))
}

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync'
]

/** A registered model with a short history: what a person most often sees. */
export function sampleOutcome(overrides: Partial<Outcome> = {}): Outcome {
  const wsid =
    '%2Fsubscriptions%2F00000000-0000-0000-0000-000000000000%2FresourceGroups%2Frg-ml%2Fproviders%2FMicrosoft.MachineLearningServices%2Fworkspaces%2Fws-ml'
  return {
    registered: true,
    reason: 'better',
    why: 'Registered: 0.9733 beats champion v3 0.9667 by 0.0066 (higher is better).',
    dryRun: false,
    modelName: 'iris-classifier',
    modelVersion: '4',
    modelId:
      '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ml/providers/Microsoft.MachineLearningServices/workspaces/ws-ml/models/iris-classifier/versions/4',
    modelUri: 'azureml:iris-classifier:4',
    artifactUri: 'azureml://jobs/quiet_lemon_4k2v/outputs/artifacts/paths/model.pkl',
    metric: 'accuracy',
    metricValue: '0.9733',
    higherIsBetter: true,
    championVersion: '3',
    championValue: '0.9667',
    improvement: '0.0066',
    metricPassed: true,
    guardrails: [],
    modelType: 'RandomForestClassifier',
    runId: 'quiet_lemon_4k2v',
    metricSource: 'tag',
    metricRunId: 'quiet_lemon_4k2v',
    championNote: '',
    tagsSource: 'quiet_lemon_4k2v',
    history: [
      { version: '3', value: '0.9667' },
      { version: '2', value: '0.9533' },
      { version: '1', value: '0.9333' }
    ],
    links: {
      run: `https://ml.azure.com/runs/quiet_lemon_4k2v?wsid=${wsid}`,
      model: `https://ml.azure.com/model/iris-classifier:4/details?wsid=${wsid}`
    },
    rule: { minImprovement: '0', minRelativeImprovement: '0', threshold: '', compareTo: 'latest' },
    ...overrides
  }
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"]/g,
    c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!
  )
}

/** GitHub-flavoured markdown to a page; ```mermaid blocks become <pre class="mermaid">. */
export function summaryHtml(markdown: string): string {
  const marked = new Marked({ gfm: true })
  marked.use({
    renderer: {
      code({ text, lang }) {
        if (lang === 'mermaid') return `<pre class="mermaid">${escapeHtml(text)}</pre>\n`
        return false
      }
    }
  })
  const body = marked.parse(markdown, { async: false })
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Job summary</title>
<style>
  body { font: 14px/1.5 -apple-system, 'Segoe UI', 'Noto Sans', Helvetica, Arial, sans-serif;
    color: #1f2328; background: #fff; margin: 0; padding: 24px 32px; width: 880px; }
  h2 { border-bottom: 1px solid #d1d9e0; padding-bottom: .3em; font-size: 1.5em; }
  table { border-collapse: collapse; margin: 12px 0; }
  th, td { border: 1px solid #d1d9e0; padding: 6px 13px; }
  tr:nth-child(2n) { background: #f6f8fa; }
  a { color: #0969da; text-decoration: none; }
  pre { background: #f6f8fa; padding: 12px; border-radius: 6px; overflow: auto; }
  pre.mermaid { background: #fff; text-align: center; }
  details { margin-top: 12px; }
</style></head>
<body><div class="markdown-body">${body}</div></body></html>`
}

export interface MermaidResult {
  /** Source of each mermaid block */
  sources: string[]
  /** Number of blocks that mermaid turned into an SVG diagram (not an error SVG) */
  rendered: number
  /** Parse or render errors, one per failing block */
  errors: string[]
  /** Text inside the drawn diagrams (titles, axis labels) */
  svgText: string
}

export interface Rendered {
  html: string
  /** Visible text of the page after rendering */
  text: string
  mermaid: MermaidResult
  png: Buffer
}

/**
 * One browser for several pages. Chromium runs with a fresh, empty profile and every request
 * other than the page itself is refused, so nothing leaves the machine.
 */
export class SummaryRenderer {
  private constructor(
    private readonly context: BrowserContext,
    private readonly profile: string
  ) {}

  static async launch(executablePath: string): Promise<SummaryRenderer> {
    const profile = mkdtempSync(join(tmpdir(), 'summary-chromium-'))
    const context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 944, height: 800 },
      deviceScaleFactor: 1,
      offline: true
    })
    await context.route('**/*', route =>
      route.request().url().startsWith('data:') ? route.continue() : route.abort()
    )
    return new SummaryRenderer(context, profile)
  }

  async render(markdown: string, pngPath?: string): Promise<Rendered> {
    const html = summaryHtml(markdown)
    const page = await this.context.newPage()
    try {
      const consoleErrors: string[] = []
      page.on('console', message => {
        if (message.type() === 'error') consoleErrors.push(message.text())
      })
      await page.setContent(html, { waitUntil: 'load' })
      await page.addScriptTag({ path: require.resolve('mermaid/dist/mermaid.min.js') })
      const mermaid = await page.evaluate(runMermaid)
      if (consoleErrors.length > 0 && mermaid.errors.length === 0 && mermaid.sources.length > 0) {
        mermaid.errors.push(...consoleErrors.filter(e => /mermaid|syntax|parse/i.test(e)))
      }
      const text = await page.innerText('body')
      const png = await page.screenshot({ path: pngPath, fullPage: true })
      return { html, text, mermaid, png }
    } finally {
      await page.close()
    }
  }

  async close(): Promise<void> {
    await this.context.close()
    rmSync(this.profile, { recursive: true, force: true })
  }
}

/** Runs in the page: parse each block (for exact messages), then draw them all. */
async function runMermaid(): Promise<MermaidResult> {
  // The page's DOM, typed here because this project compiles without the DOM library.
  interface Node {
    textContent: string | null
    querySelector(selector: string): (Node & { getAttribute(name: string): string | null }) | null
  }
  interface MermaidApi {
    initialize(config: Record<string, unknown>): void
    parse(text: string): Promise<unknown>
    run(options: { nodes: Node[]; suppressErrors: boolean }): Promise<void>
  }
  const page = globalThis as unknown as {
    mermaid: MermaidApi
    document: { querySelectorAll(selector: string): Iterable<Node> }
  }
  const api = page.mermaid
  api.initialize({ startOnLoad: false, theme: 'default', securityLevel: 'strict' })
  const nodes = Array.from(page.document.querySelectorAll('pre.mermaid'))
  const sources = nodes.map(node => node.textContent ?? '')
  const errors: string[] = []
  for (const source of sources) {
    try {
      await api.parse(source)
    } catch (error) {
      errors.push(String((error as Error)?.message ?? error))
    }
  }
  await api.run({ nodes, suppressErrors: true })
  const drawn = nodes.filter(node => {
    const svg = node.querySelector('svg')
    if (!svg) return false
    const role = svg.getAttribute('aria-roledescription') ?? ''
    return role !== 'error' && !/Syntax error/i.test(svg.textContent ?? '')
  })
  const svgText = drawn.map(node => node.querySelector('svg')?.textContent ?? '').join('\n')
  return { sources, rendered: drawn.length, errors, svgText }
}
