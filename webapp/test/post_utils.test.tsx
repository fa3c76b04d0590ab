import {renderToStaticMarkup} from 'react-dom/server';
import {describe, expect, it} from 'vitest';

import {formatText, messageHtmlToComponent} from '../src/post_utils';

const html = (s: string) => renderToStaticMarkup(<>{messageHtmlToComponent(formatText(s))}</>);

describe('PostUtils', () => {
    it('formats Mattermost markdown', () => {
        expect(formatText('**bold** and *it* and `code`')).toBe('<p><strong>bold</strong> and <em>it</em> and <code>code</code></p>');
        expect(formatText('a\nb\n\nc')).toBe('<p>a<br>b</p><p>c</p>');
        expect(formatText('see https://example.com/x')).toContain('<a class="theme markdown__link" href="https://example.com/x"');
        expect(formatText('hi @bob #plugins')).toContain('<span class="mention-link" data-mention="bob">@bob</span>');
        expect(formatText('```go\nx := <y>\n```')).toBe('<pre><code class="language-go">x := &lt;y&gt;\n</code></pre>');
        expect(formatText('one line', {singleline: true})).toBe('one line');
    });

    it('escapes HTML and never lets script through', () => {
        expect(formatText('<img src=x onerror=alert(1)>')).toBe('<p>&lt;img src=x onerror=alert(1)&gt;</p>');
        expect(html('[click](javascript:alert(1))')).not.toContain('href');
        const evil = messageHtmlToComponent('<p onclick="x()">a<script>alert(1)</script><a href="javascript:x()">l</a><img src="javascript:y" onerror="z()"></p>');
        const out = renderToStaticMarkup(<>{evil}</>);
        expect(out).toBe('<p>aalert(1)<a>l</a><img/></p>');
    });

    it('honours Mattermost\'s options: mentionKeys highlight, images and mentions off', () => {
        expect(formatText('ping Bob and bobby', {mentionKeys: [{key: 'bob'}]})).toBe('<p>ping <span class="mention--highlight">Bob</span> and bobby</p>');
        expect(formatText('ping Bob', {mentionKeys: [{key: 'bob', caseSensitive: true}]})).toBe('<p>ping Bob</p>');
        expect(formatText('ping bob', {mentionKeys: [{key: 'bob'}], mentionHighlight: false})).toBe('<p>ping bob</p>');
        const out = (o: Record<string, boolean>) => renderToStaticMarkup(<>{messageHtmlToComponent('<p>hi <span class="mention-link" data-mention="bob">@bob</span><img src="/x.png"></p>', false, o)}</>);
        expect(out({})).toBe('<p>hi <span class="mention-link" data-mention="bob">@bob</span><img src="/x.png"/></p>');
        expect(out({images: false, mentions: false})).toBe('<p>hi @bob</p>');
    });

    it('keeps safe links and classes as React elements', () => {
        expect(html('[docs](/help)')).toBe('<p><a class="theme markdown__link" href="/help" rel="noreferrer" target="_blank">docs</a></p>');
    });
});
