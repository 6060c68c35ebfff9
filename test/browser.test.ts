import { accessSync, constants, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { chromium } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { renderHtmlReport } from '../src/report/html.js'
import { parseRun } from '../src/report/load.js'
import { ROOT, tempFile } from './helpers.js'

/**
 * The HTML report in a real browser: the charts are drawn, visible and not blank, and
 * the page asks for nothing outside its own file. Needs a Chromium
 * (scripts/install-chromium.sh installs Debian's); without one the test skips, saying why.
 */

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const path = join(dir, name)
    try {
      accessSync(path, constants.X_OK)
      return path
    } catch {
      // not in this directory
    }
  }
  return undefined
}

function findChromium(): string | undefined {
  for (const name of ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']) {
    const path = onPath(name)
    if (path) return path
  }
  try {
    const own = chromium.executablePath()
    if (own && existsSync(own)) return own
  } catch {
    // playwright-core has no browser of its own unless one was downloaded
  }
  return undefined
}

const exe = findChromium()
if (!exe)
  console.log(
    'browser test skipped: no chromium, chromium-browser or google-chrome on PATH, and no playwright browser; run scripts/install-chromium.sh to enable it',
  )

describe('the HTML report in a browser', () => {
  it.skipIf(!exe)(
    'shows at least six drawn charts, fetches nothing, and is not blank',
    async () => {
      // Read as the report command reads it: the run@1 fixture brought up to date (its warnings were strings).
      const fixture = join(ROOT, 'test', 'fixtures', 'run-a.json')
      const run = parseRun(readFileSync(fixture, 'utf8'), fixture)
      const htmlPath = tempFile('report.html')
      writeFileSync(htmlPath, await renderHtmlReport([run]))

      const browser = await chromium.launch({ executablePath: exe, args: ['--no-sandbox'], headless: true })
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } })
        await page.goto('about:blank')
        const blank = await page.screenshot({ fullPage: true })

        const outside: string[] = []
        page.on('request', (req) => {
          if (!req.url().startsWith('file:') && !req.url().startsWith('data:')) outside.push(req.url())
        })
        await page.goto(pathToFileURL(htmlPath).href, { waitUntil: 'load' })

        // Per inline SVG: its box, and the data marks vega drew in it (points, lines, rules, bars).
        const svgs = await page.$$eval('main svg', (els) =>
          els.map((svg) => {
            const box = svg.getBoundingClientRect()
            const marks = svg.querySelectorAll('g.role-mark > path, g.role-mark > line, g.role-mark > text')
            const drawn = [...marks].filter((m) => {
              // Runs in the page: an SVG element has getBBox (this project's types have no DOM lib).
              const b = (m as unknown as { getBBox(): { width: number; height: number } }).getBBox()
              return b.width > 0 || b.height > 0
            })
            const style = (globalThis as unknown as { getComputedStyle(e: unknown): { visibility: string; display: string } }).getComputedStyle(svg)
            return {
              width: box.width,
              height: box.height,
              marks: marks.length,
              drawn: drawn.length,
              visible: style.visibility !== 'hidden' && style.display !== 'none',
            }
          }),
        )
        const charts = svgs.filter((s) => s.visible && s.width > 200 && s.height > 100 && s.drawn > 0)
        expect(charts.length, JSON.stringify(svgs)).toBeGreaterThanOrEqual(6)
        expect(await page.locator('g.mark-symbol.role-mark path').count()).toBeGreaterThan(50)
        expect(await page.locator('g.mark-line.role-mark path').count()).toBeGreaterThan(10)
        expect(await page.locator('table tbody tr').count()).toBeGreaterThan(50)
        expect(outside).toEqual([])

        const shot = await page.screenshot({ fullPage: true })
        // A white page compresses to almost nothing; the drawn report to far more.
        expect(shot.length).toBeGreaterThan(blank.length * 20)
        expect(shot.readUInt32BE(20)).toBeGreaterThan(2000) // PNG height: the full page, charts and tables
      } finally {
        await browser.close()
      }
    },
    30_000,
  )
})
