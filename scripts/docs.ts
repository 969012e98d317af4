// `npm run docs` writes the generated parts of README.md; `npm run docs:check` exits 1 when the
// README has drifted from what it is generated from:
//   <!-- inputs:start --> … <!-- inputs:end -->    the inputs table, from action.yml
//   <!-- outputs:start --> … <!-- outputs:end -->  the outputs table, from action.yml
//   <!-- verify-inputs:start --> … and <!-- verify-outputs:start --> …  the same tables, from
//                                                   verify/action.yml (the verify action)
//   <!-- file:PATH:start --> … <!-- file:PATH:end -->  PATH verbatim in a fenced block (the
//                                                   example workflows)
// and every `reason` value that action.yml lists must be explained in the README.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { extname } from 'node:path'
import * as prettier from 'prettier'
import { parse } from 'yaml'

interface InputSpec {
  description?: string
  required?: boolean
  default?: string | number | boolean
}

interface ActionSpec {
  inputs?: Record<string, InputSpec>
  outputs?: Record<string, { description?: string }>
}

const README = 'README.md'
const ACTION = 'action.yml'
const VERIFY_ACTION = 'verify/action.yml'

/** Table cell text: one line, pipes escaped, angle brackets not taken for HTML. */
function cell(text: string): string {
  return text
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\|/g, '\\|')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .trim()
}

export function inputsTable(action: ActionSpec): string {
  const rows = Object.entries(action.inputs ?? {}).map(([name, spec]) => {
    const fallback = spec.default === undefined ? '' : `\`${String(spec.default)}\``
    const required = spec.required ? 'yes' : ''
    return `| \`${name}\` | ${required} | ${fallback} | ${cell(spec.description ?? '')} |`
  })
  return [
    '| Input | Required | Default | Description |',
    '| --- | --- | --- | --- |',
    ...rows
  ].join('\n')
}

export function outputsTable(action: ActionSpec): string {
  const rows = Object.entries(action.outputs ?? {}).map(
    ([name, spec]) => `| \`${name}\` | ${cell(spec.description ?? '')} |`
  )
  return ['| Output | Description |', '| --- | --- |', ...rows].join('\n')
}

function fence(path: string, text: string): string {
  const lang = { '.yml': 'yaml', '.yaml': 'yaml', '.json': 'json', '.ts': 'ts' }[extname(path)]
  const body = text.endsWith('\n') ? text : `${text}\n`
  return `\`\`\`${lang ?? ''}\n${body}\`\`\``
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** Replaces what lies between `<!-- name:start -->` and `<!-- name:end -->`. */
function replaceBetween(text: string, name: string, content: string, problems: string[]): string {
  const pattern = new RegExp(
    `(<!-- ${escapeRegExp(name)}:start -->)[\\s\\S]*?(<!-- ${escapeRegExp(name)}:end -->)`
  )
  if (!pattern.test(text)) {
    problems.push(`${README} has no '<!-- ${name}:start -->' … '<!-- ${name}:end -->' markers`)
    return text
  }
  return text.replace(
    pattern,
    (_match, start: string, end: string) => `${start}\n\n${content}\n\n${end}`
  )
}

/** PATHs of every `<!-- file:PATH:start -->` marker. */
function embeddedFiles(text: string): string[] {
  return [...text.matchAll(/<!-- file:([^\s>]+):start -->/g)].map(match => match[1])
}

/** The text of the first fenced block between a file's markers, or undefined. */
function embeddedBlock(text: string, path: string): string | undefined {
  const section = new RegExp(
    `<!-- file:${escapeRegExp(path)}:start -->([\\s\\S]*?)<!-- file:${escapeRegExp(path)}:end -->`
  ).exec(text)?.[1]
  return section ? /```[a-z]*\n([\s\S]*?)```/.exec(section)?.[1] : undefined
}

export async function generate(
  readme: string,
  action: ActionSpec,
  verify?: ActionSpec
): Promise<{ text: string; problems: string[] }> {
  const problems: string[] = []
  let text = replaceBetween(readme, 'inputs', inputsTable(action), problems)
  text = replaceBetween(text, 'outputs', outputsTable(action), problems)
  if (verify) {
    text = replaceBetween(text, 'verify-inputs', inputsTable(verify), problems)
    text = replaceBetween(text, 'verify-outputs', outputsTable(verify), problems)
  }
  const files = embeddedFiles(readme)
  for (const path of files) {
    if (!existsSync(path)) {
      problems.push(`${README} embeds ${path}, which does not exist`)
      continue
    }
    text = replaceBetween(text, `file:${path}`, fence(path, readFileSync(path, 'utf8')), problems)
  }
  const config = (await prettier.resolveConfig(README)) ?? {}
  text = await prettier.format(text, { ...config, filepath: README })
  for (const path of files.filter(existsSync)) {
    if (embeddedBlock(text, path) !== readFileSync(path, 'utf8')) {
      problems.push(
        `${path} does not survive formatting inside ${README} unchanged: run prettier on it`
      )
    }
  }
  const reasons = /\bfirst\b.*\|/.test(action.outputs?.reason?.description ?? '')
    ? (action.outputs?.reason?.description ?? '')
        .replace(/\.$/, '')
        .split('|')
        .map(reason => reason.trim())
    : []
  for (const reason of reasons) {
    if (!text.includes(`\`${reason}\``)) {
      problems.push(`${README} does not explain the reason \`${reason}\``)
    }
  }
  return { text, problems }
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check')
  const action = parse(readFileSync(ACTION, 'utf8')) as ActionSpec
  const verify = parse(readFileSync(VERIFY_ACTION, 'utf8')) as ActionSpec
  const readme = readFileSync(README, 'utf8')
  const { text, problems } = await generate(readme, action, verify)
  for (const problem of problems) console.error(problem)
  if (check) {
    if (text !== readme) {
      console.error(
        `${README} is out of date with ${ACTION}, ${VERIFY_ACTION} or the example workflows: run 'npm run docs' and commit it`
      )
      const [a, b] = [readme.split('\n'), text.split('\n')]
      const at = a.findIndex((line, i) => line !== b[i])
      console.error(`first difference at line ${at + 1}:\n- ${a[at] ?? ''}\n+ ${b[at] ?? ''}`)
    }
    process.exitCode = text !== readme || problems.length > 0 ? 1 : 0
    if (process.exitCode === 0) console.log(`${README} is up to date`)
    return
  }
  if (text !== readme) writeFileSync(README, text)
  console.log(text !== readme ? `Updated ${README}` : `${README} is up to date`)
  process.exitCode = problems.length > 0 ? 1 : 0
}

await main()
