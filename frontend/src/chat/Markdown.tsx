// Renders a model's Markdown safely: no raw HTML (react-markdown drops it without
// rehype-raw), only http(s)/mailto/relative links, and images are never fetched
// until the reader clicks — a reply cannot make the browser call a tracking URL.
import { memo, useRef, useState, type ReactNode } from 'react'
import ReactMarkdown, { type Components } from 'react-markdown'
import remarkGfm from 'remark-gfm'
import { rehypeHighlightLite } from './highlight'

const SAFE_PROTOCOL = /^(https?|mailto):$/i

/** Keeps http(s), mailto and relative/fragment URLs; anything else becomes ''. */
export function safeUrl(url: string): string {
  const trimmed = url.trim()
  // Strip control characters and whitespace browsers ignore inside a scheme ("java\tscript:").
  const compact = trimmed.replace(/[\u0000-\u0020\u007f]/g, '')
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(compact)
  if (!scheme) return trimmed
  return SAFE_PROTOCOL.test(`${scheme[1]}:`) ? trimmed : ''
}

function hostOf(url: string): string {
  try {
    return new URL(url, window.location.href).host || url
  } catch {
    return url
  }
}

function DeferredImage({ src, alt }: { src?: string; alt?: string }) {
  const [load, setLoad] = useState(false)
  if (!src) return <span className="img-blocked">[image: {alt || 'no source'}]</span>
  if (!/^https?:/i.test(src)) return <span className="img-blocked">[image: {alt || src}]</span>
  if (!load) {
    return (
      <button type="button" className="img-placeholder" onClick={() => setLoad(true)} title={src}>
        Load image from {hostOf(src)}
        {alt ? <span className="muted"> — {alt}</span> : null}
      </button>
    )
  }
  return <img src={src} alt={alt ?? ''} referrerPolicy="no-referrer" loading="lazy" />
}

function CodeBlock({ children }: { children?: ReactNode }) {
  const ref = useRef<HTMLPreElement>(null)
  const [copied, setCopied] = useState(false)
  const copy = async () => {
    const text = ref.current?.textContent ?? ''
    try {
      await navigator.clipboard.writeText(text)
    } catch {
      // Clipboard API needs a secure context; fall back to a selection copy.
      const range = document.createRange()
      if (ref.current) {
        range.selectNodeContents(ref.current)
        const sel = window.getSelection()
        sel?.removeAllRanges()
        sel?.addRange(range)
        document.execCommand('copy')
        sel?.removeAllRanges()
      }
    }
    setCopied(true)
    setTimeout(() => setCopied(false), 1500)
  }
  return (
    <div className="code-block">
      <button type="button" className="copy-btn" onClick={copy} aria-label="Copy code">
        {copied ? 'Copied' : 'Copy'}
      </button>
      <pre ref={ref}>{children}</pre>
    </div>
  )
}

const components: Components = {
  a: ({ href, children }) =>
    href ? (
      <a href={href} target="_blank" rel="noopener noreferrer nofollow">
        {children}
      </a>
    ) : (
      <span>{children}</span>
    ),
  img: ({ src, alt }) => <DeferredImage src={typeof src === 'string' ? src : undefined} alt={alt} />,
  pre: ({ children }) => <CodeBlock>{children}</CodeBlock>,
}

const rehypePlugins = [rehypeHighlightLite]
const remarkPlugins = [remarkGfm]

export const Markdown = memo(function Markdown({ text }: { text: string }) {
  return (
    <div className="markdown">
      <ReactMarkdown
        remarkPlugins={remarkPlugins}
        rehypePlugins={rehypePlugins}
        components={components}
        urlTransform={safeUrl}
        skipHtml
      >
        {text}
      </ReactMarkdown>
    </div>
  )
})
