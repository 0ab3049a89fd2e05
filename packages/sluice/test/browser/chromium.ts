/** The system Chromium (Debian's `chromium`): $CHROMIUM_PATH, else the first of these names on PATH. Nothing is downloaded. */
import { execFileSync } from 'node:child_process'

export function systemChromium(): string | undefined {
  if (process.env['CHROMIUM_PATH']) return process.env['CHROMIUM_PATH']
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      return execFileSync('sh', ['-c', `command -v ${name}`], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim()
    } catch {
      // not on PATH: try the next name
    }
  }
  return undefined
}

/** The flags every Chromium of the suites runs with (background networking off: this machine has no network). */
export const CHROMIUM_ARGS = ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking']
