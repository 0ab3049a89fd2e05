/** The lab page: the client on `window.sluice`, for end-to-end tests of browser-only behaviour. */
import * as sluice from 'sluice'

;(window as unknown as { sluice: typeof sluice }).sluice = sluice
document.body.dataset.ready = 'true'
