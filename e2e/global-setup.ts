/** Starts the demo once for every test (on the port the config chose) and stops it afterwards. */
import { startDemo } from './demo-server.js'

export default async function globalSetup(): Promise<() => Promise<void>> {
  const demo = await startDemo(Number(process.env.DEMO_PORT))
  console.log(`e2e: demo started at ${demo.url}`)
  return () => demo.stop()
}
