/**
 * A self-signed certificate for loopback TLS tests, made by Debian's `openssl` in a temp dir that
 * `remove()` deletes. Valid for `localhost` and `127.0.0.1`, for one day.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

export interface Certificate {
  /** PEM text. */
  key: string
  cert: string
  /** The directory holding `key.pem` and `cert.pem` (for nginx's `ssl_certificate`). */
  dir: string
  keyFile: string
  certFile: string
  remove(): Promise<void>
}

/** Makes a fresh P-256 key and self-signed certificate with `openssl req -x509`. */
export async function makeCertificate(): Promise<Certificate> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-tls-'))
  const keyFile = join(dir, 'key.pem')
  const certFile = join(dir, 'cert.pem')
  try {
    await promisify(execFile)(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        // A leaf, not a CA: rustls (Deno's fetch) refuses a CA certificate used as the server's own.
        '-addext',
        'basicConstraints=critical,CA:FALSE',
        '-addext',
        'extendedKeyUsage=serverAuth',
      ],
      { timeout: 10_000 },
    )
  } catch (error) {
    await rm(dir, { recursive: true, force: true })
    throw new Error('Cannot make a test certificate: install openssl (scripts/bootstrap.sh does)', { cause: error })
  }
  return {
    key: await readFile(keyFile, 'utf8'),
    cert: await readFile(certFile, 'utf8'),
    dir,
    keyFile,
    certFile,
    remove: () => rm(dir, { recursive: true, force: true }),
  }
}
