// `npm run build`: bundles src/ into dist/ (what GitHub runs) with esbuild, tuned for start-up:
// ES modules, minified, split at every dynamic import() so that the ARM SDK and the blob SDK load
// only on the paths that use them, and the packages' ES builds preferred (they tree-shake).
// dist/ is emptied first, so no stale chunk survives; dist/licenses.txt lists every bundled
// package with its license text. The output is deterministic (check-dist compares it).
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { isBuiltin } from 'node:module'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dist = join(root, 'dist')

/**
 * @actions/http-client imports undici (400 KiB, evaluated at start) only for
 * getAgentDispatcher(), which neither @actions/core nor this action calls: a stub that says so
 * stands in for it. @actions/github (its own copy of http-client included) fetches through
 * undici, and keeps the real one: it loads only when the gate comments on a pull request.
 */
const withoutUndici: Plugin = {
  name: 'without-undici',
  setup(plugin) {
    plugin.onResolve({ filter: /^undici$/ }, args => {
      if (/[\\/]@actions[\\/]github[\\/]/.test(args.importer)) return undefined
      if (!/[\\/]@actions[\\/]http-client[\\/]/.test(args.importer)) {
        throw new Error(
          `undici is stubbed for @actions/http-client only, imported by ${args.importer}`
        )
      }
      return { path: 'undici', namespace: 'stub' }
    })
    plugin.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
      loader: 'js',
      contents:
        'export class ProxyAgent { constructor() { throw new Error("undici is not bundled: getAgentDispatcher() is not available") } }'
    }))
  }
}

/**
 * Node defines the global FormData lazily: its first mention loads Node's internal fetch stack
 * (about 18 ms). The Azure pipeline's form-data policy mentions it for every request, so the
 * first request would wait for it although no body of ours is a FormData. A string or absent
 * body cannot be one, nor can an object that does not call itself one (Node's FormData has the
 * FormData tag): the check asks that first. The ARM SDK's object bodies (a model version PUT)
 * loaded it mid-run otherwise.
 */
const lazyFormData: Plugin = {
  name: 'lazy-form-data',
  setup(plugin) {
    plugin.onLoad(
      { filter: /[\\/]@typespec[\\/]ts-http-runtime[\\/]dist[\\/]esm[\\/]formData\.js$/ },
      args => {
        const source = readFileSync(args.path, 'utf8')
        const check = 'typeof FormData !== "undefined" && body instanceof FormData'
        if (!source.includes(check)) throw new Error(`${args.path} changed: revisit lazyFormData`)
        return {
          loader: 'js',
          contents: source.replace(
            check,
            `typeof body === "object" && body !== null && Object.prototype.toString.call(body) === "[object FormData]" && ${check}`
          )
        }
      }
    )
  }
}

/**
 * Node 24 builds the ES module namespace of a built-in module by reading every export, and so
 * runs its lazy getters: node:http's WebSocket getter alone loads Node's internal undici, and
 * node:util, node:process and node:fs load more (about 40 ms before the first request, on Node
 * 24 only). require() hands back the same exports object without touching them, so the
 * bundle's imports of Node's modules go through the banner's require, as its CommonJS
 * packages' own calls already do.
 */
const builtinsByRequire: Plugin = {
  name: 'builtins-by-require',
  setup(plugin) {
    plugin.onResolve({ filter: /^[\w:/]+$/ }, args => {
      if (!isBuiltin(args.path)) return undefined
      if (args.namespace === 'builtin') return { path: args.path, external: true }
      if (args.kind !== 'import-statement' && args.kind !== 'dynamic-import') return undefined
      // One stand-in per importer, so that it lands in the importer's chunk: shared ones became
      // chunks of their own, each one more module for Node to load at start.
      const name = args.path.replace(/^(node:)?/, 'node:')
      // (The name comes last: a path ending in .mjs would make esbuild read it as an ES module.)
      return { path: `${relative(root, args.importer)} imports ${name}`, namespace: 'builtin' }
    })
    plugin.onLoad({ filter: /.*/, namespace: 'builtin' }, args => ({
      loader: 'js',
      contents: `module.exports = require(${JSON.stringify(args.path.split(' imports ')[1])})`
    }))
  }
}

