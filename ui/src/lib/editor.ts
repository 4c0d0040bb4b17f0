// The topology editor: CodeMirror 6 with YAML highlighting, line numbers, undo history and a
// lint gutter marking each diagnostic of POST /networks/validate at its line. This module is
// imported only by the editor screen (dynamic import), so CodeMirror is its own chunk that
// ordinary screens never download.
//
// The editor lives in a shadow root of `parent`: CodeMirror's styles (style-mod) are then
// constructed style sheets adopted by that root, which the server's Content-Security-Policy
// (style-src 'self', no 'unsafe-inline') allows, where a <style> element in the document's
// head would be refused.
//
// The editor grows with its text (no scroller of its own, lines wrap): the page scrolls, so
// no scrollable region needs a focusable element of its own (axe's scrollable-region rule).
//
// Tab is left to the browser (it moves the focus on, so the editor is no keyboard trap); an
// indentation is typed as spaces, which YAML needs anyway.

import { EditorState } from '@codemirror/state';
import { EditorView, highlightActiveLine, keymap, lineNumbers } from '@codemirror/view';
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { defaultHighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { lintGutter, setDiagnostics, type Diagnostic as LintDiagnostic } from '@codemirror/lint';
import { yaml } from '@codemirror/lang-yaml';
import type { TopologyDiagnostic } from './types';
import { lintRange } from './diagnostics';

export interface Editor {
  text(): string;
  /** Replace the whole text (a form's edit), as one undoable change. */
  replace(text: string): void;
  mark(diagnostics: TopologyDiagnostic[]): void;
  /** Put the cursor at the start of `line` (1-based), scroll there and focus the editor. */
  goTo(line: number): void;
  destroy(): void;
}

export function createEditor(
  parent: HTMLElement,
  initial: string,
  { label, onChange }: { label: string; onChange: (text: string) => void },
): Editor {
  const root = parent.shadowRoot ?? parent.attachShadow({ mode: 'open' });
  const view = new EditorView({
    root,
    parent: root,
    state: EditorState.create({
      doc: initial,
      extensions: [
        lineNumbers(),
        highlightActiveLine(),
        history(),
        keymap.of([...defaultKeymap, ...historyKeymap]),
        yaml(),
        syntaxHighlighting(defaultHighlightStyle),
        lintGutter(),
        EditorView.lineWrapping,
        EditorView.theme({
          '&': { minHeight: '20em' },
          '&.cm-focused': { outline: '2px solid #0969da' },
          '.cm-scroller': { fontFamily: 'ui-monospace, monospace', fontSize: '0.9em' },
        }),
        EditorView.contentAttributes.of({ 'aria-label': label, 'data-testid': 'yaml' }),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) onChange(update.state.doc.toString());
        }),
      ],
    }),
  });

  return {
    text: () => view.state.doc.toString(),
    replace(text: string) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
    },
    mark(diagnostics: TopologyDiagnostic[]) {
      const doc = view.state.doc;
      const marks: LintDiagnostic[] = diagnostics.map((d) => {
        const { from, to } = lintRange(
          d,
          (n) => {
            const line = doc.line(Math.min(Math.max(n, 1), doc.lines));
            return { from: line.from, to: line.to };
          },
          doc.lines,
        );
        return {
          from,
          to,
          severity: d.severity === 'warning' ? 'warning' : 'error',
          message: d.hint ? `${d.message}. Fix: ${d.hint}` : d.message,
        };
      });
      view.dispatch(setDiagnostics(view.state, marks));
    },
    goTo(line: number) {
      const target = view.state.doc.line(Math.min(Math.max(line, 1), view.state.doc.lines));
      view.dispatch({ selection: { anchor: target.from }, scrollIntoView: true });
      view.focus();
    },
    destroy: () => view.destroy(),
  };
}
