// window.PostUtils: formatText turns Mattermost markdown into HTML and
// messageHtmlToComponent turns that HTML into React elements. This is a
// small subset of Mattermost's markdown (bold, italic, strike, inline and
// fenced code, links, autolinks, mentions, channel links, line breaks),
// enough for plugins that format a message the way posts look; the host
// renders posts with the same two functions.
import {createElement, Fragment, type ReactNode} from 'react';

export interface FormatOptions {
    /** Wrap the result in <p> (Mattermost's default). */
    singleline?: boolean;
    atMentions?: boolean;
    markdown?: boolean;
    /** Highlight mentionKeys (Mattermost's default: true). */
    mentionHighlight?: boolean;
    /** Words that mention the reader (`{key: '@bob'}`), highlighted as Mattermost's mention--highlight. */
    mentionKeys?: Array<{key: string; caseSensitive?: boolean}>;
}

const escapes: Record<string, string> = {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'};

export function escapeHTML(s: string): string {
    return s.replace(/[&<>"']/g, (c) => escapes[c]);
}

function safeURL(url: string): string | null {
    const u = url.trim();
    if (/^(https?:\/\/|mailto:|\/)/i.test(u)) {
        return u;
    }
    return null;
}

function inline(text: string, opts: FormatOptions): string {
    // Inline code first, protected from the other rules by placeholders.
    const codes: string[] = [];
    let s = text.replace(/`([^`\n]+)`/g, (_, c: string) => {
        codes.push(`<code>${escapeHTML(c)}</code>`);
        return `\u0000${codes.length - 1}\u0000`;
    });
    s = escapeHTML(s);
    if (opts.markdown !== false) {
        s = s.replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (m, label: string, url: string) => {
            const href = safeURL(url.replace(/&amp;/g, '&'));
            return href ? `<a class="theme markdown__link" href="${escapeHTML(href)}" rel="noreferrer" target="_blank">${label}</a>` : m;
        });
        s = s.replace(/(^|[\s(])(https?:\/\/[^\s<)]+)/g, (_, pre: string, url: string) =>
            `${pre}<a class="theme markdown__link" href="${url}" rel="noreferrer" target="_blank">${url}</a>`);
        s = s.replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
        s = s.replace(/(^|[^*\w])\*([^*\n]+)\*(?!\w)/g, '$1<em>$2</em>');
        s = s.replace(/(^|[^_\w])_([^_\n]+)_(?!\w)/g, '$1<em>$2</em>');
        s = s.replace(/~~([^~]+)~~/g, '<del>$1</del>');
    }
    if (opts.atMentions !== false) {
        s = s.replace(/(^|[^\w@])@([a-z0-9.\-_]+)/gi, '$1<span class="mention-link" data-mention="$2">@$2</span>');
    }
    s = s.replace(/(^|[^\w&])#([A-Za-z][\w-]+)/g, '$1<span class="hashtag">#$2</span>');
    if (opts.mentionHighlight !== false && opts.mentionKeys?.length) {
        for (const {key, caseSensitive} of opts.mentionKeys) {
            const k = escapeHTML(key).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
            if (!k) {
                continue;
            }
            // Outside tags only: split on them, highlight in the text between.
            const re = new RegExp(`(^|[^\\w@])(${k})(?![\\w])`, caseSensitive ? 'g' : 'gi');
            s = s.split(/(<[^>]*>)/).map((part) => (part.startsWith('<') ? part : part.replace(re, '$1<span class="mention--highlight">$2</span>'))).join('');
        }
    }
    return s.replace(/\u0000(\d+)\u0000/g, (_, i: string) => codes[Number(i)]);
}

/** Mattermost's PostUtils.formatText(text, options): markdown to an HTML string. */
export function formatText(text: string, options: FormatOptions = {}): string {
    const src = text ?? '';
    const parts: string[] = [];
    // Fenced code blocks keep their text verbatim.
    const fence = /```(\w*)\n([\s\S]*?)```/g;
    let last = 0;
    for (let m = fence.exec(src); m; m = fence.exec(src)) {
        parts.push(paragraphs(src.slice(last, m.index), options));
        parts.push(`<pre><code class="language-${escapeHTML(m[1] || 'text')}">${escapeHTML(m[2])}</code></pre>`);
        last = m.index + m[0].length;
    }
    parts.push(paragraphs(src.slice(last), options));
    return parts.join('');
}

function paragraphs(text: string, opts: FormatOptions): string {
    const t = text.replace(/^\n+|\n+$/g, '');
    if (!t) {
        return '';
    }
    const html = t.split(/\n{2,}/).map((p) => p.split('\n').map((l) => inline(l, opts)).join('<br>'));
    if (opts.singleline) {
        return html.join(' ');
    }
    return html.map((p) => `<p>${p}</p>`).join('');
}

const allowedTags = new Set(['p', 'br', 'strong', 'b', 'em', 'i', 'del', 'code', 'pre', 'a', 'span', 'div', 'ul', 'ol', 'li', 'blockquote', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'img']);
const allowedAttrs: Record<string, string> = {class: 'className', href: 'href', target: 'target', rel: 'rel', title: 'title', src: 'src', alt: 'alt', 'data-mention': 'data-mention'};

function toReact(node: Node, key: number): ReactNode {
    if (node.nodeType === Node.TEXT_NODE) {
        return node.textContent;
    }
    if (node.nodeType !== Node.ELEMENT_NODE) {
        return null;
    }
    const el = node as Element;
    const tag = el.tagName.toLowerCase();
    const children = Array.from(el.childNodes, toReact);
    if (!allowedTags.has(tag)) {
        return createElement(Fragment, {key}, ...children);
    }
    const props: Record<string, unknown> = {key};
    for (const a of Array.from(el.attributes)) {
        const name = allowedAttrs[a.name];
        if (!name) {
            continue;
        }
        if ((name === 'href' || name === 'src') && !safeURL(a.value)) {
            continue;
        }
        props[name] = a.value;
    }
    return tag === 'br' || tag === 'hr' || tag === 'img' ? createElement(tag, props) : createElement(tag, props, ...children);
}

/**
 * Mattermost's PostUtils.messageHtmlToComponent(html, isRHS, options): HTML
 * (from formatText) to React elements, keeping only harmless tags and
 * attributes, so a plugin cannot smuggle script through it.
 */
export function messageHtmlToComponent(html: string, _isRHS = false, options: {images?: boolean; mentions?: boolean} = {}): ReactNode {
    const doc = new DOMParser().parseFromString(`<body>${html}</body>`, 'text/html');
    // Mattermost's options: images: false drops images; mentions: false
    // leaves @mentions as text instead of mention components.
    if (options.images === false) {
        doc.body.querySelectorAll('img').forEach((n) => n.remove());
    }
    if (options.mentions === false) {
        doc.body.querySelectorAll('span[data-mention]').forEach((n) => n.replaceWith(doc.createTextNode(n.textContent ?? '')));
    }
    return createElement(Fragment, null, ...Array.from(doc.body.childNodes, toReact));
}
