/**
 * The second demo page: the dashboard's store (metrics-store.ts, same key) rendered with React through
 * `useStream` (sluice/react). Opened beside the dashboard, it shares the dashboard's one connection.
 * Plain `createElement`: no JSX, so no React plugin in Vite.
 */
import { createElement as h, useEffect, useState } from 'react'
import { createRoot } from 'react-dom/client'
import { useStream } from 'sluice/react'
import { ENDPOINTS } from './metric.js'
import { type Format, metricsStore, serverStreams, sharedClient } from './metrics-store.js'
import './style.css'

const format: Format = new URLSearchParams(location.search).get('format') === 'sse' ? 'sse' : 'ndjson'
const store = metricsStore(format, sharedClient())
let renders = 0
;(window as unknown as { __sluiceReact: { store: typeof store; renders: () => number } }).__sluiceReact = {
  store,
  renders: () => renders,
}

function Counter({ id, label, value }: { id: string; label: string; value: string }) {
  return h('div', null, h('dt', null, label), h('dd', { id }, value))
}

function Streams() {
  const [count, setCount] = useState<number | undefined>()
  useEffect(() => {
    const poll = () => void serverStreams().then(setCount)
    poll()
    const timer = setInterval(poll, 1000)
    return () => clearInterval(timer)
  }, [])
  return h(Counter, { id: 'c-connections', label: 'Server streams', value: count === undefined ? '–' : String(count) })
}

function Dashboard() {
  const snap = useStream(store)
  renders++
  const { value } = snap
  const latest = value.recent.at(-1)
  return h(
    'main',
    null,
    h(
      'header',
      { className: 'bar' },
      h('h1', null, 'sluice ', h('span', { className: 'sub' }, 'the same store, in React')),
      h('a', { className: 'sub', href: `/?format=${format}` }, 'Dashboard'),
      h('p', { id: 'badge', className: 'badge', role: 'status', 'data-state': snap.state }, snap.state),
      // The feed's caught-up marker, as the dashboard shows it (the store's snapshot carries it to every tab).
      h(
        'p',
        { id: 'feed', className: 'badge feed', 'data-live': String(snap.live) },
        snap.live ? 'live' : 'loading history',
      ),
    ),
    h(
      'dl',
      { className: 'counters' },
      h(Counter, { id: 'c-records', label: 'Records', value: String(value.count) }),
      h(Counter, { id: 'c-last', label: 'Last id', value: value.last === undefined ? '–' : String(value.last) }),
      h(Counter, { id: 'c-gaps', label: 'Gaps in ids', value: String(value.gaps) }),
      h(Counter, { id: 'c-role', label: 'This tab', value: snap.role }),
      h(Streams, null),
    ),
    h('h2', null, 'Endpoints (last sample)'),
    h(
      'table',
      { id: 'endpoints' },
      h(
        'tbody',
        null,
        ENDPOINTS.map((path) =>
          h(
            'tr',
            { key: path },
            h('td', null, path),
            h('td', null, latest ? String(latest.endpoints[path] ?? 0) : '–'),
          ),
        ),
      ),
    ),
  )
}

createRoot(document.getElementById('root')!).render(h(Dashboard))
