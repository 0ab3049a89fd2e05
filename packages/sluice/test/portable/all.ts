/**
 * Every portable suite file, imported for its `test()` registrations. Add new files here: each
 * runtime's entry imports this one module.
 */
import './ndjson.portable.js'
import './sse.portable.js'
import './fetch.portable.js'
import './resume.portable.js'
import './serve.portable.js'