/**
 * msal-node imports jsonwebtoken (with semver, about 80 KiB evaluated at start) only to sign
 * client assertions from a certificate, which this action never creates: a stand-in loads it
 * on the first signature instead. esbuild keeps a bundled CommonJS package's body in a
 * function until something requires it.
 */
const lazyJsonWebToken: Plugin = {
  name: 'lazy-jsonwebtoken',
  setup(plugin) {
    plugin.onResolve({ filter: /^jsonwebtoken$/ }, args => {
      if (args.kind !== 'import-statement') return undefined
      if (!/[\\/]@azure[\\/]msal-node[\\/]/.test(args.importer)) {
        throw new Error(`jsonwebtoken is deferred for msal-node only, imported by ${args.importer}`)
      }
      return { path: 'jsonwebtoken', namespace: 'lazy', pluginData: dirname(args.importer) }
    })
    plugin.onLoad({ filter: /.*/, namespace: 'lazy' }, args => ({
      loader: 'js',
      resolveDir: args.pluginData as string,
      contents: 'export default { sign: (...args) => require("jsonwebtoken").sign(...args) }'
    }))
  }
}

rmSync(dist, { recursive: true, force: true })
mkdirSync(dist)
const options = {
  absWorkingDir: root,
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  // The oldest Node that package.json's engines allows: nothing newer than it can run is emitted.
  target: 'node22',
  format: 'esm',
  splitting: true,
  minify: true,
  sourcemap: 'linked',
  legalComments: 'none',
  mainFields: ['module', 'main'],
  // Bundled CommonJS packages still call require() for Node's own modules.
  banner: {
    js: "import{createRequire as __gateRequire}from'node:module';const require=__gateRequire(import.meta.url);"
  },
  plugins: [withoutUndici, lazyFormData, builtinsByRequire, lazyJsonWebToken],
  metafile: true,
  logLevel: 'warning'
} satisfies BuildOptions
const result = await build({ ...options, entryPoints: ['src/index.ts'] })
// The verify action (verify/action.yml) is built on its own, so that the gate's chunks, and so
// its start-up, stay exactly what they would be without it; identical chunks coincide.
const verify = await build({ ...options, entryPoints: { verify: 'src/verify/index.ts' } })
writeFileSync(join(dist, 'package.json'), '{ "type": "module" }\n')
writeFileSync(join(dist, 'licenses.txt'), licenses([result.metafile, verify.metafile]))

for (const metafile of [result.metafile, verify.metafile]) {
  for (const [file, output] of Object.entries(metafile.outputs)) {
    if (file.endsWith('.js'))
      console.log(`${(output.bytes / 1024).toFixed(0).padStart(6)} KiB  ${file}`)
  }
}

/** name, license and license text of every package with code in the bundle, as ncc wrote them. */
function licenses(metafiles: Metafile[]): string {
  const packages = new Map<string, string>()
  for (const input of metafiles.flatMap(metafile => Object.keys(metafile.inputs))) {
    if (input.startsWith('builtin:')) continue // builtinsByRequire's stand-ins
    const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input)
    if (match) packages.set(match[1], match[1])
  }
  const entries: string[] = []
  for (const dir of [...packages.keys()].sort()) {
    const pkg = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as {
      name: string
      license?: string
    }
    const file = readdirSync(join(root, dir)).find(f => /^(licen[cs]e|copying)(\.|$)/i.test(f))
    const text = file ? readFileSync(join(root, dir, file), 'utf8').trim() : ''
    entries.push(`${pkg.name}\n${pkg.license ?? 'UNKNOWN'}\n${text}`)
  }
  // The same package can be installed at several paths; list it once.
  return [...new Set(entries)].sort().join('\n\n') + '\n'
}

for (const entry of ['index.js', 'verify.js']) {
  if (!existsSync(join(dist, entry))) throw new Error(`no ${relative(root, dist)}/${entry}`)
}
