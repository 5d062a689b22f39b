// Syntax highlighting for fenced code blocks with a language tag, with only the
// grammars in ./languages (rehype-highlight would bundle ~40 of them).
import type { Element, Root } from 'hast'
import { toText } from 'hast-util-to-text'
import { createLowlight } from 'lowlight'
import { visit } from 'unist-util-visit'
import { aliases, languages } from './languages'

const lowlight = createLowlight(languages)
lowlight.registerAlias(aliases)

function languageOf(node: Element): string | null {
  const classes = node.properties?.className
  if (!Array.isArray(classes)) return null
  for (const c of classes) {
    const s = String(c)
    if (s.startsWith('language-')) return s.slice('language-'.length)
  }
  return null
}

export function rehypeHighlightLite() {
  return (tree: Root) => {
    visit(tree, 'element', (node: Element, _index, parent) => {
      if (node.tagName !== 'code' || !parent || (parent as Element).tagName !== 'pre') return
      const lang = languageOf(node)
      if (!lang || !lowlight.registered(lang)) return
      try {
        const result = lowlight.highlight(lang, toText(node, { whitespace: 'pre' }), { prefix: 'hljs-' })
        node.children = result.children as Element['children']
        const cls = Array.isArray(node.properties.className) ? node.properties.className : []
        node.properties.className = [...cls, 'hljs']
      } catch {
        // Leave the block plain; highlighting is cosmetic.
      }
    })
  }
}
