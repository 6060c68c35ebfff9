import type * as Vega from 'vega'
import type { TopLevelSpec } from 'vega-lite'
import type { ChartEntry } from './charts.js'

/**
 * Vega-Lite → SVG in Node: no browser, no canvas, no network. Specs carry their data
 * inline; the loader below refuses every request, so a spec that asks for a URL fails
 * loudly instead of fetching.
 */

const refuse =
  (what: string) =>
  async (uri: string): Promise<never> => {
    throw new Error(`ipcbench charts never load external resources (${what} "${uri}" refused); put the data inline`)
  }

const noNetworkLoader: Vega.Loader = {
  load: refuse('load'),
  sanitize: refuse('sanitize'),
  http: refuse('http'),
  file: refuse('file'),
}

/**
 * vega and vega-lite are loaded on first use: they are hundreds of modules, which
 * every ipcbench command would otherwise open at start (and a run under a low
 * `ulimit -n` could not start at all).
 */
let libs: Promise<{ vega: typeof Vega; compile: typeof import('vega-lite').compile }> | undefined
const loadLibs = () => (libs ??= Promise.all([import('vega'), import('vega-lite')]).then(([vega, vl]) => ({ vega, compile: vl.compile })))

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const { vega, compile } = await loadLibs()
  const vgSpec = compile(spec).spec
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none', loader: noNetworkLoader })
  try {
    return hoverTitles(await view.toSVG())
  } finally {
    view.finalize()
  }
}

/**
 * Exact values on hover without a script: vega writes a mark's `description` as its
 * `aria-label`; a `<title>` child with the same text is what browsers show as a tooltip.
 * Only data marks (`role="graphics-symbol"`) get one; the label is already escaped.
 */
export function hoverTitles(svg: string): string {
  return svg.replace(
    /<(path|line|rect|text)(\s[^>]*?aria-label="([^"]*)"[^>]*?role="graphics-symbol"[^>]*?)\/>/g,
    (_m, tag: string, attrs: string, label: string) => `<${tag}${attrs}><title>${label}</title></${tag}>`,
  )
}

export interface RenderedChart extends ChartEntry {
  /** Set when the entry has a spec. */
  svg?: string
}

/** Renders every chart that has a spec, concurrently; notes pass through unrendered. */
export async function renderCharts(charts: ChartEntry[]): Promise<RenderedChart[]> {
  return Promise.all(charts.map(async (c) => (c.spec ? { ...c, svg: await renderSvg(c.spec) } : { ...c })))
}
