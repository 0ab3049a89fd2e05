// The bundle with every string's text removed: the size of the code alone, a floor that no rewording
// of messages can go below. Tokenised with TypeScript's scanner (regular expressions and nested
// template literals included), so the result is the same program with empty strings: the size check
// prints its gzip beside the real one (docs/runtimes.md: "what the targets would take").
import { createRequire } from 'node:module'
import { resolve } from 'node:path'

const ts = createRequire(resolve(import.meta.dirname, '..', '..', '..', 'package.json'))('typescript')
const Kind = ts.SyntaxKind
// After these a `/` divides; after anything else it starts a regular expression.
const ENDS_OPERAND = new Set([
  Kind.Identifier,
  Kind.PrivateIdentifier,
  Kind.CloseParenToken,
  Kind.CloseBracketToken,
  Kind.NumericLiteral,
  Kind.StringLiteral,
  Kind.NoSubstitutionTemplateLiteral,
  Kind.TemplateTail,
  Kind.RegularExpressionLiteral,
  Kind.ThisKeyword,
  Kind.TrueKeyword,
  Kind.FalseKeyword,
  Kind.NullKeyword,
])
const EMPTY = {
  [Kind.NoSubstitutionTemplateLiteral]: '``',
  [Kind.TemplateHead]: '`${',
  [Kind.TemplateMiddle]: '}${',
  [Kind.TemplateTail]: '}`',
}

/** `code` (JavaScript) with the text of every string and template literal removed. */
export function blankStrings(code) {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, false, ts.LanguageVariant.Standard, code)
  const braces = [] // '{' for a block or object, '`' for a template's `${`
  let out = ''
  let copied = 0
  let previous = Kind.OpenParenToken
  for (let token = scanner.scan(); token !== Kind.EndOfFileToken; token = scanner.scan()) {
    if (token === Kind.OpenBraceToken) braces.push('{')
    else if (token === Kind.CloseBraceToken) {
      if (braces.at(-1) === '`') token = scanner.reScanTemplateToken(false)
      if (token !== Kind.TemplateMiddle) braces.pop()
    } else if ((token === Kind.SlashToken || token === Kind.SlashEqualsToken) && !ENDS_OPERAND.has(previous)) {
      token = scanner.reScanSlashToken()
    }
    if (token === Kind.TemplateHead) braces.push('`')
    const empty = token === Kind.StringLiteral ? code[scanner.getTokenStart()].repeat(2) : EMPTY[token]
    if (empty !== undefined) {
      out += code.slice(copied, scanner.getTokenStart()) + empty
      copied = scanner.getTextPos()
    }
    previous = token
  }
  return out + code.slice(copied)
}
