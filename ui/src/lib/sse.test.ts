import { describe, expect, it } from 'vitest';
import { SseParser } from './sse';

describe('SseParser', () => {
  it('reads frames split anywhere, skipping comments and the retry preamble', () => {
    const text = 'retry: 2000\n\nid: 1\nevent: state\ndata: {"a":1}\n\n: keepalive\n\nid: 2\r\nevent: progress\r\ndata: x\r\ndata: y\r\n\r\n';
    for (const size of [1, 2, 5, text.length]) {
      const parser = new SseParser();
      const frames = [];
      for (let i = 0; i < text.length; i += size) frames.push(...parser.push(text.slice(i, i + size)));
      expect(frames).toEqual([
        { id: '1', event: 'state', data: '{"a":1}' },
        { id: '2', event: 'progress', data: 'x\ny' },
      ]);
    }
  });

  it('keeps a frame without its blank line for later', () => {
    const parser = new SseParser();
    expect(parser.push('id: 3\ndata: z\n')).toEqual([]);
    expect(parser.push('\n')).toEqual([{ id: '3', event: 'message', data: 'z' }]);
  });
});
